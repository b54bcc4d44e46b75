/* sync-sim.c: see sync-sim.h. */
#include "sync-sim.h"

#include <string.h>

#include "context/state/mero-state-access.h"
#include "context/state/mero-state-index.h"
#include "plugin/mero-host-services.h"
#include "store-memory-core.h"
#include "store/mero-store-keys.h"
#include "store/mero-store.h"

const guint8 sync_sim_context_id[32] = { 0x5c, 0x11, 0x0c, 0x7e, 1, 2, 3, 4 };

/* Adds are applied in txns of this many actions (as deltas would be). */
#define APPLY_BATCH 1000u
/* Shuttle steps before a run is declared stuck. */
#define MAX_STEPS 200000u
/* Simulated time per shuttle step. */
#define STEP_US 1000

typedef struct {
  guint8 id[32];
  guint8 parent[32];
  gboolean collection;
  guint depth;
} ModelEntity;

struct _SyncSimReplica {
  MeroStore *store;
  MeroState *state;
  MeroStateHandle *handle;
  guint64 node;
  /* Entities this replica has (id -> ModelEntity, borrowed from the
   * populate run's model). */
  GHashTable *has;
};

SyncSimReplica *
sync_sim_replica_new (guint64 writer_node)
{
  SyncSimReplica *r = g_new0 (SyncSimReplica, 1);
  g_autoptr (GError) error = NULL;

  r->store = mero_store_open (&mero_store_memory_vtable, NULL, "memory", NULL, &error);
  g_assert_no_error (error);
  r->state = mero_state_new (r->store, sync_sim_context_id);
  r->handle = mero_state_handle_new (r->state, NULL);
  r->node = writer_node;
  r->has = g_hash_table_new_full (mero_id_hash, mero_id_equal, NULL, g_free);
  return r;
}

void
sync_sim_replica_free (SyncSimReplica *r)
{
  if (r == NULL)
    return;
  g_hash_table_unref (r->has);
  mero_state_handle_free (r->handle);
  mero_state_free (r->state);
  mero_store_close (r->store);
  g_free (r);
}

static gboolean
is_empty (SyncSimReplica *r)
{
  guint8 root[32];
  static const guint8 zero[32];

  sync_sim_replica_root (r, root);
  return memcmp (root, zero, 32) == 0;
}

/* Every record of @from's store into @to's (empty) store. */
static void
copy_store (SyncSimReplica *from, SyncSimReplica *to)
{
  g_autoptr (MeroStoreBatch) batch = mero_store_batch_new (to->store);
  g_autoptr (GError) error = NULL;

  /* Every record of every column, as the store holds it. */
  for (guint col = 0; col < MERO_N_COLUMNS; col++)
    {
      MeroKey prefix = mero_key_prefix_column ((MeroColumn) col);
      g_autoptr (MeroStoreIter) it = mero_store_iter_new (from->store, NULL, &prefix);

      for (gboolean ok = mero_store_iter_first (it); ok; ok = mero_store_iter_next (it))
        {
          gsize len = 0;
          const guint8 *kb = mero_store_iter_key (it, &len);
          g_autoptr (GBytes) value = mero_store_iter_value (it);
          MeroKey k;

          g_assert_true (mero_key_from_bytes (&k, (MeroColumn) col, kb, len));
          mero_store_batch_put (batch, &k, g_bytes_get_data (value, NULL),
                                g_bytes_get_size (value));
        }
      g_assert_true (mero_store_iter_check (it, &error));
    }
  g_assert_true (mero_store_batch_commit (batch, &error));
  g_assert_no_error (error);
}

SyncSimReplica *
sync_sim_replica_clone (SyncSimReplica *r)
{
  SyncSimReplica *c = sync_sim_replica_new (r->node);
  GHashTableIter hit;
  gpointer v;

  copy_store (r, c);
  g_hash_table_iter_init (&hit, r->has);
  while (g_hash_table_iter_next (&hit, NULL, &v))
    {
      ModelEntity *m = g_memdup2 (v, sizeof (ModelEntity));

      g_hash_table_insert (c->has, m->id, m);
    }
  return c;
}

