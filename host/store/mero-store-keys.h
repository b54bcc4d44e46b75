/* mero-store-keys.h: typed keys.
 *
 * A MeroKey is a small value type: its column and its bytes.  Only the
 * builders below make keys, one per kind of record, so every record kind
 * has exactly one layout and one column.  Layouts are fixed-width
 * big-endian where they carry numbers, so byte order is the natural order.
 * Changing a layout is a storage format change (bump MERO_STORE_FORMAT).
 *
 * Layouts (column: bytes):
 *   meta(name)             META:        0x01 || name
 *   context meta(ctx)      META:        0x02 || ctx[32]
 *   (store-internal)       META:        0x00 || ...   reserved, never built here
 *   config(name)           CONFIG:      name
 *   identity(name)         IDENTITY:    name
 *   state(ctx, entity)     STATE:       ctx[32] || entity[32]
 *   delta(ctx, delta)      DELTA:       ctx[32] || delta[32]
 *   blob(id)               BLOBS:       id[32]
 *   application(id)        APPLICATION: id[32]
 *   alias(kind, scope, n)  ALIAS:       kind || scope[32] || name
 *   group(id, rec, suffix) GROUP:       id[32] || rec || suffix
 *   generic(scope, frag)   GENERIC:     scope[32] || fragment
 *   context dag(ctx)       META:        0x03 || ctx[32]
 *   pending delta(ctx, d)  META:        0x04 || ctx[32] || delta[32]
 *   state child(ctx, p, c) STATE:       ctx[32] || parent[32] || child[32]
 *   peer(multihash)        META:        0x05 || PeerId multihash (node/mero-peer-store.h)
 *
 * Records of the GENERIC column by fragment (each owner's own prefix):
 *   blob public(ctx, blob) GENERIC:     ctx[32] || "blob-public/" || blob[32]
 *                          (value: one byte; present = the blob is public
 *                          to the context, host/blob/mero-blob-public.c)
 *
 * A state child record and an entity record share the prefix
 * ctx || parent, so a scan of prefix_state_children(ctx, p) also meets the
 * entity record of p itself (its key is exactly the prefix, and sorts
 * first): callers skip keys that are not 96 bytes long.
 *
 * Names are non-empty, valid UTF-8, without the terminating NUL.
 *
 * Bounds: fixed-width builders cannot overflow and return the key by
 * value.  Builders with a variable part (names, suffixes, fragments) may
 * be fed data that came from a user or a peer, so an oversized or invalid
 * input is not a programmer error: they return FALSE and leave @key
 * untouched (check the result).  A NULL @key or NULL id is a programmer
 * error (g_return_val_if_fail). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Column families (DESIGN §10).  Append-only: the index is stored. */
typedef enum {
  MERO_COLUMN_META = 0,
  MERO_COLUMN_CONFIG,
  MERO_COLUMN_IDENTITY,
  MERO_COLUMN_STATE,
  MERO_COLUMN_DELTA,
  MERO_COLUMN_BLOBS,
  MERO_COLUMN_APPLICATION,
  MERO_COLUMN_ALIAS,
  MERO_COLUMN_GROUP,
  MERO_COLUMN_GENERIC,
  MERO_N_COLUMNS
} MeroColumn;

#define MERO_KEY_MAX 160

/* Version of the on-disk layout (key layouts, value encoding, the crypto
 * record).  Stored in the crypto record of encrypted stores. */
#define MERO_STORE_FORMAT 1

/* Width of every id (context, entity, delta, blob, application, group,
 * scope). */
#define MERO_KEY_ID_LEN 32

/* Tag bytes of the META column.  0x00 is reserved for the store itself
 * (the crypto record); the façade refuses caller keys that start with it
 * and hides them from iteration. */
#define MERO_KEY_META_TAG_RESERVED 0x00
#define MERO_KEY_META_TAG_NAME 0x01
#define MERO_KEY_META_TAG_CONTEXT 0x02
#define MERO_KEY_META_TAG_CONTEXT_DAG 0x03
#define MERO_KEY_META_TAG_DELTA_PENDING 0x04
#define MERO_KEY_META_TAG_PEER 0x05
/* Longest PeerId multihash a peer key takes (an identity multihash of an
 * Ed25519 key is 38 bytes; room for larger keys). */
#define MERO_KEY_PEER_MAX 64

typedef struct {
  MeroColumn column;
  guint16 len;
  guint8 bytes[MERO_KEY_MAX];
} MeroKey;

