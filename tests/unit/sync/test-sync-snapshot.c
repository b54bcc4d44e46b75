/* sync-snapshot in the deterministic simulator (sync-sim.h): a fresh
 * replica gets the responder's root and entities (1 .. 100,000 entities,
 * the largest with -m slow); a session cut at a random page resumes from
 * the staged cursor and converges; a tampered page or a wrong announced
 * root commits nothing; a crash marker found at open leaves a fresh state
 * and the snapshot restarts; the responder's pages come from a consistent
 * view whatever it writes meanwhile; a snapshot never goes onto a live
 * state unless the operator asked for a resync.  MERO_TEST_SEED=<n>
 * replays one seed. */
#include <string.h>

#include "context/state/mero-state-access.h"
#include "context/state/mero-state-snapshot.h"
#include "sync-sim.h"
#include "sync-snapshot-core.h"
#include "sync-snapshot-wire.h"

const MeroPluginDescriptor *mero_plugin_sync_snapshot_get_descriptor (void);

static const guint8 zero_root[32];

#define RESUMED "protocol=\"sync-snapshot\",reason=\"cursor\""

/* A responder with @n common entities in collections up to depth 3, with
 * tombstones and updates made after (divergent edits of one side). */
static SyncSimReplica *
make_source (guint n, GRand *rand)
{
  SyncSimShape shape = { .n_common = n, .n_diverge = MAX (n / 10, 1), .max_depth = 3,
                         .n_collections = 3, .pct_delete = 30, .pct_update = 40 };
  g_autoptr (SyncSimReplica) other = sync_sim_replica_new (0xc);
  SyncSimReplica *b = sync_sim_replica_new (0xb);

  sync_sim_populate (other, b, &shape, rand);
  return b;
}

static void
assert_equal (SyncSimReplica *a, SyncSimReplica *b)
{
  guint8 ra[32], rb[32];
  g_autofree char *da = sync_sim_dump_live (a, NULL);
  g_autofree char *db = sync_sim_dump_live (b, NULL);

  sync_sim_replica_root (a, ra);
  sync_sim_replica_root (b, rb);
  g_assert_cmpstr (da, ==, db);
  g_assert_cmpmem (ra, 32, rb, 32);
}

static void
assert_fresh (SyncSimReplica *r)
{
  guint8 root[32];
  gboolean in_progress = TRUE;
  g_autoptr (GError) error = NULL;

  sync_sim_replica_root (r, root);
  g_assert_cmpmem (root, 32, zero_root, 32);
  g_assert_true (mero_state_snapshot_in_progress (sync_sim_replica_state (r), &in_progress,
                                                  &error));
  g_assert_no_error (error);
  g_assert_false (in_progress);
}

static void
test_fresh (gconstpointer data)
{
  guint n = GPOINTER_TO_UINT (data);
  guint32 seed = sync_sim_seed (4242 + n);
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  g_autoptr (MeroMetrics) metrics = mero_metrics_new ();
  g_autoptr (SyncSimProtocol) p = sync_sim_protocol_new (
    mero_plugin_sync_snapshot_get_descriptor (), metrics);
  g_autoptr (SyncSimReplica) a = sync_sim_replica_new (0xa);
  g_autoptr (SyncSimReplica) b = make_source (n, rand);
  SyncSimResult res;
  guint n_live = 0;

  g_test_message ("seed %u (replay with MERO_TEST_SEED=%u)", seed, seed);
  g_free (sync_sim_dump_live (b, &n_live));
  {
    guint8 rb[32];

    /* Something to take (a tombstone alone counts). */
    sync_sim_replica_root (b, rb);
    g_assert_true (memcmp (rb, zero_root, 32) != 0);
  }
  g_assert_true (sync_sim_run (p, a, b, rand, G_MAXUINT64, &res));
  g_assert_cmpint (res.initiator, ==, MERO_SYNC_STATUS_DONE);
  g_assert_cmpint (res.responder, ==, MERO_SYNC_STATUS_DONE);
  assert_equal (a, b);
  g_assert_true (sync_sim_is_consistent (a));
  g_test_message ("%u live: %" G_GUINT64_FORMAT " round trips, %" G_GUINT64_FORMAT
                  " bytes to the initiator", n_live, res.round_trips, res.bytes_to_initiator);
  g_assert_cmpuint (mero_metrics_get_counter (metrics, "mero_sync_snapshot_resumed_total",
                                              RESUMED), ==, 0);
}

