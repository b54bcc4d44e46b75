/* mero-group-dag-private.h: the DAG's insides, shared by its three files
 * (mero-group-dag.c: receive/pending/queries, -fold.c: order and
 * state folding, -store.c: persistence). */
#pragma once

#include "context/group/mero-group-dag.h"

G_BEGIN_DECLS

typedef struct _MeroGroupNode MeroGroupNode;

struct _MeroGroupNode {
  guint8 id[MERO_GROUP_ID_LEN];
  MeroGroupOp *op;
  MeroGroupNode **parents;  /* op->parents->len nodes, so walks need no lookups */
  GBytes *encoded;
  guint32 depth;
  guint position;       /* index in dag->order */
  gboolean effective;   /* took effect in the current fold */
  /* Every op before this one in the order is one of its ancestors (it
   * cited all heads and nothing was inserted before it since), so a walk
   * of a cut can stop here.  FALSE is always safe. */
  gboolean closed;
};

typedef struct {
  MeroGroupOp *op;
  GBytes *encoded;
  gint64 received_ms;
} MeroGroupPending;

struct _MeroGroupDag {
  MeroStore *store;
  MeroMetrics *metrics;
  guint8 group_id[MERO_GROUP_ID_LEN];
  GHashTable *nodes;        /* id -> MeroGroupNode (owned) */
  GPtrArray *order;         /* MeroGroupNode*, by (depth, id) */
  GHashTable *heads;        /* id set, keys borrowed from nodes */
  GPtrArray *checkpoints;   /* MeroGroupState*: [k] = fold of order[0 .. k*INTERVAL) */
  MeroGroupState *state;    /* fold of all of order */
  GHashTable *pending;      /* id -> MeroGroupPending (owned) */
  GHashTable *max_nonce;    /* signer -> guint64, over stored ops */
  GHashTable *keys;         /* key id -> key */
  gboolean has_identity;
  guint8 secret_key[MERO_GROUP_SECRET_LEN];
  GHashTable *cut_cache;    /* sha256(sorted heads) -> MeroGroupState */
  GQueue cut_cache_order;   /* of cache keys, oldest first */
};

void mero_group_node_free (gpointer node);   /* MeroGroupNode, NULL-safe */
/* Resolves node->parents from dag->nodes (all must be there). */
void mero_group_node_link (MeroGroupDag *dag, MeroGroupNode *node);
guint mero_group_id_hash (gconstpointer key);
gboolean mero_group_id_equal (gconstpointer a, gconstpointer b);

/* fold */
void mero_group_dag_fold_init (MeroGroupDag *dag);
/* Places @node (already in dag->nodes) in the order and updates the
 * current state. */
void mero_group_dag_fold_insert (MeroGroupDag *dag, MeroGroupNode *node);
/* TRUE if @ids (n) are exactly the current heads. */
gboolean mero_group_dag_is_current_heads (MeroGroupDag *dag, const guint8 *ids, guint n);
/* (transfer full) the state of the cut @ids (known nodes). */
MeroGroupState *mero_group_dag_fold_cut (MeroGroupDag *dag, const guint8 *ids, guint n);

/* store */
gboolean mero_group_dag_store_op (MeroGroupDag *dag, MeroGroupNode *node, GError **error);
gboolean mero_group_dag_store_key (MeroGroupDag *dag, const guint8 key_id[MERO_GROUP_ID_LEN],
                                   const guint8 key[MERO_GROUP_GROUP_KEY_LEN], GError **error);
/* Reads every stored op and key of the group into @dag (empty). */
gboolean mero_group_dag_store_load (MeroGroupDag *dag, GError **error);

G_END_DECLS
