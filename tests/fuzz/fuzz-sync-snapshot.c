/* Fuzz target: what a sync-snapshot peer sends.  The input is a stream
 * of frames:
 *  - every frame that decodes re-encodes to a frame that decodes to the
 *    same message (pages are compared entity by entity: zstd output is
 *    not canonical, the other messages byte for byte);
 *  - fed to an initiator on a fresh state (as a responder would answer
 *    it) and to a responder over a small real state, it must never crash;
 *    the initiator's state is either still fresh or, if the session says
 *    DONE, exactly the boundary it was told (the root was checked before
 *    anything was committed), and always consistent. */
#include <string.h>

#include "fuzz-target.h"
#include "context/state/mero-state-snapshot.h"
#include "sync-sim.h"
#include "sync-snapshot-wire.h"

const MeroPluginDescriptor *mero_plugin_sync_snapshot_get_descriptor (void);

static void
check_roundtrip (const uint8_t *data, size_t size)
{
  while (size > 0)
    {
      SyncSnapshotMsg m, again;
      const char *reason = NULL;
      size_t used = 0, used2 = 0, n_used = 0;
      g_autoptr (GBytes) out = NULL;
      const uint8_t *o;
      size_t olen;

      if (sync_snapshot_wire_decode (data, size, &used, &m, &reason, NULL)
          != SYNC_SNAPSHOT_DECODE_MSG)
        return;
      switch (m.type)
        {
        case SYNC_SNAPSHOT_MSG_BOUNDARY:
          out = sync_snapshot_wire_encode_boundary (m.root, m.heads, m.n_heads);
          break;
        case SYNC_SNAPSHOT_MSG_NEXT:
          out = sync_snapshot_wire_encode_next (m.has_cursor ? m.cursor : NULL);
          break;
        case SYNC_SNAPSHOT_MSG_PAGE:
          out = sync_snapshot_wire_encode_page (m.entities, m.n_entities, m.more, &n_used);
          g_assert_cmpuint (n_used, ==, m.n_entities);
          break;
        default:
          out = sync_snapshot_wire_encode_empty (m.type);
          break;
        }
      o = g_bytes_get_data (out, &olen);
      if (m.type != SYNC_SNAPSHOT_MSG_PAGE)
        {
          g_assert_cmpuint (olen, ==, used);
          g_assert_true (memcmp (o, data, used) == 0);
        }
      else
        {
          g_assert_cmpint (sync_snapshot_wire_decode (o, olen, &used2, &again, &reason, NULL),
                           ==, SYNC_SNAPSHOT_DECODE_MSG);
          g_assert_cmpuint (again.n_entities, ==, m.n_entities);
          g_assert_cmpuint (again.raw_len, ==, m.raw_len);
          g_assert_true (m.raw_len == 0 || memcmp (again.raw, m.raw, m.raw_len) == 0);
          sync_snapshot_msg_clear (&again);
        }
      sync_snapshot_msg_clear (&m);
      data += used;
      size -= used;
    }
}

static MeroSyncStatus
feed (SyncSimProtocol *p, SyncSimReplica *r, MeroSyncRole role, const uint8_t *data, size_t size)
{
  MeroSyncHandshake local = { .struct_size = sizeof local };
  MeroSyncHandshake remote = { .struct_size = sizeof remote, .root_hash = { 1 } };
  MeroSyncSessionParams params = { .struct_size = sizeof params };
  MeroSyncSession *s;
  MeroSyncStatus status;
  GBytes *out;

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
  p->vtable->recv (s, data, size, 1, NULL);
  while ((out = p->vtable->pull_send (s)) != NULL)
    g_bytes_unref (out);
  status = p->vtable->status (s);
  p->vtable->session_free (s);
  return status;
}

/* The boundary root of the first frame, if it is a BOUNDARY. */
static gboolean
boundary_of (const uint8_t *data, size_t size, uint8_t root[32])
{
  SyncSnapshotMsg m;
  const char *reason = NULL;
  size_t used = 0;
  gboolean ok = FALSE;

  if (sync_snapshot_wire_decode (data, size, &used, &m, &reason, NULL)
      == SYNC_SNAPSHOT_DECODE_MSG && m.type == SYNC_SNAPSHOT_MSG_BOUNDARY)
    {
      memcpy (root, m.root, 32);
      ok = TRUE;
    }
  sync_snapshot_msg_clear (&m);
  return ok;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static SyncSimProtocol *p;
  static const SyncSimShape shape = { 24, 8, 2, 2, 3, 20, 30 };
  static const uint8_t zero[32];
  uint8_t root[32], boundary[32];

  if (size > 4 * (size_t) SYNC_SNAPSHOT_MAX_FRAME)
    return 0;
  if (p == NULL)
    p = sync_sim_protocol_new (mero_plugin_sync_snapshot_get_descriptor (), NULL);
  check_roundtrip (data, size);

  /* Initiator: only a stream that starts with a BOUNDARY gets further
   * than a refusal, so only then is a state worth building. */
  if (boundary_of (data, size, boundary))
    {
      g_autoptr (SyncSimReplica) fresh = sync_sim_replica_new (0xa);
      MeroSyncStatus status = feed (p, fresh, MERO_SYNC_ROLE_INITIATOR, data, size);

      sync_sim_replica_root (fresh, root);
      if (status == MERO_SYNC_STATUS_DONE)
        g_assert_cmpmem (root, 32, boundary, 32);
      else
        g_assert_cmpmem (root, 32, zero, 32);
      g_assert_true (sync_sim_is_consistent (fresh));
    }
  /* Responder: OPEN and NEXT read the state. */
  if (size > 4 && (data[4] == SYNC_SNAPSHOT_MSG_OPEN || data[4] == SYNC_SNAPSHOT_MSG_NEXT))
    {
      g_autoptr (GRand) rand = g_rand_new_with_seed (1);
      g_autoptr (SyncSimReplica) a = sync_sim_replica_new (0xa);
      g_autoptr (SyncSimReplica) b = sync_sim_replica_new (0xb);

      sync_sim_populate (a, b, &shape, rand);
      feed (p, a, MERO_SYNC_ROLE_RESPONDER, data, size);
      g_assert_true (sync_sim_is_consistent (a));
    }
  return 0;
}