MeroState *
sync_sim_replica_state (SyncSimReplica *r)
{
  return r->state;
}

MeroStateHandle *
sync_sim_replica_handle (SyncSimReplica *r)
{
  return r->handle;
}

void
sync_sim_replica_root (SyncSimReplica *r, guint8 out[32])
{
  g_autoptr (GError) error = NULL;

  mero_state_root_hash (r->state, out, &error);
  g_assert_no_error (error);
}

guint32
sync_sim_seed (guint32 fallback)
{
  const char *env = g_getenv ("MERO_TEST_SEED");

  return env != NULL ? (guint32) g_ascii_strtoull (env, NULL, 10) : fallback;
}

/* ---- edits ---------------------------------------------------------------- */

typedef struct {
  MeroAction action;
  MeroHlc ts;
  GBytes *data;
} Op;

static void
op_clear (gpointer p)
{
  Op *op = p;

  g_clear_pointer (&op->data, g_bytes_unref);
}

static void
apply_ops (SyncSimReplica *r, GArray *ops)
{
  for (guint start = 0; start < ops->len; start += APPLY_BATCH)
    {
      g_autoptr (MeroStateTxn) txn = mero_state_txn_new (r->state);
      g_autoptr (MeroStoreBatch) batch = mero_store_batch_new (r->store);
      g_autoptr (GError) error = NULL;
      guint8 root[32];

      for (guint i = start; i < ops->len && i < start + APPLY_BATCH; i++)
        {
          Op *op = &g_array_index (ops, Op, i);

          mero_state_txn_apply (txn, &op->action, &op->ts, &error);
          g_assert_no_error (error);
        }
      mero_state_txn_finish (txn, batch, root, &error);
      g_assert_no_error (error);
      mero_store_batch_commit (batch, &error);
      g_assert_no_error (error);
    }
}

typedef struct {
  GRand *rand;
  guint64 clock;              /* physical ms of the next write */
  GPtrArray *model;           /* ModelEntity *, every entity ever made */
  GPtrArray *collections;     /* ModelEntity *, maps (root excluded) */
} Gen;

static MeroHlc
gen_ts (Gen *g, guint64 node)
{
  return (MeroHlc) { (g->clock++) << 16, node };
}

static GBytes *
gen_data (Gen *g, const char *tag)
{
  guint len = g_rand_int_range (g->rand, 0, 48);
  GString *s = g_string_new (tag);

  /* Unique per write: equal data means the same write. */
  g_string_append_printf (s, "@%" G_GUINT64_FORMAT ":", g->clock);
  for (guint i = 0; i < len; i++)
    g_string_append_c (s, (char) ('a' + g_rand_int_range (g->rand, 0, 26)));
  return g_string_free_to_bytes (s);
}

static void
push_op (GArray *ops, MeroActionKind kind, const ModelEntity *e, guint8 crdt, GBytes *data,
         MeroHlc ts)
{
  Op op = { 0 };

  op.action.kind = kind;
  memcpy (op.action.id, e->id, 32);
  memcpy (op.action.parent, e->parent, 32);
  op.action.crdt_type = crdt;
  op.data = data;
  if (data != NULL)
    op.action.data = g_bytes_get_data (data, &op.action.data_len);
  op.ts = ts;
  g_array_append_val (ops, op);
}

static ModelEntity *
gen_entity (Gen *g, const ModelEntity *parent, gboolean collection)
{
  ModelEntity *e = g_new0 (ModelEntity, 1);

  for (guint i = 0; i < 32; i += 4)
    {
      guint32 v = g_rand_int (g->rand);

      memcpy (e->id + i, &v, 4);
    }
  memcpy (e->parent, parent != NULL ? parent->id : sync_sim_context_id, 32);
  e->collection = collection;
  e->depth = parent != NULL ? parent->depth + 1 : 1;
  g_ptr_array_add (g->model, e);
  if (collection)
    g_ptr_array_add (g->collections, e);
  return e;
}

static void
note_has (SyncSimReplica *r, const ModelEntity *e)
{
  g_hash_table_insert (r->has, (gpointer) e->id, g_memdup2 (e, sizeof *e));
}

