/* reconcile-responder.c: the responder's side of sync-reconcile (see
 * reconcile-core.h): decodes the initiator's symbols against its own set,
 * sends its versions the initiator lacks and the keys of the ones it
 * wants, merges what comes back and returns its merge-backs. */
#include "reconcile-session.h"

#include <math.h>
#include <string.h>

static guint
id_prefix_hash (gconstpointer p)
{
  guint h;

  memcpy (&h, p, sizeof h);
  return h;
}

static gboolean
id_prefix_equal (gconstpointer a, gconstpointer b)
{
  return memcmp (a, b, RECONCILE_ITEM_ID_LEN) == 0;
}

/* Decoded: our versions the initiator lacks, the keys of its versions we
 * lack. */
static gboolean
send_result (ReconcileSession *s, GError **error)
{
  g_autoptr (GPtrArray) out =
    g_ptr_array_new_with_free_func ((GDestroyNotify) reconcile_entity_free);
  g_autoptr (GArray) wants = g_array_new (FALSE, FALSE, sizeof (uint64_t));
  g_autoptr (GHashTable) sent = reconcile_id_table_new ();
  g_autoptr (GHashTable) remote = g_hash_table_new (id_prefix_hash, id_prefix_equal);
  g_autoptr (GHashTable) local = g_hash_table_new (id_prefix_hash, id_prefix_equal);
  size_t n = riblt_decoder_n_recovered (s->decoder);

  /* Two versions of one entity (same id prefix) are a pair: the one with
   * the newer time is sent, the other not.  A wrong guess (a merge keeps
   * parts of both) costs one merge-back, never a difference left over:
   * the side that merged sends what it has when that differs from what
   * it received. */
  for (size_t i = 0; i < n; i++)
    {
      int sign = 0;
      const uint8_t *item = riblt_decoder_recovered (s->decoder, i, &sign);

      g_hash_table_insert (sign > 0 ? remote : local, (gpointer) item, (gpointer) item);
    }
  for (size_t i = 0; i < n; i++)
    {
      int sign = 0;
      const uint8_t *item = riblt_decoder_recovered (s->decoder, i, &sign);
      const uint8_t *other = g_hash_table_lookup (sign > 0 ? local : remote, item);
      int newer = other == NULL ? 0 : memcmp (item + RECONCILE_ITEM_ID_LEN,
                                             other + RECONCILE_ITEM_ID_LEN,
                                             RECONCILE_ITEM_TIME_LEN);
      uint64_t key = riblt_item_hash (s->key, item);
      g_autoptr (GError) local_error = NULL;
      ReconcileEntity *e;
      uint8_t id[32];
      gboolean found = FALSE;

      if (newer < 0)
        continue;
      if (sign > 0)
        {
          g_array_append_val (wants, key);
          continue;
        }
      if (!reconcile_local_find (s, key, id, &found, &local_error))
        return reconcile_state_failed (s, error, local_error);
      /* Peeled as ours but not in our set: the symbols were not a set's
       * (garbage, or crafted). */
      if (!found)
        return reconcile_fail (s, error, MERO_SYNC_ERROR_PROTOCOL, "undecodable",
                               "symbols decode to a version this side does not hold");
      /* Sent as it is now (a local write since the symbols were read
       * replaced the version: the newer one is what the peer needs). */
      e = reconcile_local_entity (s, id, &local_error);
      if (local_error != NULL)
        return reconcile_state_failed (s, error, local_error);
      if (e != NULL && !g_hash_table_contains (sent, e->e.id))
        {
          g_hash_table_add (sent, e->e.id);
          g_ptr_array_add (out, e);
        }
      else
        reconcile_entity_free (e);
    }
  reconcile_queue_entities (s, RECONCILE_MSG_RESULT,
                            (uint32_t) riblt_decoder_symbols_used (s->decoder), wants, out);
  s->phase = RECONCILE_MSG_ENTITIES;
  return TRUE;
}