static void
handshake_of (SyncSimReplica *r, MeroSyncHandshake *hs)
{
  memset (hs, 0, sizeof *hs);
  hs->struct_size = sizeof *hs;
  sync_sim_replica_root (r, hs->root_hash);
}

/* cost(): applicable (and cheapest) onto a fresh node or with the resync
 * flag only. */
static void
test_cost (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (7);
  g_autoptr (SyncSimProtocol) p = sync_sim_protocol_new (
    mero_plugin_sync_snapshot_get_descriptor (), NULL);
  g_autoptr (SyncSimReplica) fresh = sync_sim_replica_new (0xa);
  g_autoptr (SyncSimReplica) b = make_source (50, rand);
  g_autoptr (SyncSimReplica) c = make_source (60, rand);
  MeroSyncHandshake hf, hb, hc, old;

  handshake_of (fresh, &hf);
  handshake_of (b, &hb);
  handshake_of (c, &hc);
  g_assert_cmpuint (p->vtable->cost (p->plugin_data, &hf, &hb), ==, SYNC_SNAPSHOT_COST);
  g_assert_cmpuint (p->vtable->cost (p->plugin_data, &hc, &hb), ==,
                    MERO_SYNC_COST_NOT_APPLICABLE);
  g_assert_cmpuint (p->vtable->cost (p->plugin_data, &hb, &hf), ==,
                    MERO_SYNC_COST_NOT_APPLICABLE);
  g_assert_cmpuint (p->vtable->cost (p->plugin_data, &hb, &hb), ==,
                    MERO_SYNC_COST_NOT_APPLICABLE);
  hc.flags = MERO_SYNC_HANDSHAKE_RESYNC;
  g_assert_cmpuint (p->vtable->cost (p->plugin_data, &hc, &hb), ==, SYNC_SNAPSHOT_COST);
  /* A 1.0 handshake has no flags: never read past its struct_size. */
  old = hc;
  old.struct_size = G_STRUCT_OFFSET (MeroSyncHandshake, flags);
  g_assert_cmpuint (p->vtable->cost (p->plugin_data, &old, &hb), ==,
                    MERO_SYNC_COST_NOT_APPLICABLE);
}

/* Total bytes of an uncut session from @b onto a fresh replica. */
static guint64
full_session_bytes (SyncSimProtocol *p, SyncSimReplica *b, GRand *rand, guint64 *to_initiator)
{
  g_autoptr (SyncSimReplica) a = sync_sim_replica_new (0xd);
  SyncSimResult res;

  g_assert_true (sync_sim_run (p, a, b, rand, G_MAXUINT64, &res));
  g_assert_cmpint (res.initiator, ==, MERO_SYNC_STATUS_DONE);
  *to_initiator = res.bytes_to_initiator;
  return res.bytes_to_responder + res.bytes_to_initiator;
}

/* A session cut in the middle of the pages (peer gone) commits nothing;
 * the retry resumes from the last staged page (counted, and it moves
 * fewer bytes than a whole snapshot) and converges. */
