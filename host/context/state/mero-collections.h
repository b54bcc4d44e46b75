/* mero-collections.h: CRDT collections over the entity tree (DESIGN §8).
 *
 * Builders append actions for one local mutation to a MeroActionList (the
 * caller commits them as one delta with the timestamp it used); readers
 * look at committed state.  Every collection is an entity; its items are
 * child entities with deterministic ids where the item has a key, so
 * concurrent writers of the same key converge:
 *
 *   LWW register  data = value; last writer (HLC) wins
 *   map           entry id = sha256 (map || "entry" || key),
 *                 data = u32be key_len || key || value; remove = DeleteRef
 *   set           a map whose values are empty (add-wins after a later
 *                 re-add, remove-wins on a tie)
 *   counter       per-writer slots, id = sha256 (counter || "entry" ||
 *                 writer || '+' or '-'), data = u64be running total of
 *                 that writer; value = sum(+) - sum(-); only the owner
 *                 writes a slot so LWW keeps its latest total (G-counter:
 *                 no '-' slots)
 *   vector        elements id = sha256 (vector || "element" || hlc || seq),
 *                 data = u16be pos_len || pos || hlc || value; ordered by
 *                 (pos, hlc, id) where pos is a fractional index chosen
 *                 between the neighbours and suffixed by the writer's
 *                 node id, so concurrent inserts at the same place get a
 *                 deterministic order on every replica. */
#pragma once

#include <glib.h>

#include "context/state/mero-state.h"

G_BEGIN_DECLS

/* Position bytes of a vector element (bounded: each insert at the same
 * spot may lengthen positions by a byte). */
#define MERO_VECTOR_MAX_POSITION 1024
#define MERO_COLLECTION_MAX_KEY 4096

typedef struct _MeroActionList MeroActionList;

MeroActionList *mero_action_list_new (void);
void mero_action_list_free (MeroActionList *list);
/* Copies @data. */
void mero_action_list_add (MeroActionList *list, MeroActionKind kind,
                           const guint8 id[MERO_ENTITY_ID_LEN],
                           const guint8 parent[MERO_ENTITY_ID_LEN], MeroCrdtType type,
                           const guint8 *data, gsize len);
guint mero_action_list_len (MeroActionList *list);
const MeroAction *mero_action_list_actions (MeroActionList *list);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroActionList, mero_action_list_free)

/* Creating a collection or register: an Add under @parent.  Adding an
 * existing one again is harmless (same id, data LWW). */
void mero_collection_create (MeroActionList *list, const guint8 parent[MERO_ENTITY_ID_LEN],
                             const guint8 id[MERO_ENTITY_ID_LEN], MeroCrdtType type,
                             const guint8 *data, gsize len);

/* LWW register. */
void mero_lww_set (MeroActionList *list, const guint8 reg[MERO_ENTITY_ID_LEN],
                   const guint8 *value, gsize len);
gboolean mero_lww_get (MeroState *state, const guint8 reg[MERO_ENTITY_ID_LEN], GBytes **value,
                       GError **error);

/* Map and set. */
typedef struct {
  GBytes *key;
  GBytes *value;
} MeroMapEntry;
void mero_map_entry_free (MeroMapEntry *entry);

gboolean mero_map_set (MeroActionList *list, const guint8 map[MERO_ENTITY_ID_LEN],
                       const guint8 *key, gsize key_len, const guint8 *value, gsize value_len,
                       GError **error);
void mero_map_remove (MeroActionList *list, const guint8 map[MERO_ENTITY_ID_LEN],
                      const guint8 *key, gsize key_len);
/* *value NULL when absent or removed. */
gboolean mero_map_get (MeroState *state, const guint8 map[MERO_ENTITY_ID_LEN], const guint8 *key,
                       gsize key_len, GBytes **value, GError **error);
/* Live entries in entry-id order; (transfer full) MeroMapEntry array. */
gboolean mero_map_entries (MeroState *state, const guint8 map[MERO_ENTITY_ID_LEN],
                           GPtrArray **entries, GError **error);

gboolean mero_set_add (MeroActionList *list, const guint8 set[MERO_ENTITY_ID_LEN],
                       const guint8 *elem, gsize len, GError **error);
void mero_set_remove (MeroActionList *list, const guint8 set[MERO_ENTITY_ID_LEN],
                      const guint8 *elem, gsize len);
gboolean mero_set_contains (MeroState *state, const guint8 set[MERO_ENTITY_ID_LEN],
                            const guint8 *elem, gsize len, gboolean *contains, GError **error);

/* Counters (MERO_CRDT_GCOUNTER or MERO_CRDT_PNCOUNTER).  @writer is the
 * author's public key (32).  One change per counter per delta. */
gboolean mero_counter_add (MeroActionList *list, MeroState *state,
                           const guint8 counter[MERO_ENTITY_ID_LEN], const guint8 writer[32],
                           gint64 amount, GError **error);
gboolean mero_counter_value (MeroState *state, const guint8 counter[MERO_ENTITY_ID_LEN],
                             gint64 *value, GError **error);

/* Vector. */
typedef struct {
  guint8 id[MERO_ENTITY_ID_LEN];
  GBytes *position;
  MeroHlc hlc;
  GBytes *value;
} MeroVectorItem;
void mero_vector_item_free (MeroVectorItem *item);

/* Live items in order (transfer full). */
gboolean mero_vector_items (MeroState *state, const guint8 vec[MERO_ENTITY_ID_LEN],
                            GPtrArray **items, GError **error);
/* Inserts before position @index of the current order (index = length
 * appends).  @ts is the delta's timestamp, @seq distinguishes several
 * inserts in one delta.  @id_out (may be NULL) gets the element id. */
gboolean mero_vector_insert (MeroActionList *list, MeroState *state,
                             const guint8 vec[MERO_ENTITY_ID_LEN], guint index,
                             const MeroHlc *ts, guint8 seq, const guint8 *value, gsize len,
                             guint8 id_out[MERO_ENTITY_ID_LEN], GError **error);
void mero_vector_remove (MeroActionList *list, const guint8 elem[MERO_ENTITY_ID_LEN]);

/* The fractional index between @a (NULL = start) and @b (NULL = end),
 * requires a < b.  Exposed for tests. */
GBytes *mero_vector_position_between (GBytes *a, GBytes *b);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroMapEntry, mero_map_entry_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroVectorItem, mero_vector_item_free)

G_END_DECLS
