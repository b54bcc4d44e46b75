/* Fuzz target: the delta decoders (host/context/delta).  Input is tried
 * both as a DeltaEnvelope (opened with a fixed context and key, so seeds
 * signed with the fixed author below reach decryption and the body) and
 * as a bare DeltaBody; a body that decodes must re-encode to one that
 * decodes to the same parents, timestamp and actions.
 *
 * Built from tests/unit/context/meson.build (it needs the host library,
 * not only the net cores); seeds in tests/fuzz/corpus/delta. */
#include <string.h>

#include "context/delta/mero-delta-body.h"
#include "context/delta/mero-delta-envelope.h"
#include "fuzz-target.h"

/* Shared with the seed generator: context id and key of the seeds. */
static const guint8 fuzz_context[32] = { 'f', 'u', 'z', 'z', '-', 'c', 't', 'x' };
static const guint8 fuzz_key[32] = { 'f', 'u', 'z', 'z', '-', 'k', 'e', 'y' };

static const guint8 *
lookup (const guint8 key_id[32], gpointer user_data)
{
  return fuzz_key;
}

static void
check_body (const guint8 *data, gsize size)
{
  g_autoptr (MeroDeltaBody) body = mero_delta_body_decode (data, size, NULL);
  g_autoptr (MeroDeltaBody) again = NULL;
  g_autoptr (GBytes) re = NULL;
  g_autofree guint8 *parents = NULL;
  g_autofree MeroAction *actions = NULL;
  guint np, na;

  if (body == NULL)
    return;
  np = mero_delta_body_n_parents (body);
  na = mero_delta_body_n_actions (body);
  parents = g_malloc (MAX (np, 1) * 32);
  actions = g_new0 (MeroAction, MAX (na, 1));
  for (guint i = 0; i < np; i++)
    memcpy (parents + i * 32, mero_delta_body_parent (body, i), 32);
  for (guint i = 0; i < na; i++)
    actions[i] = *mero_delta_body_action (body, i);
  re = mero_delta_body_encode (parents, np, mero_delta_body_hlc (body), actions, na, NULL);
  /* A body that decoded within the bounds re-encodes within them. */
  g_assert_nonnull (re);
  again = mero_delta_body_decode (g_bytes_get_data (re, NULL), g_bytes_get_size (re), NULL);
  g_assert_nonnull (again);
  g_assert_cmpuint (mero_delta_body_n_parents (again), ==, np);
  g_assert_cmpuint (mero_delta_body_n_actions (again), ==, na);
  g_assert_cmpint (mero_hlc_compare (mero_delta_body_hlc (again), mero_delta_body_hlc (body)),
                   ==, 0);
  for (guint i = 0; i < na; i++)
    {
      const MeroAction *a = mero_delta_body_action (body, i);
      const MeroAction *b = mero_delta_body_action (again, i);

      g_assert_cmpint (a->kind, ==, b->kind);
      g_assert_cmpmem (a->id, 32, b->id, 32);
      g_assert_cmpuint (a->data_len, ==, b->data_len);
      if (a->data_len > 0)
        g_assert_true (memcmp (a->data, b->data, a->data_len) == 0);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (MeroDeltaOpened) opened = mero_delta_envelope_open (data, size, fuzz_context, lookup,
                                                                 NULL, NULL);

  if (opened != NULL)
    check_body (g_bytes_get_data (opened->body, NULL), g_bytes_get_size (opened->body));
  check_body (data, size);
  return 0;
}