static void
test_cut_resumes (void)
{
  guint32 seed = sync_sim_seed (99);
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  g_autoptr (MeroMetrics) metrics = mero_metrics_new ();
  g_autoptr (SyncSimProtocol) p = sync_sim_protocol_new (
    mero_plugin_sync_snapshot_get_descriptor (), metrics);
  g_autoptr (SyncSimReplica) a = sync_sim_replica_new (0xa);
  g_autoptr (SyncSimReplica) b = make_source (20000, rand);
  guint64 full_to_initiator = 0;
  guint64 total = full_session_bytes (p, b, rand, &full_to_initiator);
  guint64 cut = total / 4 + (guint64) g_rand_int_range (rand, 0, (gint32) (total / 2));
  SyncSimResult res;
  gboolean in_progress = FALSE;
  g_autoptr (GError) error = NULL;

  g_test_message ("seed %u: cut after %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " bytes",
                  seed, cut, total);
  g_assert_true (sync_sim_run (p, a, b, rand, cut, &res));
  g_assert_true (res.cut);
  /* Nothing reached the state; the staged pages wait for the retry. */
  {
    guint8 root[32];

    sync_sim_replica_root (a, root);
    g_assert_cmpmem (root, 32, zero_root, 32);
  }
  g_assert_true (mero_state_snapshot_in_progress (sync_sim_replica_state (a), &in_progress,
                                                  &error));
  g_assert_true (in_progress);

  g_assert_true (sync_sim_run (p, a, b, rand, G_MAXUINT64, &res));
  g_assert_cmpint (res.initiator, ==, MERO_SYNC_STATUS_DONE);
  assert_equal (a, b);
  g_assert_true (sync_sim_is_consistent (a));
  g_assert_true (mero_state_snapshot_in_progress (sync_sim_replica_state (a), &in_progress,
                                                  &error));
  g_assert_false (in_progress);
  g_assert_cmpuint (mero_metrics_get_counter (metrics, "mero_sync_snapshot_resumed_total",
                                              RESUMED), ==, 1);
  g_assert_cmpuint (res.bytes_to_initiator, <, full_to_initiator);
}

/* Drives one session by hand, letting @tamper rewrite each frame the
 * responder sends. */
typedef GBytes *(*TamperFunc) (GBytes *frame);

static void
run_tampered (SyncSimProtocol *p, SyncSimReplica *a, SyncSimReplica *b, TamperFunc tamper,
              MeroSyncStatus *initiator_status, GError **initiator_error)
{
  const MeroSyncProtocolVTable *vt = p->vtable;
  MeroSyncHandshake ha, hb;
  MeroSyncSessionParams pa = { .struct_size = sizeof pa }, pb = { .struct_size = sizeof pb };
  MeroSyncSession *si, *sr;
  g_autoptr (GError) error = NULL;
  gboolean failed = FALSE;

  handshake_of (a, &ha);
  handshake_of (b, &hb);
  pa.role = MERO_SYNC_ROLE_INITIATOR;
  pb.role = MERO_SYNC_ROLE_RESPONDER;
  memcpy (pa.context_id, sync_sim_context_id, 32);
  memcpy (pb.context_id, sync_sim_context_id, 32);
  pa.peer_id = pb.peer_id = "sim";
  pa.local = pb.remote = &ha;
  pa.remote = pb.local = &hb;
  pa.state = sync_sim_replica_handle (a);
  pb.state = sync_sim_replica_handle (b);
  si = vt->session_new (p->plugin_data, &pa, &error);
  g_assert_no_error (error);
  sr = vt->session_new (p->plugin_data, &pb, &error);
  g_assert_no_error (error);
  for (guint step = 0; step < 10000 && !failed && vt->status (si) == MERO_SYNC_STATUS_RUNNING;
       step++)
    {
      GBytes *f;

      while ((f = vt->pull_send (si)) != NULL)
        {
          gsize len;
          const guint8 *d = g_bytes_get_data (f, &len);

          g_assert_true (vt->recv (sr, d, len, 0, &error));
          g_bytes_unref (f);
        }
      while (!failed && (f = vt->pull_send (sr)) != NULL)
        {
          g_autoptr (GBytes) t = tamper (f);
          gsize len;
          const guint8 *d = g_bytes_get_data (t, &len);

          if (!vt->recv (si, d, len, 0, initiator_error))
            failed = TRUE;
        }
    }
  *initiator_status = vt->status (si);
  vt->session_free (si);
  vt->session_free (sr);
}

/* The last page with the data of its first entity changed (re-encoded,
 * so it decodes fine): only the root check can catch it. */