/* A random entity @r has (NULL if none). */
static const ModelEntity *
pick_has (Gen *g, SyncSimReplica *r)
{
  GHashTableIter it;
  gpointer v;
  guint n = g_hash_table_size (r->has), k;

  if (n == 0)
    return NULL;
  k = g_rand_int_range (g->rand, 0, (gint32) n);
  g_hash_table_iter_init (&it, r->has);
  while (g_hash_table_iter_next (&it, NULL, &v))
    if (k-- == 0)
      return v;
  return NULL;
}

/* A collection @r has and that may hold a child at @max_depth, or NULL
 * for the root when there is none. */
static const ModelEntity *
pick_collection (Gen *g, SyncSimReplica *r, guint max_depth)
{
  g_autoptr (GPtrArray) eligible = g_ptr_array_new ();

  for (guint i = 0; i < g->collections->len; i++)
    {
      const ModelEntity *c = g_ptr_array_index (g->collections, i);

      if (c->depth < max_depth && g_hash_table_contains (r->has, c->id))
        g_ptr_array_add (eligible, (gpointer) c);
    }
  if (eligible->len == 0)
    return NULL;
  return g_ptr_array_index (eligible, g_rand_int_range (g->rand, 0, (gint32) eligible->len));
}

void
sync_sim_populate (SyncSimReplica *a, SyncSimReplica *b, const SyncSimShape *shape,
                   GRand *rand)
{
  Gen g = { rand, 1000000, g_ptr_array_new_with_free_func (g_free), g_ptr_array_new () };
  g_autoptr (GArray) common = g_array_new (FALSE, FALSE, sizeof (Op));
  SyncSimReplica *both[2] = { a, b };
  guint max_depth = MAX (shape->max_depth, 1);

  g_array_set_clear_func (common, op_clear);
  /* Collections: a chain for depth, the rest anywhere above max_depth. */
  for (guint i = 0; i < shape->n_collections; i++)
    {
      const ModelEntity *parent = NULL;
      ModelEntity *c;

      if (i > 0 && g.collections->len > 0)
        {
          parent = g_ptr_array_index (g.collections, i < max_depth ? g.collections->len - 1
                                                                   : (guint) g_rand_int_range (rand, 0, (gint32) g.collections->len));
          if (parent->depth >= max_depth)
            parent = NULL;
        }
      c = gen_entity (&g, parent, TRUE);
      push_op (common, MERO_ACTION_ADD, c, 2, gen_data (&g, "map"), gen_ts (&g, 1));
      note_has (a, c);
      note_has (b, c);
    }
  for (guint i = 0; i < shape->n_common; i++)
    {
      const ModelEntity *parent = pick_collection (&g, a, max_depth);
      ModelEntity *e = gen_entity (&g, parent, FALSE);

      push_op (common, MERO_ACTION_ADD, e, 1, gen_data (&g, "v"), gen_ts (&g, 1));
      note_has (a, e);
      note_has (b, e);
    }
  apply_ops (a, common);
  /* The same ops give the same records: B's empty store gets A's copied
   * (half the work of a big populate), unless the two keep different
   * plugin indexes (the copy would carry A's, or none, into B). */
  if (mero_state_index_count (a->state) == mero_state_index_count (b->state)
      && is_empty (b))
    copy_store (a, b);
  else
    apply_ops (b, common);

  /* Concurrent updates of one key: the same physical time on both, so the
   * writer id breaks the tie. */
  {
    g_autoptr (GArray) ua = g_array_new (FALSE, FALSE, sizeof (Op));
    g_autoptr (GArray) ub = g_array_new (FALSE, FALSE, sizeof (Op));

    g_array_set_clear_func (ua, op_clear);
    g_array_set_clear_func (ub, op_clear);
    for (guint i = 0; i < shape->n_concurrent; i++)
      {
        const ModelEntity *e = pick_has (&g, a);
        MeroHlc ts = gen_ts (&g, 0);

        if (e == NULL)
          break;
        push_op (ua, MERO_ACTION_UPDATE, e, 0, gen_data (&g, "ca"),
                 (MeroHlc) { ts.time, a->node });
        push_op (ub, MERO_ACTION_UPDATE, e, 0, gen_data (&g, "cb"),
                 (MeroHlc) { ts.time, b->node });
      }
    apply_ops (a, ua);
    apply_ops (b, ub);
  }

  for (guint side = 0; side < 2; side++)
    {
      SyncSimReplica *r = both[side];
      g_autoptr (GArray) ops = g_array_new (FALSE, FALSE, sizeof (Op));

      g_array_set_clear_func (ops, op_clear);
      for (guint i = 0; i < shape->n_diverge; i++)
        {
          guint roll = g_rand_int_range (rand, 0, 100);
          const ModelEntity *e = pick_has (&g, r);

          if (e != NULL && roll < shape->pct_delete)
            push_op (ops, MERO_ACTION_DELETE_REF, e, 0, NULL, gen_ts (&g, r->node));
          else if (e != NULL && roll < shape->pct_delete + shape->pct_update)
            push_op (ops, MERO_ACTION_UPDATE, e, 0, gen_data (&g, "u"), gen_ts (&g, r->node));
          else
            {
              const ModelEntity *parent = pick_collection (&g, r, max_depth);
              gboolean collection = g_rand_int_range (rand, 0, 10) == 0 && shape->n_collections > 0;
              ModelEntity *n = gen_entity (&g, parent != NULL && parent->depth < max_depth ? parent : NULL,
                                           collection);

              push_op (ops, MERO_ACTION_ADD, n, collection ? 2 : 1, gen_data (&g, "n"),
                       gen_ts (&g, r->node));
              note_has (r, n);
            }
        }
      apply_ops (r, ops);
    }
  /* The replicas keep copies of what they need. */
  g_ptr_array_unref (g.collections);
  g_ptr_array_unref (g.model);
}

