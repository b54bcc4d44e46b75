/* sync-hash-session.h: the session state and the helpers shared by the
 * initiator (sync-hash-initiator.c) and the responder
 * (sync-hash-responder.c).  Private to the plugin. */
#pragma once

#include "sync-hash-core.h"
#include "sync-hash-wire.h"

G_BEGIN_DECLS

/* Local children are read from the host in pages of this many. */
#define LIST_PAGE 256u

struct _SyncHashSession {
  SyncHashConfig config;
  const MeroStateAccess *sa;
  MeroStateHandle *state;
  MeroStateLayout layout;
  MeroSyncRole role;
  uint8_t ctx[32];
  MeroSyncStatus status;
  MeroSyncSessionStats stats;

  GByteArray *inbuf;
  GQueue outq;                  /* GBytes, whole frames */

  int64_t session_deadline;
  int64_t idle_deadline;
  uint64_t requests;            /* responder: requests served */
  uint64_t entities;            /* entities received and merged */

  /* Initiator. */
  GQueue frontier;              /* SyncHashNode *, next nodes to ask for */
  GArray *in_flight;            /* SyncHashNode asked in the outstanding request */
  gboolean awaiting_reply;
  GPtrArray *push;              /* SyncHashEntity *, own versions for the next request */
  size_t push_bytes;
  guint pass;
  uint8_t remote_root[32];
};

/* Counts one event in @metric{protocol,reason}. */
void sync_hash_count (SyncHashSession *s, const char *metric, const char *reason);
/* Ends the session: counted in mero_sync_failures_total{reason}, logged,
 * and reported through @error.  Returns FALSE for the caller to return. */
gboolean sync_hash_fail (SyncHashSession *s, GError **error, int code, const char *reason,
                         const char *format, ...) G_GNUC_PRINTF (5, 6);
/* A peer's message over a bound: refused (counted separately with its
 * reason), and the session ends. */
gboolean sync_hash_refuse (SyncHashSession *s, GError **error, const char *reason,
                           const char *what);
gboolean sync_hash_state_failed (SyncHashSession *s, GError **error, GError *cause);
void sync_hash_queue_msg (SyncHashSession *s, const SyncHashMsg *m);

gboolean sync_hash_node_is_root (const SyncHashSession *s, const SyncHashNode *n);
/* The node @extra_slot (-1: none) under @owner/@path, or in levelwise
 * mode the entity @owner with its logical children. */
void sync_hash_node_make (const SyncHashSession *s, const uint8_t owner[32],
                          const uint8_t *path, size_t path_len, int extra_slot,
                          SyncHashNode *n);
/* The node a chained answer after @a (for @node) is about: its only child. */
void sync_hash_chained_node (const SyncHashSession *s, const SyncHashNode *node,
                             const SyncHashAnswer *a, SyncHashNode *out);
/* The local children of @node as they go on the wire: @form and @out. */
gboolean sync_hash_node_children (SyncHashSession *s, const SyncHashNode *node, uint8_t *form,
                                  GArray *out, GError **error);
/* Merges @entities (SyncHashEntity *) with one writer: all or nothing;
 * @root (may be NULL) gets the new root. */
gboolean sync_hash_merge_all (SyncHashSession *s, GPtrArray *entities, uint8_t root[32],
                              GError **error);

/* sync-hash-initiator.c */
gboolean sync_hash_initiator_start (SyncHashSession *s, GError **error);
gboolean sync_hash_initiator_handle (SyncHashSession *s, SyncHashMsg *m, GError **error);
/* sync-hash-responder.c */
gboolean sync_hash_responder_handle (SyncHashSession *s, SyncHashMsg *m, GError **error);

G_END_DECLS