static GBytes *
tamper_last_page (GBytes *frame)
{
  const guint8 *d;
  gsize len, used = 0, n_used = 0;
  SyncSnapshotMsg m;
  const char *reason = NULL;
  g_autoptr (GError) error = NULL;
  GBytes *out;
  guint8 *data;

  d = g_bytes_get_data (frame, &len);
  g_assert_cmpint (sync_snapshot_wire_decode (d, len, &used, &m, &reason, &error), ==,
                   SYNC_SNAPSHOT_DECODE_MSG);
  if (m.type != SYNC_SNAPSHOT_MSG_PAGE || m.more)
    {
      sync_snapshot_msg_clear (&m);
      return frame;
    }
  for (gsize i = 0; i < m.n_entities; i++)
    if (m.entities[i].data_len > 0)
      {
        data = (guint8 *) m.entities[i].data;
        data[0] ^= 0x5a;
        break;
      }
  out = sync_snapshot_wire_encode_page (m.entities, m.n_entities, FALSE, &n_used);
  g_assert_cmpuint (n_used, ==, m.n_entities);
  sync_snapshot_msg_clear (&m);
  g_bytes_unref (frame);
  return out;
}

/* The boundary announces another root than the pages make. */
static GBytes *
tamper_boundary_root (GBytes *frame)
{
  gsize len;
  guint8 *d = g_bytes_unref_to_data (frame, &len);

  if (len > 5 && d[4] == SYNC_SNAPSHOT_MSG_BOUNDARY)
    d[5] ^= 0x01;
  return g_bytes_new_take (d, len);
}

static void
test_tampered (gconstpointer data)
{
  TamperFunc tamper = GPOINTER_TO_INT (data) == 0 ? tamper_last_page : tamper_boundary_root;
  g_autoptr (GRand) rand = g_rand_new_with_seed (sync_sim_seed (31));
  g_autoptr (MeroMetrics) metrics = mero_metrics_new ();
  g_autoptr (SyncSimProtocol) p = sync_sim_protocol_new (
    mero_plugin_sync_snapshot_get_descriptor (), metrics);
  g_autoptr (SyncSimReplica) a = sync_sim_replica_new (0xa);
  g_autoptr (SyncSimReplica) b = make_source (5000, rand);
  g_autoptr (GError) error = NULL;
  MeroSyncStatus status;
  SyncSimResult res;

  run_tampered (p, a, b, tamper, &status, &error);
  g_assert_cmpint (status, ==, MERO_SYNC_STATUS_FAILED);
  g_assert_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_PROTOCOL);
  g_assert_cmpuint (
      mero_metrics_get_counter (metrics, "mero_sync_failures_total",
                                "protocol=\"sync-snapshot\",reason=\"root-mismatch\""),
      ==, 1);
  /* Nothing committed and nothing left staged. */
  assert_fresh (a);
  g_assert_true (sync_sim_is_consistent (a));
  /* An honest retry takes the whole snapshot. */
  g_assert_true (sync_sim_run (p, a, b, rand, G_MAXUINT64, &res));
  g_assert_cmpint (res.initiator, ==, MERO_SYNC_STATUS_DONE);
  assert_equal (a, b);
}

/* A crash half-way leaves the marker; opening the context (the delta
 * store calls mero_state_snapshot_recover) drops the staging, the state
 * is fresh and the next snapshot starts from the first page. */
