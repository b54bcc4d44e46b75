/* mero-home.h: the node's home directory.
 *
 *   <home>/merod.conf     configuration (host/config)
 *   <home>/identity.key   Ed25519 identity, mode 0600 (mero-identity.h)
 *   <home>/merod.lock     held by the running node (mero-home-lock.h)
 *   <home>/<store.path>   the database (default "data")
 *
 * The home itself is created with mode 0700. */
#pragma once

#include <glib.h>

#include "node/mero-identity.h"

G_BEGIN_DECLS

/* TRUE if @home does not exist or holds nothing but a lock file:
 * `merod run` initialises such a home instead of failing on a missing
 * config. */
gboolean mero_home_is_fresh (const char *home);

/* Creates @home (0700) and writes merod.conf and identity.key.  An
 * existing merod.conf is an error unless @force; an existing valid
 * identity is always kept (its PeerId is the node's name on the network;
 * delete identity.key to get a new one).  Returns (transfer full) the
 * node's identity. */
MeroIdentity *mero_home_init (const char *home, gboolean force, GError **error);

/* (transfer full) <home>/identity.key */
char *mero_home_identity_path (const char *home);

G_END_DECLS
