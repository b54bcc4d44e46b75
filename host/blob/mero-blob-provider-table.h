/* mero-blob-provider-table.h: what this node knows about who holds which
 * blob, and the rate limiter of its own announces.  Sans-IO: every call
 * takes the time (milliseconds, any monotone integer clock: the node
 * passes Unix time to the table, so record timestamps compare, and
 * monotonic time to the announce queue), nothing here reads a clock, a
 * socket or a disk.
 *
 * The table is bounded per blob, per context and in all; entries expire
 * MeroBlobProviderLimits.ttl_ms after the record that stated them.  It
 * is not persisted: providers re-announce what they upload or fetch, a
 * lookup that finds nothing asks the members (blob-have), and a table
 * that survived a restart would mostly name peers whose records expired
 * meanwhile, so keeping it would cost store writes on the gossip path
 * for little.  Only records the caller already checked (signature,
 * member, time window) go in. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MERO_BLOB_PROVIDER_TABLE_ID_LEN 32

typedef struct {
  guint max_per_blob;      /* providers kept per (context, blob); the oldest goes */
  guint max_per_context;   /* (blob, provider) entries per context */
  guint max_total;         /* entries in all */
  guint max_contexts;      /* contexts with entries */
  guint64 ttl_ms;          /* an entry lives this long after its record's time */
} MeroBlobProviderLimits;

/* Defaults: 16 per blob, 8192 per context, 65536 in all, 1024 contexts,
 * one hour. */
void mero_blob_provider_limits_init (MeroBlobProviderLimits *limits);

typedef struct _MeroBlobProviderTable MeroBlobProviderTable;

typedef enum {
  MERO_BLOB_PROVIDER_ADDED = 1,
  MERO_BLOB_PROVIDER_REFRESHED,   /* known, now with a newer time */
  MERO_BLOB_PROVIDER_STALE,       /* known with a time at least as new: unchanged */
  MERO_BLOB_PROVIDER_EXPIRED,     /* @at_ms + ttl already past: not added */
} MeroBlobProviderAdd;

MeroBlobProviderTable *mero_blob_provider_table_new (const MeroBlobProviderLimits *limits);
void mero_blob_provider_table_free (MeroBlobProviderTable *table);   /* NULL-safe */

/* @peer holds @blob of @size in @context as of @at_ms.  Over a bound the
 * oldest entry of that blob, then of that context, then in all goes
 * (*evicted counts them, nullable). */
MeroBlobProviderAdd mero_blob_provider_table_add (MeroBlobProviderTable *table,
                                                  const guint8 context[32], const guint8 blob[32],
                                                  const char *peer, guint64 size, gint64 at_ms,
                                                  gint64 now_ms, guint *evicted);

typedef struct {
  char *peer;
  guint64 size;
  gint64 at_ms;
} MeroBlobProviderEntry;

/* (transfer full) GPtrArray of MeroBlobProviderEntry (owned), most recent
 * first; expired entries are left out (and dropped). */
GPtrArray *mero_blob_provider_table_lookup (MeroBlobProviderTable *table,
                                            const guint8 context[32], const guint8 blob[32],
                                            gint64 now_ms);
/* Drops what @peer stated in @context (it left, or was removed). */
guint mero_blob_provider_table_forget_peer (MeroBlobProviderTable *table,
                                            const guint8 context[32], const char *peer);
/* Drops expired entries; returns how many went. */
guint mero_blob_provider_table_expire (MeroBlobProviderTable *table, gint64 now_ms);
guint mero_blob_provider_table_size (MeroBlobProviderTable *table);
guint mero_blob_provider_table_context_size (MeroBlobProviderTable *table,
                                             const guint8 context[32]);

/* ---- announces: coalesced, rate-limited, bounded ----
 *
 * Blobs to announce wait per context; a context's batch goes when it is
 * full (MERO_BLOB_PROVIDER_RECORD_MAX_BLOBS) or its oldest blob waited
 * coalesce_ms, and only while both token buckets (the context's and the
 * node's) have a token: a burst of uploads becomes a few records, never
 * one gossip message per blob.  Over max_pending_* a blob is not queued
 * (push returns FALSE; the caller counts it): the blob is still held,
 * and members find it by asking (blob-have). */

typedef struct {
  guint coalesce_ms;           /* 50 */
  guint per_context_burst;     /* 4 records */
  guint per_context_every_ms;  /* one more token each 500 ms */
  guint total_burst;           /* 16 records */
  guint total_every_ms;        /* one more token each 100 ms */
  guint max_pending_per_context;  /* 4096 blobs */
  guint max_pending_total;        /* 16384 blobs */
  guint max_contexts;             /* 1024 contexts with blobs waiting */
} MeroBlobAnnounceLimits;

void mero_blob_announce_limits_init (MeroBlobAnnounceLimits *limits);

typedef struct _MeroBlobAnnounceQueue MeroBlobAnnounceQueue;

MeroBlobAnnounceQueue *mero_blob_announce_queue_new (const MeroBlobAnnounceLimits *limits);
void mero_blob_announce_queue_free (MeroBlobAnnounceQueue *queue);   /* NULL-safe */
/* FALSE when a bound refuses it; a blob already waiting in @context is
 * not queued twice (TRUE). */
gboolean mero_blob_announce_queue_push (MeroBlobAnnounceQueue *queue, const guint8 context[32],
                                        const guint8 blob[32], guint64 size, gint64 now_ms);
/* The next batch allowed at @now_ms: TRUE with @context set and @held
 * (GArray of MeroBlobHeld, transfer full, at most MAX_BLOBS) to publish
 * now; FALSE when none may go now. */
gboolean mero_blob_announce_queue_pop (MeroBlobAnnounceQueue *queue, gint64 now_ms,
                                       guint8 context[32], GArray **held);
/* When pop may next return a batch (ms, same clock), or -1 if nothing waits. */
gint64 mero_blob_announce_queue_next_ms (MeroBlobAnnounceQueue *queue, gint64 now_ms);
guint mero_blob_announce_queue_pending (MeroBlobAnnounceQueue *queue);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroBlobProviderTable, mero_blob_provider_table_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroBlobAnnounceQueue, mero_blob_announce_queue_free)

G_END_DECLS