static void
test_crash_marker (void)
{
  const MeroStateAccess *sa = mero_state_access_get ();
  g_autoptr (GRand) rand = g_rand_new_with_seed (sync_sim_seed (5));
  g_autoptr (MeroMetrics) metrics = mero_metrics_new ();
  g_autoptr (SyncSimProtocol) p = sync_sim_protocol_new (
    mero_plugin_sync_snapshot_get_descriptor (), metrics);
  g_autoptr (SyncSimReplica) a = sync_sim_replica_new (0xa);
  g_autoptr (SyncSimReplica) b = make_source (3000, rand);
  g_autoptr (GError) error = NULL;
  MeroStateReadView *view;
  MeroSnapshotWriter *w;
  MeroStateEntity page[500];
  guint8 root[32], cursor[32];
  const guint8 *heads;
  gsize n_heads, n = 0;
  gboolean more = FALSE, resumed = TRUE, recovered = FALSE, in_progress = FALSE;
  SyncSimResult res;

  view = sa->read_view_new (sync_sim_replica_handle (b), &error);
  g_assert_no_error (error);
  sa->read_view_boundary (view, root, &heads, &n_heads);
  w = sa->snapshot_begin (sync_sim_replica_handle (a), root, FALSE, cursor, &resumed, &error);
  g_assert_no_error (error);
  g_assert_false (resumed);
  g_assert_true (sa->read_view_page (view, NULL, page, G_N_ELEMENTS (page), &n, &more, &error));
  g_assert_true (more);
  g_assert_true (sa->snapshot_put_page (w, page, n, &error));
  g_assert_no_error (error);
  /* The crash: the writer goes without commit or abort. */
  sa->snapshot_free (w);
  sa->read_view_free (view);
  g_assert_true (mero_state_snapshot_in_progress (sync_sim_replica_state (a), &in_progress,
                                                  &error));
  g_assert_true (in_progress);

  g_assert_true (mero_state_snapshot_recover (sync_sim_replica_state (a), &recovered, &error));
  g_assert_no_error (error);
  g_assert_true (recovered);
  assert_fresh (a);
  g_assert_true (mero_state_snapshot_recover (sync_sim_replica_state (a), &recovered, &error));
  g_assert_false (recovered);

  g_assert_true (sync_sim_run (p, a, b, rand, G_MAXUINT64, &res));
  g_assert_cmpint (res.initiator, ==, MERO_SYNC_STATUS_DONE);
  assert_equal (a, b);
  /* Restarted, not resumed. */
  g_assert_cmpuint (mero_metrics_get_counter (metrics, "mero_sync_snapshot_resumed_total",
                                              RESUMED), ==, 0);
}

/* An operator resync replaces a live, divergent state: the marker is set
 * with the state wiped, so a crash then also leaves a fresh state. */
static void
test_resync (void)
{
  const MeroStateAccess *sa = mero_state_access_get ();
  g_autoptr (GRand) rand = g_rand_new_with_seed (sync_sim_seed (6));
  g_autoptr (SyncSimProtocol) p = sync_sim_protocol_new (
    mero_plugin_sync_snapshot_get_descriptor (), NULL);
  g_autoptr (SyncSimReplica) b = make_source (2000, rand);
  g_autoptr (SyncSimReplica) c = make_source (700, rand);
  g_autoptr (GError) error = NULL;
  const MeroSyncProtocolVTable *vt = p->vtable;
  MeroSyncHandshake hc, hb;
  MeroSyncSessionParams pc = { .struct_size = sizeof pc };
  guint8 root[32], cursor[32];
  gboolean resumed, recovered = FALSE;
  MeroSnapshotWriter *w;
  MeroSyncSession *s;

  /* Without the flag the writer and the session refuse a live state. */
  sync_sim_replica_root (b, root);
  w = sa->snapshot_begin (sync_sim_replica_handle (c), root, FALSE, cursor, &resumed, &error);
  g_assert_null (w);
  g_assert_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_REFUSED);
  g_clear_error (&error);
  handshake_of (c, &hc);
  handshake_of (b, &hb);
  pc.role = MERO_SYNC_ROLE_INITIATOR;
  pc.local = &hc;
  pc.remote = &hb;
  pc.state = sync_sim_replica_handle (c);
  s = vt->session_new (p->plugin_data, &pc, &error);
  g_assert_null (s);
  g_assert_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_UNSUPPORTED);
  g_clear_error (&error);

  /* With it: begun and crashed at once, the state is wiped. */
  w = sa->snapshot_begin (sync_sim_replica_handle (c), root, TRUE, cursor, &resumed, &error);
  g_assert_no_error (error);
  sa->snapshot_free (w);
  g_assert_true (mero_state_snapshot_recover (sync_sim_replica_state (c), &recovered, &error));
  g_assert_true (recovered);
  assert_fresh (c);
}

