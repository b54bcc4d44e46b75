/* mero-group-limits.h: every bound a peer can push against in group
 * governance, in one place (DESIGN §3.4, upstream lesson 8). */
#pragma once

/* One encoded SignedGroupOpV1 (upstream: op payload 64 KiB). */
#define MERO_GROUP_OP_MAX_BYTES (64 * 1024)
/* Parents cited by one op; an author cites at most this many heads. */
#define MERO_GROUP_OP_MAX_PARENTS 64
/* Members of one group: a rotate op carries an envelope per member and
 * must still fit in MERO_GROUP_OP_MAX_BYTES (~120 bytes per envelope). */
#define MERO_GROUP_MAX_MEMBERS 500
/* Contexts registered in one group. */
#define MERO_GROUP_MAX_CONTEXTS 4096
/* Group metadata blob. */
#define MERO_GROUP_METADATA_MAX_BYTES 4096
/* Ops stored per group (memory: the DAG is kept in RAM). */
#define MERO_GROUP_MAX_OPS (256 * 1024)
/* Ops waiting for their parents (upstream: governance-pending 256) and
 * how long one may wait before it is dropped. */
#define MERO_GROUP_PENDING_MAX 256
#define MERO_GROUP_PENDING_MAX_AGE_MS (10 * 60 * 1000)
/* Missing op ids reported in one catch-up request. */
#define MERO_GROUP_MISSING_MAX 256
/* Ops in one GroupGovernanceDelta; heads in one GroupStateHeartbeat;
 * ids in one GroupMutationNotification list. */
#define MERO_GROUP_DELTA_MAX_OPS 128
#define MERO_GROUP_DELTA_MAX_BYTES (1024 * 1024)
#define MERO_GROUP_HEARTBEAT_MAX_HEADS 64
#define MERO_GROUP_NOTIFICATION_MAX_IDS MERO_GROUP_MAX_MEMBERS
/* A full state copy every this many ops of the deterministic order, so a
 * concurrent op that sorts early refolds only from the nearest one. */
#define MERO_GROUP_CHECKPOINT_INTERVAL 256
/* States at past cuts kept for "was K a writer at cut H?" (a cut's state
 * never changes, so the cache needs no invalidation, only a bound). */
#define MERO_GROUP_CUT_CACHE_MAX 32