/* ---- protocols ------------------------------------------------------------ */

SyncSimProtocol *
sync_sim_protocol_new (const MeroPluginDescriptor *d, MeroMetrics *metrics)
{
  SyncSimProtocol *p = g_new0 (SyncSimProtocol, 1);
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (d->kind, ==, MERO_PLUGIN_KIND_SYNC_PROTOCOL);
  p->descriptor = d;
  p->vtable = d->vtable;
  p->host = mero_host_services_new (d->name, d->kind, metrics, mero_state_access_get ());
  if (d->init != NULL)
    {
      d->init (p->host, &p->plugin_data, &error);
      g_assert_no_error (error);
    }
  return p;
}

void
sync_sim_replica_attach_index (SyncSimReplica *r, SyncSimProtocol *p)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (mero_state_index_attach (r->state, p->descriptor->name, p->vtable,
                                          p->plugin_data, &error));
  g_assert_no_error (error);
}

SyncSimProtocol *
sync_sim_protocol_wrap (const MeroSyncProtocolVTable *vtable, void *plugin_data)
{
  SyncSimProtocol *p = g_new0 (SyncSimProtocol, 1);

  p->vtable = vtable;
  p->plugin_data = plugin_data;
  return p;
}

void
sync_sim_protocol_free (SyncSimProtocol *p)
{
  if (p == NULL)
    return;
  if (p->descriptor != NULL && p->descriptor->finalize != NULL)
    p->descriptor->finalize (p->plugin_data);
  mero_host_services_free (p->host);
  g_free (p);
}

static void
handshake_of (MeroStateHandle *h, MeroSyncHandshake *hs)
{
  const MeroStateAccess *sa = mero_state_access_get ();
  g_autoptr (GError) error = NULL;

  memset (hs, 0, sizeof *hs);
  hs->struct_size = sizeof *hs;
  sa->get_root_hash (h, hs->root_hash, &error);
  g_assert_no_error (error);
  sa->count_entities (h, &hs->entity_count, &error);
  g_assert_no_error (error);
}

/* Delivers the pending output of @from to @to in random splits, at most
 * *@budget bytes.  Returns the bytes moved. */