/* The resync through the plugin, end to end. */
static void
test_resync_session (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (sync_sim_seed (8));
  g_autoptr (SyncSimProtocol) p = sync_sim_protocol_new (
    mero_plugin_sync_snapshot_get_descriptor (), NULL);
  g_autoptr (SyncSimReplica) b = make_source (2000, rand);
  g_autoptr (SyncSimReplica) c = make_source (900, rand);
  g_autoptr (GError) error = NULL;
  MeroSyncStatus status;

  /* The flag goes in through the initiator's own handshake. */
  {
    const MeroSyncProtocolVTable *vt = p->vtable;
    MeroSyncHandshake hc, hb;
    MeroSyncSessionParams pc = { .struct_size = sizeof pc }, pb = { .struct_size = sizeof pb };
    MeroSyncSession *si, *sr;
    GBytes *f;

    handshake_of (c, &hc);
    handshake_of (b, &hb);
    hc.flags = MERO_SYNC_HANDSHAKE_RESYNC;
    pc.role = MERO_SYNC_ROLE_INITIATOR;
    pb.role = MERO_SYNC_ROLE_RESPONDER;
    pc.local = pb.remote = &hc;
    pc.remote = pb.local = &hb;
    pc.state = sync_sim_replica_handle (c);
    pb.state = sync_sim_replica_handle (b);
    si = vt->session_new (p->plugin_data, &pc, &error);
    g_assert_no_error (error);
    sr = vt->session_new (p->plugin_data, &pb, &error);
    g_assert_no_error (error);
    for (guint step = 0; step < 1000 && vt->status (si) == MERO_SYNC_STATUS_RUNNING; step++)
      {
        while ((f = vt->pull_send (si)) != NULL)
          {
            g_assert_true (vt->recv (sr, g_bytes_get_data (f, NULL), g_bytes_get_size (f), 0,
                                     &error));
            g_bytes_unref (f);
          }
        while ((f = vt->pull_send (sr)) != NULL)
          {
            g_assert_true (vt->recv (si, g_bytes_get_data (f, NULL), g_bytes_get_size (f), 0,
                                     &error));
            g_bytes_unref (f);
          }
      }
    status = vt->status (si);
    vt->session_free (si);
    vt->session_free (sr);
  }
  g_assert_cmpint (status, ==, MERO_SYNC_STATUS_DONE);
  assert_equal (c, b);
  g_assert_true (sync_sim_is_consistent (c));
}

static gboolean
is_page (GBytes *f)
{
  return g_bytes_get_size (f) > 4 && ((const guint8 *) g_bytes_get_data (f, NULL))[4]
                                       == SYNC_SNAPSHOT_MSG_PAGE;
}

/* The responder's pages come from the view taken at OPEN: entities it
 * adds during the session are not in the snapshot, so the initiator ends
 * at the boundary root (not a torn mix), and a later sync takes the rest. */
