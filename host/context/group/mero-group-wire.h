/* mero-group-wire.h: the governance payloads the node puts on a group's
 * gossip topic besides single ops (SignedGroupOpV1, mero-group-op.h):
 *
 *   GroupStateHeartbeat        group id + DAG heads, so peers notice a
 *                              difference;
 *   GroupGovernanceDelta       a bounded batch of encoded ops answering a
 *                              heartbeat mismatch, each carried verbatim
 *                              and checked by mero_group_dag_receive();
 *   GroupMutationNotification  whose membership an op changed, so peers
 *                              re-evaluate subscriptions.
 *
 * Decoders bound their input (MERO_GROUP_* in mero-group-limits.h) and
 * insist on exact id sizes.  Id lists are guint8[32] GArrays. */
#pragma once

#include <glib.h>

#include "context/group/mero-group-state.h"

G_BEGIN_DECLS

GBytes *mero_group_heartbeat_encode (const guint8 group_id[MERO_GROUP_ID_LEN], const GArray *heads);
gboolean mero_group_heartbeat_decode (const guint8 *data, gsize len,
                                      guint8 group_id_out[MERO_GROUP_ID_LEN],
                                      GArray **heads_out, GError **error);

/* @ops: GBytes* encoded ops, at most MERO_GROUP_DELTA_MAX_OPS. */
GBytes *mero_group_delta_encode (const guint8 group_id[MERO_GROUP_ID_LEN], const GPtrArray *ops);
/* *ops_out: (transfer container) GBytes*. */
gboolean mero_group_delta_decode (const guint8 *data, gsize len,
                                  guint8 group_id_out[MERO_GROUP_ID_LEN], GPtrArray **ops_out,
                                  GError **error);

GBytes *mero_group_notification_encode (const guint8 group_id[MERO_GROUP_ID_LEN],
                                        const guint8 op_id[MERO_GROUP_ID_LEN],
                                        const MeroGroupMutation *mutation);
gboolean mero_group_notification_decode (const guint8 *data, gsize len,
                                         guint8 group_id_out[MERO_GROUP_ID_LEN],
                                         guint8 op_id_out[MERO_GROUP_ID_LEN],
                                         MeroGroupMutation **mutation_out, GError **error);

G_END_DECLS