static gboolean
handle_symbols (ReconcileSession *s, ReconcileMsg *m, GError **error)
{
  RibltDecodeStatus st = RIBLT_DECODE_MORE;
  g_autoptr (ReconcileMsg) more = NULL;
  g_autoptr (GError) local_error = NULL;
  const RibltSymbol *local;
  uint64_t want;
  size_t est, rest;

  if (s->decoder == NULL)
    s->decoder = riblt_decoder_new (NULL, s->key, RECONCILE_MAX_SYMBOLS_PER_SESSION,
                                    RECONCILE_MAX_DIFFERENCES);
  if (m->first_index != s->symbols || m->symbols->len == 0)
    return reconcile_fail (s, error, MERO_SYNC_ERROR_PROTOCOL, "protocol",
                           "symbols out of sequence");
  /* The decoder stops at RECONCILE_MAX_SYMBOLS_PER_SESSION: never read
   * local symbols past it. */
  local = reconcile_local_symbols (s, MIN ((size_t) s->symbols + m->symbols->len,
                                           (size_t) RECONCILE_MAX_SYMBOLS_PER_SESSION),
                                   &local_error);
  if (local == NULL)
    return reconcile_state_failed (s, error, local_error);
  for (guint i = 0; i < m->symbols->len && st == RIBLT_DECODE_MORE; i++)
    {
      size_t at = riblt_decoder_len (s->decoder);
      RibltSymbol *remote = &g_array_index (m->symbols, RibltSymbol, i);

      if (at >= RECONCILE_MAX_SYMBOLS_PER_SESSION)
        {
          st = RIBLT_DECODE_OVER_BOUND;
          break;
        }
      /* A batch's first count comes whole; the others as their low byte,
       * the whole one being the nearest to ours plus the imbalance's share
       * of the cell (riblt.h: the decoder's purity test needs only the
       * byte, the estimate the whole count, exact while the cell's
       * difference strays less than 128 from that share). */
      if (at == 0)
        s->imbalance = (int64_t) ((uint64_t) remote->count - (uint64_t) local[0].count);
      else if (i > 0)
        remote->count = riblt_count_unwrap ((uint8_t) remote->count,
                                            (double) local[at].count
                                              + (double) s->imbalance * riblt_density (at));
      st = riblt_decoder_add_local (s->decoder, remote, &local[at]);
    }
  s->symbols += m->symbols->len;
  if (st == RIBLT_DECODE_OVER_BOUND)
    return reconcile_refuse (s, error, "undecodable",
                             "symbols did not decode within RECONCILE_MAX_SYMBOLS_PER_SESSION");
  if (st == RIBLT_DECODE_DONE)
    return send_result (s, error);
  /* Not yet: the most of enough for the difference the undecoded symbols
   * suggest, a share of the part of it not yet peeled, and a fraction of
   * what we have (reconcile-core.h); within the session bound. */
  est = riblt_decoder_estimate_difference (s->decoder);
  rest = est - MIN (est, riblt_decoder_n_recovered (s->decoder));
  want = (uint64_t) ((double) est * RECONCILE_MORE_MARGIN);
  want = want > s->symbols ? want - s->symbols : 0;
  want = MAX (want, (uint64_t) ceil ((double) rest * RECONCILE_MORE_RESIDUAL));
  want = MAX (want, s->symbols / RECONCILE_MORE_MIN_GROWTH);
  more = reconcile_msg_new (RECONCILE_MSG_MORE);
  more->n_more = (uint32_t) MIN (MIN (want, (uint64_t) RECONCILE_MAX_SYMBOLS_PER_MESSAGE),
                                 RECONCILE_MAX_SYMBOLS_PER_SESSION - s->symbols);
  if (more->n_more == 0)
    return reconcile_refuse (s, error, "undecodable",
                             "symbols did not decode within RECONCILE_MAX_SYMBOLS_PER_SESSION");
  reconcile_queue_msg (s, more);
  return TRUE;
}

static gboolean
handle_entities (ReconcileSession *s, ReconcileMsg *m, GError **error)
{
  g_autoptr (GPtrArray) out = NULL;
  g_autoptr (GHashTable) seen = NULL;

  if (s->received->len + m->entities->len > RECONCILE_MAX_DIFFERENCES)
    return reconcile_refuse (s, error, "differences", "over RECONCILE_MAX_DIFFERENCES");
  if (!reconcile_merge_all (s, m->entities, error))
    return FALSE;
  g_ptr_array_extend_and_steal (s->received, g_steal_pointer (&m->entities));
  m->entities = g_ptr_array_new ();
  if (m->more)
    return TRUE;
  out = g_ptr_array_new_with_free_func ((GDestroyNotify) reconcile_entity_free);
  seen = reconcile_id_table_new ();
  if (!reconcile_merge_backs (s, s->received, seen, out, error))
    return FALSE;
  g_ptr_array_set_size (s->received, 0);
  reconcile_queue_entities (s, RECONCILE_MSG_FIN, 0, NULL, out);
  s->status = MERO_SYNC_STATUS_DONE;
  return TRUE;
}

gboolean
reconcile_responder_handle (ReconcileSession *s, ReconcileMsg *m, GError **error)
{
  if (m->type == RECONCILE_MSG_SYMBOLS)
    return handle_symbols (s, m, error);
  return handle_entities (s, m, error);
}
