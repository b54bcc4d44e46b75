/* reconcile-session.h: the session state and the helpers shared by the
 * initiator (reconcile-initiator.c) and the responder
 * (reconcile-responder.c).  Private to the plugin. */
#pragma once

#include "reconcile-core.h"
#include "reconcile-index.h"
#include "reconcile-wire.h"
#include "riblt.h"

G_BEGIN_DECLS

/* The local set of entity versions (reconcile-set.c). */
typedef struct {
  GArray *items;              /* bytes: RIBLT_ITEM_SIZE per entity */
  GArray *ids;                /* bytes: a 32-byte entity id per entity, same order */
  GHashTable *by_hash;        /* keyed item hash (uint64_t *) -> index + 1 */
  GArray *hashes;             /* uint64_t, same order (keys of by_hash); its
                               * len is the number of entities */
} ReconcileSet;

struct _ReconcileSession {
  ReconcileConfig config;
  const MeroStateAccess *sa;
  MeroStateHandle *state;
  MeroSyncRole role;
  uint8_t ctx[32];
  uint8_t key[16];            /* item hash key, derived from the context */
  MeroSyncStatus status;
  MeroSyncSessionStats stats;
  uint64_t n_remote;          /* the peer's entity_count (handshake) */

  GByteArray *inbuf;
  GQueue outq;                /* GBytes, whole frames */
  int64_t session_deadline;
  int64_t idle_deadline;

  /* The local set: the stored prefix (reconcile-index.h) while the
   * symbols asked for stay within it, else the whole set, built once. */
  int index;                  /* 0 not checked yet, 1 usable, -1 not */
  RibltSymbol *prefix;        /* RECONCILE_INDEX_SYMBOLS, loaded on first use */
  ReconcileSet set;           /* built: set.hashes != NULL */
  RibltEncoder *encoder;      /* of set.items */
  RibltDecoder *decoder;      /* responder */
  uint64_t symbols;           /* sent (initiator) or received (responder) */
  int64_t imbalance;          /* responder: the peer's set size minus ours
                               * (symbol 0's counts), to unwrap the counts */
  uint64_t entity_bytes;      /* wire bytes of the entities sent */
  uint8_t phase;              /* the message type expected next */
  /* Entities received in this phase (for the merge-backs). */
  GPtrArray *received;        /* ReconcileEntity * */
  GArray *wants;              /* initiator: keys the responder wants */
};

void reconcile_count (ReconcileSession *s, const char *metric, const char *reason);
/* Ends the session: counted in mero_sync_failures_total{reason}, logged,
 * and reported through @error.  Returns FALSE for the caller to return. */
gboolean reconcile_fail (ReconcileSession *s, GError **error, int code, const char *reason,
                         const char *format, ...) G_GNUC_PRINTF (5, 6);
gboolean reconcile_refuse (ReconcileSession *s, GError **error, const char *reason,
                           const char *what);
gboolean reconcile_state_failed (ReconcileSession *s, GError **error, GError *cause);
void reconcile_queue_msg (ReconcileSession *s, const ReconcileMsg *m);
/* Queues @entities (ReconcileEntity *) as frames of @type within the
 * frame budget; @wants (may be NULL) go in the first. */
void reconcile_queue_entities (ReconcileSession *s, uint8_t type, uint32_t symbols_used,
                               GArray *wants, GPtrArray *entities);
/* Merges @entities with one writer (parents first: an entity refused for
 * its missing parent is retried after the others); all or nothing. */
gboolean reconcile_merge_all (ReconcileSession *s, GPtrArray *entities, GError **error);
/* Appends to @out the local version of every entity of @received whose
 * merged local version differs from the one received (skipping ids in
 * @seen, adding to it). */
gboolean reconcile_merge_backs (ReconcileSession *s, GPtrArray *received, GHashTable *seen,
                                GPtrArray *out, GError **error);
/* The local entity @id, or NULL if the state does not have it. */
ReconcileEntity *reconcile_local_entity (ReconcileSession *s, const uint8_t id[32],
                                         GError **error);

/* reconcile-set.c */
/* The whole local set from the state (every entity record): O(n). */
gboolean reconcile_set_build (ReconcileSession *s, GError **error);
void reconcile_set_clear (ReconcileSet *set);
/* Index of the item with keyed hash @hash (and bytes @item, if not NULL),
 * or -1. */
gssize reconcile_set_find (const ReconcileSet *set, uint64_t hash, const uint8_t *item);
/* The local coded symbols [0, @upto): from the stored prefix when it
 * covers them and no whole set was needed before, else from the whole
 * set.  NULL on a state error. */
const RibltSymbol *reconcile_local_symbols (ReconcileSession *s, size_t upto, GError **error);
/* The id of the local entity whose item has keyed hash @hash. */
gboolean reconcile_local_find (ReconcileSession *s, uint64_t hash, uint8_t id[32],
                               gboolean *found, GError **error);
/* A set of 32-byte ids (keys not owned). */
GHashTable *reconcile_id_table_new (void);

/* reconcile-initiator.c */
gboolean reconcile_initiator_start (ReconcileSession *s, uint64_t n_local, uint64_t n_remote,
                                    GError **error);
gboolean reconcile_initiator_handle (ReconcileSession *s, ReconcileMsg *m, GError **error);
/* reconcile-responder.c */
gboolean reconcile_responder_handle (ReconcileSession *s, ReconcileMsg *m, GError **error);

G_END_DECLS