static guint64
shuttle (SyncSimProtocol *p, MeroSyncSession *from, MeroSyncSession *to, GRand *rand,
         gint64 now, guint64 *budget, gboolean *cut)
{
  const MeroSyncProtocolVTable *vt = p->vtable;
  guint64 moved = 0;
  GBytes *b;

  while (!*cut && (b = vt->pull_send (from)) != NULL)
    {
      gsize len = 0;
      const guint8 *data = g_bytes_get_data (b, &len);
      gsize off = 0;
      const char *dump = g_getenv ("MERO_SYNC_SIM_DUMP");

      /* The fuzz seeds (tests/fuzz/corpus/sync-*) are frames dumped here,
       * one body (length prefix off) per file. */
      if (dump != NULL && len > 4)
        {
          static guint dumped;
          g_autofree char *name = g_strdup_printf ("%s/frame-%04u", dump, dumped++);

          g_file_set_contents (name, (const char *) data + 4, (gssize) len - 4, NULL);
        }

      while (off < len)
        {
          /* Drawn first: MIN evaluates its arguments twice. */
          gsize split = (gsize) g_rand_int_range (rand, 1, 70000);
          gsize chunk = MIN (len - off, split);
          g_autoptr (GError) error = NULL;

          if (chunk > *budget)
            {
              /* The stream is cut here: the receiver sees a prefix. */
              chunk = (gsize) *budget;
              *cut = TRUE;
            }
          if (chunk > 0)
            vt->recv (to, data + off, chunk, now, &error);
          *budget -= chunk;
          moved += chunk;
          off += chunk;
          if (*cut || vt->status (to) != MERO_SYNC_STATUS_RUNNING)
            break;
        }
      g_bytes_unref (b);
    }
  return moved;
}

gboolean
sync_sim_run (SyncSimProtocol *p, SyncSimReplica *initiator, SyncSimReplica *responder,
              GRand *rand, guint64 cut_after, SyncSimResult *out)
{
  return sync_sim_run_handles (p, sync_sim_context_id, initiator->handle, responder->handle,
                               rand, cut_after, out);
}

gboolean
sync_sim_run_handles (SyncSimProtocol *p, const guint8 context_id[32],
                      MeroStateHandle *initiator, MeroStateHandle *responder, GRand *rand,
                      guint64 cut_after, SyncSimResult *out)
{
  return sync_sim_run_full (p, context_id, initiator, responder, rand, cut_after, NULL, NULL,
                            out);
}

gboolean
sync_sim_run_full (SyncSimProtocol *p, const guint8 context_id[32],
                   MeroStateHandle *initiator, MeroStateHandle *responder, GRand *rand,
                   guint64 cut_after, SyncSimStepFunc step_func, gpointer step_data,
                   SyncSimResult *out)
{
  const MeroSyncProtocolVTable *vt = p->vtable;
  MeroSyncHandshake hi, hr;
  MeroSyncSessionParams pi = { 0 }, pr = { 0 };
  MeroSyncSession *si, *sr;
  MeroSyncSessionStats st;
  g_autoptr (GError) error = NULL;
  gint64 now = 1000000;
  guint64 budget = cut_after;
  gboolean cut = FALSE, ended = FALSE;

  memset (out, 0, sizeof *out);
  handshake_of (initiator, &hi);
  handshake_of (responder, &hr);
  pi.struct_size = pr.struct_size = sizeof pi;
  pi.role = MERO_SYNC_ROLE_INITIATOR;
  pr.role = MERO_SYNC_ROLE_RESPONDER;
  memcpy (pi.context_id, context_id, 32);
  memcpy (pr.context_id, context_id, 32);
  pi.peer_id = "responder";
  pr.peer_id = "initiator";
  pi.local = &hi;
  pi.remote = &hr;
  pr.local = &hr;
  pr.remote = &hi;
  pi.state = initiator;
  pr.state = responder;
  pi.now_us = pr.now_us = now;

  sr = vt->session_new (p->plugin_data, &pr, &error);
  g_assert_no_error (error);
  si = vt->session_new (p->plugin_data, &pi, &error);
  g_assert_no_error (error);

  for (guint step = 0; step < MAX_STEPS; step++)
    {
      guint64 to_r, to_i;

      now += STEP_US;
      if (step_func != NULL)
        step_func (step, step_data);
      to_r = shuttle (p, si, sr, rand, now, &budget, &cut);
      to_i = shuttle (p, sr, si, rand, now, &budget, &cut);
      out->bytes_to_responder += to_r;
      out->bytes_to_initiator += to_i;
      if (cut)
        break;
      if (vt->status (si) != MERO_SYNC_STATUS_RUNNING
          && vt->status (sr) != MERO_SYNC_STATUS_RUNNING)
        {
          ended = TRUE;
          break;
        }
      /* Quiet: the sessions still running wait for their deadlines (a side
       * that failed stops talking; the other times out). */
      if (to_r + to_i == 0)
        {
          gint64 deadline = MIN (vt->next_deadline (si), vt->next_deadline (sr));

          g_assert_cmpint (deadline, !=, MERO_SYNC_NO_DEADLINE);
          now = MAX (now, deadline);
          vt->handle_deadline (si, now, NULL);
          vt->handle_deadline (sr, now, NULL);
        }
    }
  vt->get_stats (si, &st);
  out->round_trips = st.round_trips;
  out->entities = st.entities_transferred;
  out->initiator = vt->status (si);
  out->responder = vt->status (sr);
  out->cut = cut;
  vt->session_free (si);
  vt->session_free (sr);
  return ended || cut;
}

