/* Fuzz target: what a sync-reconcile peer sends.  The input is one frame
 * body:
 *  - whatever decodes must re-encode to the same bytes (the codec is
 *    canonical: minimal varints, 0/1 flags, no trailing bytes, entities
 *    in their one zstd compression);
 *  - fed as a stream (length-prefixed) to a responder (its RIBLT decoder
 *    peels the symbols against a small real state) and to an initiator
 *    (which merges the entities), it must never crash, and whatever the
 *    sessions merged must leave the state consistent (its root equals the
 *    root of its live entities rebuilt from scratch). */
#include <string.h>

#include "fuzz-target.h"
#include "reconcile-wire.h"
#include "sync-sim.h"

const MeroPluginDescriptor *mero_plugin_sync_reconcile_get_descriptor (void);

static void
check_roundtrip (const uint8_t *data, size_t size)
{
  g_autoptr (ReconcileMsg) m = reconcile_msg_decode (data, size, NULL);
  g_autoptr (GByteArray) out = NULL;

  if (m == NULL)
    return;
  out = g_byte_array_new ();
  reconcile_msg_encode (m, out);
  g_assert_cmpuint (out->len, ==, size + 4);
  g_assert_true (memcmp (out->data + 4, data, size) == 0);
}

static void
feed (SyncSimProtocol *p, SyncSimReplica *r, MeroSyncRole role, const uint8_t *data, size_t size)
{
  MeroSyncHandshake local = { .struct_size = sizeof local };
  MeroSyncHandshake remote = { .struct_size = sizeof remote, .root_hash = { 1 } };
  MeroSyncSessionParams params = { .struct_size = sizeof params };
  MeroSyncSession *s;
  GBytes *out;
  guint32 be = GUINT32_TO_BE ((guint32) size);

  sync_sim_replica_root (r, local.root_hash);
  params.role = role;
  memcpy (params.context_id, sync_sim_context_id, 32);
  params.local = &local;
  params.remote = &remote;
  params.state = sync_sim_replica_handle (r);
  s = p->vtable->session_new (p->plugin_data, &params, NULL);
  g_assert_nonnull (s);
  while ((out = p->vtable->pull_send (s)) != NULL)
    g_bytes_unref (out);
  if (p->vtable->recv (s, (const uint8_t *) &be, 4, 1, NULL))
    p->vtable->recv (s, data, size, 2, NULL);
  while ((out = p->vtable->pull_send (s)) != NULL)
    g_bytes_unref (out);
  p->vtable->session_free (s);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static SyncSimProtocol *p;
  static const SyncSimShape shape = { 24, 8, 2, 2, 3, 20, 30 };
  g_autoptr (GRand) rand = g_rand_new_with_seed (1);
  g_autoptr (SyncSimReplica) a = sync_sim_replica_new (0xa);
  g_autoptr (SyncSimReplica) b = sync_sim_replica_new (0xb);

  if (size > RECONCILE_MAX_FRAME)
    return 0;
  if (p == NULL)
    p = sync_sim_protocol_new (mero_plugin_sync_reconcile_get_descriptor (), NULL);
  check_roundtrip (data, size);
  /* The responder reads its stored prefix (the plugin state index), the
   * initiator's replica has none (the whole-set path). */
  sync_sim_replica_attach_index (a, p);
  sync_sim_populate (a, b, &shape, rand);
  feed (p, a, MERO_SYNC_ROLE_RESPONDER, data, size);
  g_assert_true (sync_sim_is_consistent (a));
  feed (p, b, MERO_SYNC_ROLE_INITIATOR, data, size);
  g_assert_true (sync_sim_is_consistent (b));
  return 0;
}
