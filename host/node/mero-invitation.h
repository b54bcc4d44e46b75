/* mero-invitation.h: decoding an invitation string ("mero-invite1:" +
 * base58 of a signed ContextInvitation, see mero-invitation.c) without
 * any node state: sizes and bounds, the group invitation's bytes and
 * signature, the inviter's signature over the whole.  Whether it expired
 * or names another invitee is the joining node's business. */
#pragma once

#include <glib.h>

#include "context/group/mero-group-op.h"

G_BEGIN_DECLS

typedef struct {
  MeroGroupInvitation group;
  guint8 context_id[32];
  char *application;
  GStrv addresses;        /* only those ending in /p2p/<inviter> */
  char *inviter_peer;
} MeroInvitation;

/* MERO_CONTEXTS_ERROR_INVITATION on anything wrong. */
MeroInvitation *mero_invitation_decode (const char *text, GError **error);
void mero_invitation_free (MeroInvitation *invitation);   /* NULL-safe */

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroInvitation, mero_invitation_free)

G_END_DECLS