const char *mero_column_name (MeroColumn column);
/* NULL-terminated list of all column names, index = MeroColumn. */
const char *const *mero_column_names (void);

/* Record keys. */
gboolean mero_key_meta (MeroKey *key, const char *name);
MeroKey mero_key_context_meta (const guint8 ctx[MERO_KEY_ID_LEN]);
gboolean mero_key_config (MeroKey *key, const char *name);
gboolean mero_key_identity (MeroKey *key, const char *name);
MeroKey mero_key_state (const guint8 ctx[MERO_KEY_ID_LEN], const guint8 entity[MERO_KEY_ID_LEN]);
MeroKey mero_key_delta (const guint8 ctx[MERO_KEY_ID_LEN], const guint8 delta[MERO_KEY_ID_LEN]);
/* The state engine's records (context/state, context/delta): the delta
 * DAG's heads and clock, the set of pending deltas, and the child index
 * (child's current full hash, absent when the child is dead). */
MeroKey mero_key_context_dag (const guint8 ctx[MERO_KEY_ID_LEN]);
MeroKey mero_key_delta_pending (const guint8 ctx[MERO_KEY_ID_LEN],
                                const guint8 delta[MERO_KEY_ID_LEN]);
MeroKey mero_key_state_child (const guint8 ctx[MERO_KEY_ID_LEN],
                              const guint8 parent[MERO_KEY_ID_LEN],
                              const guint8 child[MERO_KEY_ID_LEN]);
/* The peer store's record of one peer; FALSE if @multihash is empty or
 * longer than MERO_KEY_PEER_MAX. */
gboolean mero_key_peer (MeroKey *key, const guint8 *multihash, gsize len);
MeroKey mero_key_blob (const guint8 blob[MERO_KEY_ID_LEN]);
MeroKey mero_key_application (const guint8 app[MERO_KEY_ID_LEN]);
gboolean mero_key_alias (MeroKey *key, guint8 kind, const guint8 scope[MERO_KEY_ID_LEN],
                         const char *name);
/* @suffix may be NULL when @suffix_len is 0. */
gboolean mero_key_group (MeroKey *key, const guint8 group[MERO_KEY_ID_LEN], guint8 record,
                         const guint8 *suffix, gsize suffix_len);
gboolean mero_key_generic (MeroKey *key, const guint8 scope[MERO_KEY_ID_LEN],
                           const guint8 *fragment, gsize fragment_len);

/* Prefix keys for mero_store_iter_new().  A prefix selects every key of
 * its column that starts with its bytes. */
MeroKey mero_key_prefix_column (MeroColumn column);      /* the whole column */
MeroKey mero_key_prefix_meta_names (void);               /* every meta(name) */
MeroKey mero_key_prefix_context_metas (void);            /* every context meta */
MeroKey mero_key_prefix_state (const guint8 ctx[MERO_KEY_ID_LEN]);  /* a context's state */
MeroKey mero_key_prefix_deltas (const guint8 ctx[MERO_KEY_ID_LEN]); /* a context's deltas */
MeroKey mero_key_prefix_deltas_pending (const guint8 ctx[MERO_KEY_ID_LEN]);
MeroKey mero_key_prefix_peers (void);                    /* every peer(…) */
MeroKey mero_key_prefix_state_children (const guint8 ctx[MERO_KEY_ID_LEN],
                                        const guint8 parent[MERO_KEY_ID_LEN]);
MeroKey mero_key_prefix_aliases (guint8 kind);
MeroKey mero_key_prefix_aliases_in_scope (guint8 kind, const guint8 scope[MERO_KEY_ID_LEN]);
MeroKey mero_key_prefix_group (const guint8 group[MERO_KEY_ID_LEN]);
MeroKey mero_key_prefix_group_record (const guint8 group[MERO_KEY_ID_LEN], guint8 record);
MeroKey mero_key_prefix_generic (const guint8 scope[MERO_KEY_ID_LEN]);

/* A key from raw bytes, e.g. one returned by mero_store_iter_key(), to
 * seek to or to read back.  FALSE if @len exceeds MERO_KEY_MAX, @column is
 * out of range, or the bytes are a reserved META key (tag 0x00). */
gboolean mero_key_from_bytes (MeroKey *key, MeroColumn column, const guint8 *bytes, gsize len);

gboolean mero_key_equal (const MeroKey *a, const MeroKey *b);
/* TRUE if @key is in @prefix's column and starts with its bytes. */
gboolean mero_key_has_prefix (const MeroKey *key, const MeroKey *prefix);

G_END_DECLS