static void
test_consistent_view (void)
{
  const MeroStateAccess *sa = mero_state_access_get ();
  g_autoptr (GRand) rand = g_rand_new_with_seed (sync_sim_seed (12));
  g_autoptr (SyncSimProtocol) p = sync_sim_protocol_new (
    mero_plugin_sync_snapshot_get_descriptor (), NULL);
  g_autoptr (SyncSimReplica) a = sync_sim_replica_new (0xa);
  g_autoptr (SyncSimReplica) b = make_source (6000, rand);
  g_autoptr (GError) error = NULL;
  const MeroSyncProtocolVTable *vt = p->vtable;
  MeroSyncHandshake ha, hb;
  MeroSyncSessionParams pa = { .struct_size = sizeof pa }, pb = { .struct_size = sizeof pb };
  MeroSyncSession *si, *sr;
  guint8 boundary[32], ra[32], rb[32];
  guint pages = 0;
  GBytes *f;

  sync_sim_replica_root (b, boundary);
  handshake_of (a, &ha);
  handshake_of (b, &hb);
  pa.role = MERO_SYNC_ROLE_INITIATOR;
  pb.role = MERO_SYNC_ROLE_RESPONDER;
  pa.local = pb.remote = &ha;
  pa.remote = pb.local = &hb;
  pa.state = sync_sim_replica_handle (a);
  pb.state = sync_sim_replica_handle (b);
  si = vt->session_new (p->plugin_data, &pa, &error);
  sr = vt->session_new (p->plugin_data, &pb, &error);
  g_assert_no_error (error);
  for (guint step = 0; step < 1000 && vt->status (si) == MERO_SYNC_STATUS_RUNNING; step++)
    {
      while ((f = vt->pull_send (si)) != NULL)
        {
          g_assert_true (vt->recv (sr, g_bytes_get_data (f, NULL), g_bytes_get_size (f), 0,
                                   &error));
          g_bytes_unref (f);
        }
      while ((f = vt->pull_send (sr)) != NULL)
        {
          if (is_page (f) && pages++ == 0)
            {
              /* Writes on the responder after its first page: entities
               * with ids all over the key space (later pages too). */
              MeroStateWriter *w = sa->writer_new (sync_sim_replica_handle (b));

              for (guint i = 0; i < 200; i++)
                {
                  MeroStateEntity e = { .struct_size = sizeof e, .crdt_type = 1 };
                  guint8 payload[8] = { 1, 2, 3, 4, 5, 6, 7, (guint8) i };

                  for (guint k = 0; k < 32; k += 4)
                    {
                      guint32 r = g_rand_int (rand);

                      memcpy (e.id + k, &r, 4);
                    }
                  memcpy (e.parent_id, sync_sim_context_id, 32);
                  e.updated_at = G_GUINT64_CONSTANT (1) << 60;
                  e.updated_node = 0xb;
                  e.data = payload;
                  e.data_len = sizeof payload;
                  g_assert_true (sa->writer_merge (w, &e, &error));
                }
              g_assert_true (sa->writer_commit (w, NULL, &error));
              sa->writer_free (w);
            }
          g_assert_true (vt->recv (si, g_bytes_get_data (f, NULL), g_bytes_get_size (f), 0,
                                   &error));
          g_bytes_unref (f);
        }
    }
  g_assert_cmpint (vt->status (si), ==, MERO_SYNC_STATUS_DONE);
  g_assert_cmpuint (pages, >, 1);
  vt->session_free (si);
  vt->session_free (sr);
  sync_sim_replica_root (a, ra);
  sync_sim_replica_root (b, rb);
  g_assert_cmpmem (ra, 32, boundary, 32);
  g_assert_true (memcmp (rb, boundary, 32) != 0);
  g_assert_true (sync_sim_is_consistent (a));
}

int
main (int argc, char **argv)
{
  static const guint sizes[] = { 1, 10, 1000, 10000 };
  gboolean slow;

  g_test_init (&argc, &argv, NULL);
  slow = g_test_slow () || g_getenv ("MERO_TEST_SLOW") != NULL;
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autofree char *path = g_strdup_printf ("/sync-snapshot/fresh/%u", sizes[i]);

      g_test_add_data_func (path, GUINT_TO_POINTER (sizes[i]), test_fresh);
    }
  if (slow)
    g_test_add_data_func ("/sync-snapshot/fresh/100000", GUINT_TO_POINTER (100000), test_fresh);
  g_test_add_func ("/sync-snapshot/cost", test_cost);
  g_test_add_func ("/sync-snapshot/cut-resumes", test_cut_resumes);
  g_test_add_data_func ("/sync-snapshot/tampered-page", GINT_TO_POINTER (0),
                        test_tampered);
  g_test_add_data_func ("/sync-snapshot/wrong-boundary-root",
                        GINT_TO_POINTER (1), test_tampered);
  g_test_add_func ("/sync-snapshot/crash-marker", test_crash_marker);
  g_test_add_func ("/sync-snapshot/resync", test_resync);
  g_test_add_func ("/sync-snapshot/resync-session", test_resync_session);
  g_test_add_func ("/sync-snapshot/consistent-view", test_consistent_view);
  return g_test_run ();
}
