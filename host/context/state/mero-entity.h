/* mero-entity.h: one entity of a context's state tree, and its stored
 * record (STATE: ctx || id).
 *
 * Every entity's children sit under MERO_ENTITY_BUCKET_LEVELS levels of
 * implicit 16-way bucket entities keyed by the child id's leading nibbles,
 * so recomputing a hash scans at most 16 index records per bucket level
 * (plus the ~n/65536 children of a leaf bucket) whatever the number of
 * children.  Measured against two levels of 256 (tests/bench/context):
 * a scan of 256 entries per level dominated an update (RocksDB iterators
 * skipping the many overwritten versions of hot index keys); four levels
 * of 16 read ~6x fewer index records for a few more point reads.
 * Placement depends only on ids, never on the (mutable) crdt type, so two
 * replicas always build the same physical tree.
 *
 * Bucket of level L (1-based) above child c under parent p:
 *   id = sha256 (p || "bucket" || n1 .. nL)
 * where n1 .. nL are the first L nibbles of c's id, one byte each (0..15). */
#pragma once

#include <glib.h>

#include "context/state/mero-entity-hash.h"
#include "context/state/mero-hlc.h"

G_BEGIN_DECLS

/* Logical depth bound (root = 0): a peer cannot make us walk further. */
#define MERO_ENTITY_MAX_DEPTH 16
#define MERO_ENTITY_BUCKET_LEVELS 4
#define MERO_ENTITY_BUCKET_FANOUT 16
/* Physical depth: each logical level adds the buckets above it. */
#define MERO_ENTITY_MAX_PHYS_DEPTH (MERO_ENTITY_MAX_DEPTH * (MERO_ENTITY_BUCKET_LEVELS + 1))
/* Opaque data of one entity. */
#define MERO_ENTITY_MAX_DATA (256 * 1024)

typedef enum {
  MERO_CRDT_RECORD = 0,     /* plain entity (the root) */
  MERO_CRDT_LWW = 1,        /* last-writer-wins register */
  MERO_CRDT_MAP = 2,
  MERO_CRDT_SET = 3,
  MERO_CRDT_GCOUNTER = 4,
  MERO_CRDT_PNCOUNTER = 5,
  MERO_CRDT_VECTOR = 6,
  MERO_CRDT_BUCKET = 7,     /* engine-internal, never in a delta */
  MERO_CRDT_N_TYPES
} MeroCrdtType;

typedef struct {
  guint8 id[MERO_ENTITY_ID_LEN];
  guint8 parent[MERO_ENTITY_ID_LEN];       /* logical parent (zero for the root) */
  guint8 phys_parent[MERO_ENTITY_ID_LEN];  /* bucket holding it (zero for the root) */
  gboolean has_parent;
  guint8 crdt_type;
  guint8 depth;              /* logical */
  guint8 phys_depth;
  MeroHlc created_at;
  MeroHlc updated_at;
  MeroHlc deleted_at;        /* zero = never */
  MeroHlc cleared_at;        /* last Clear of its children; zero = never */
  guint8 own_hash[MERO_HASH_LEN];
  /* Stored for the root only (the context's root hash); any other
   * entity's full hash lives in its parent's child index, so an update
   * rewrites the index records on its path but not the ancestors' records. */
  guint8 full_hash[MERO_HASH_LEN];
  GBytes *data;
} MeroEntity;

MeroEntity *mero_entity_new (void);
/* Shares @entity's data (immutable GBytes). */
MeroEntity *mero_entity_copy (const MeroEntity *entity);
void mero_entity_free (MeroEntity *entity);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroEntity, mero_entity_free)

/* Sets data and own hash; @data may be NULL when @len is 0. */
void mero_entity_set_data (MeroEntity *entity, const guint8 *data, gsize len);

/* updated_at > deleted_at: a delete wins a tie.  Says nothing about the
 * ancestors (see mero_state_entity_is_live). */
gboolean mero_entity_is_self_live (const MeroEntity *entity);

GBytes *mero_entity_encode (const MeroEntity *entity);
/* NULL (with @error) when @bytes is not a record of this format. */
MeroEntity *mero_entity_decode (const guint8 *bytes, gsize len, GError **error);

/* Deterministic ids. */
/* The level-@level bucket (1..MERO_ENTITY_BUCKET_LEVELS) above @child. */
void mero_entity_bucket_id (const guint8 parent[MERO_ENTITY_ID_LEN],
                            const guint8 child[MERO_ENTITY_ID_LEN], guint level,
                            guint8 out[MERO_ENTITY_ID_LEN]);
/* sha256(parent || "entry" || key) (DESIGN §8). */
void mero_entity_entry_id (const guint8 parent[MERO_ENTITY_ID_LEN], const guint8 *key,
                           gsize key_len, guint8 out[MERO_ENTITY_ID_LEN]);

/* GHashTable helpers for 32-byte ids (keys point at id bytes). */
guint mero_id_hash (gconstpointer id);
gboolean mero_id_equal (gconstpointer a, gconstpointer b);

G_END_DECLS