/* ---- checks --------------------------------------------------------------- */

static void
dump_children (MeroState *state, const guint8 id[32], GString *out, GPtrArray *order,
               guint *n)
{
  g_autoptr (GPtrArray) kids = NULL;
  g_autoptr (GError) error = NULL;

  mero_state_live_children (state, id, &kids, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < kids->len; i++)
    {
      const MeroEntity *e = g_ptr_array_index (kids, i);
      gsize len = 0;
      const guint8 *data = e->data != NULL ? g_bytes_get_data (e->data, &len) : NULL;
      g_autofree char *idhex = g_compute_checksum_for_data (G_CHECKSUM_MD5, e->id, 32);
      g_autofree char *phex = g_compute_checksum_for_data (G_CHECKSUM_MD5, e->parent, 32);

      g_string_append_printf (out, "%s %s %u ", idhex, phex, e->crdt_type);
      g_string_append_len (out, (const char *) data, (gssize) len);
      g_string_append_c (out, '\n');
      (*n)++;
      if (order != NULL)
        g_ptr_array_add (order, mero_entity_copy (e));
      dump_children (state, e->id, out, order, n);
    }
}

char *
sync_sim_dump_live (SyncSimReplica *r, guint *n_live)
{
  GString *out = g_string_new (NULL);
  guint n = 0;

  dump_children (r->state, sync_sim_context_id, out, NULL, &n);
  if (n_live != NULL)
    *n_live = n;
  return g_string_free (out, FALSE);
}

gboolean
sync_sim_is_consistent (SyncSimReplica *r)
{
  g_autoptr (SyncSimReplica) fresh = sync_sim_replica_new (9);
  g_autoptr (GPtrArray) live = g_ptr_array_new_with_free_func ((GDestroyNotify) mero_entity_free);
  g_autoptr (GString) dump = g_string_new (NULL);
  g_autoptr (GArray) ops = g_array_new (FALSE, FALSE, sizeof (Op));
  guint8 a[32], b[32];
  guint n = 0;

  g_array_set_clear_func (ops, op_clear);
  dump_children (r->state, sync_sim_context_id, dump, live, &n);
  sync_sim_replica_root (r, a);
  if (live->len == 0)
    {
      /* No live entity: the root covers at most the empty root entity. */
      return TRUE;
    }
  for (guint i = 0; i < live->len; i++)
    {
      const MeroEntity *e = g_ptr_array_index (live, i);
      ModelEntity m = { 0 };

      memcpy (m.id, e->id, 32);
      memcpy (m.parent, e->parent, 32);
      push_op (ops, MERO_ACTION_ADD, &m, e->crdt_type,
               e->data != NULL ? g_bytes_ref (e->data) : g_bytes_new (NULL, 0),
               (MeroHlc) { 1u << 16, 1 });
    }
  apply_ops (fresh, ops);
  sync_sim_replica_root (fresh, b);
  return memcmp (a, b, 32) == 0;
}
