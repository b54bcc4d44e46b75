/* mero-blob-public.c: the marks that make a blob public to a context
 * (see "public to a context" in mero-blob-manager.h).
 *
 * One store record per (context, blob): GENERIC ctx[32] || "blob-public/"
 * || id[32], value one byte.  Keyed by context first so that a context's
 * marks sit together with its other GENERIC records. */
#define G_LOG_DOMAIN "merod"
#include "blob/mero-blob-manager-private.h"

#include <glib/gi18n.h>
#include <string.h>

#define PUBLIC_FRAGMENT "blob-public/"
#define PUBLIC_FRAGMENT_LEN (sizeof PUBLIC_FRAGMENT - 1)
/* What a mark holds: its presence is the information. */
#define PUBLIC_VALUE 0x01

static MeroKey
public_key (const guint8 *context, const guint8 *id)
{
  guint8 fragment[PUBLIC_FRAGMENT_LEN + MERO_BLOB_ID_LEN];
  MeroKey key;

  memcpy (fragment, PUBLIC_FRAGMENT, PUBLIC_FRAGMENT_LEN);
  memcpy (fragment + PUBLIC_FRAGMENT_LEN, id, MERO_BLOB_ID_LEN);
  /* Fixed width, far below MERO_KEY_MAX: cannot fail. */
  if (!mero_key_generic (&key, context, fragment, sizeof fragment))
    g_assert_not_reached ();
  return key;
}

/* Marks change outside the committer, so they need the same guard as
 * record reads: after mero_blob_manager_free the store may be gone. */
static gboolean
check_open (MeroBlobManager *self, GError **error)
{
  if (!self->closed)
    return TRUE;
  g_set_error_literal (error, MERO_BLOB_ERROR, MERO_BLOB_ERROR_CLOSED, _("The node is stopping"));
  return FALSE;
}

gboolean
mero_blob_manager_set_public (MeroBlobManager *self, const guint8 context[MERO_KEY_ID_LEN],
                              const guint8 id[MERO_BLOB_ID_LEN], GError **error)
{
  static const guint8 value = PUBLIC_VALUE;
  MeroKey key;

  g_return_val_if_fail (self != NULL && context != NULL && id != NULL, FALSE);
  if (!check_open (self, error))
    return FALSE;
  key = public_key (context, id);
  return mero_store_put (self->store, &key, &value, 1, error);
}

gboolean
mero_blob_manager_clear_public (MeroBlobManager *self, const guint8 context[MERO_KEY_ID_LEN],
                                const guint8 id[MERO_BLOB_ID_LEN], GError **error)
{
  MeroKey key;

  g_return_val_if_fail (self != NULL && context != NULL && id != NULL, FALSE);
  if (!check_open (self, error))
    return FALSE;
  key = public_key (context, id);
  return mero_store_delete (self->store, &key, error);
}

gboolean
mero_blob_manager_is_public (MeroBlobManager *self, const guint8 context[MERO_KEY_ID_LEN],
                             const guint8 id[MERO_BLOB_ID_LEN], gboolean *is_public,
                             GError **error)
{
  g_autoptr (GBytes) value = NULL;
  MeroKey key;

  g_return_val_if_fail (self != NULL && context != NULL && id != NULL, FALSE);
  g_return_val_if_fail (is_public != NULL, FALSE);
  *is_public = FALSE;
  if (!check_open (self, error))
    return FALSE;
  key = public_key (context, id);
  if (!mero_store_get (self->store, &key, &value, error))
    return FALSE;
  *is_public = value != NULL;
  return TRUE;
}
