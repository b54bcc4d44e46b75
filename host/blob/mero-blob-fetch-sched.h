/* mero-blob-fetch-sched.h: which chunk ranges of a blob to ask which
 * provider for, and when (sans-IO: no I/O, time passed in as integers).
 *
 * A fetch knows the blob's chunk count and the chunks already verified
 * (a resumed partial).  The missing ones are handed out in ranges of
 * consecutive chunks, up to range_chunks each, spread over the providers
 * in turn, within three bounds: ranges (streams) open to a provider at
 * once, chunks in flight per provider, and chunks in flight in all.
 * A range that ends leaves its unreceived chunks missing again, so they
 * go to the next provider asked.  How it ended decides the provider's
 * fate: a corrupt chunk, a refusal or "not found" drop it at once (its
 * chunks are fetched elsewhere); a transient failure (stream cut,
 * timeout) is retried up to max_failures times, then it is dropped too.
 * The fetch fails when no provider is left with chunks missing, or at
 * its deadline. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  guint range_chunks;          /* chunks per request */
  guint max_inflight_per_peer; /* chunks asked of one provider at once */
  guint max_inflight;          /* chunks asked at once in all */
  /* Ranges open to one provider at once: each is a stream, and a
   * provider serves a peer at most MERO_NODE_MAX_INBOUND_PER_PEER at once
   * (it resets the rest as busy).  Chunks count as no longer in flight
   * as they arrive, so without this bound every range that ends would be
   * refilled by ever smaller new ranges alongside those still open. */
  guint max_ranges_per_peer;
  guint max_failures;          /* transient failures before a provider is dropped */
  gint64 timeout_us;           /* the whole fetch */
} MeroBlobSchedLimits;

typedef enum {
  MERO_BLOB_RANGE_OK,          /* every chunk arrived */
  MERO_BLOB_RANGE_TRANSIENT,   /* cut, timed out, busy: may be retried */
  MERO_BLOB_RANGE_CORRUPT,     /* a chunk failed its hash */
  MERO_BLOB_RANGE_REFUSED,     /* not authorised, or does not hold the blob */
} MeroBlobRangeOutcome;

typedef enum {
  MERO_BLOB_SCHED_RUNNING,
  MERO_BLOB_SCHED_DONE,        /* every chunk verified */
  MERO_BLOB_SCHED_NO_PROVIDER, /* chunks missing, nobody left to ask */
  MERO_BLOB_SCHED_TIMED_OUT,
} MeroBlobSchedState;

typedef struct _MeroBlobSched MeroBlobSched;

/* Defaults: 16-chunk ranges (4 MiB, the plugin's bound per request), 48
 * chunks and MERO_BLOB_SCHED_MAX_RANGES_PER_PEER (three) ranges per
 * provider, 96 chunks (24 MiB) in all, 2 transient failures, 30 minutes. */
#define MERO_BLOB_SCHED_MAX_RANGES_PER_PEER 3u
void mero_blob_sched_limits_default (MeroBlobSchedLimits *limits);

MeroBlobSched *mero_blob_sched_new (guint64 n_chunks, const MeroBlobSchedLimits *limits,
                                    gint64 now_us);
void mero_blob_sched_free (MeroBlobSched *sched);

/* A chunk already verified (resume); before the first range. */
void mero_blob_sched_mark_have (MeroBlobSched *sched, guint64 index);
/* Adds a provider (ignored if known, or dropped before). */
void mero_blob_sched_add_provider (MeroBlobSched *sched, const char *peer);

/* The next range to ask for now, if any: TRUE and *peer (borrowed, valid
 * while the provider is known), *first, *count.  The range is in flight
 * from then on. */
gboolean mero_blob_sched_next (MeroBlobSched *sched, gint64 now_us, const char **peer,
                               guint64 *first, guint64 *count);
/* Chunk @index of a range in flight from @peer was verified and written. */
void mero_blob_sched_chunk_done (MeroBlobSched *sched, const char *peer, guint64 index);
/* The range [first, first + count) asked of @peer ended with @outcome. */
void mero_blob_sched_range_ended (MeroBlobSched *sched, const char *peer, guint64 first,
                                  guint64 count, MeroBlobRangeOutcome outcome, gint64 now_us);

MeroBlobSchedState mero_blob_sched_state (MeroBlobSched *sched, gint64 now_us);
guint64 mero_blob_sched_have_count (MeroBlobSched *sched);
guint64 mero_blob_sched_inflight (MeroBlobSched *sched);
/* Providers with a range in flight now. */
guint mero_blob_sched_serving (MeroBlobSched *sched);
/* Providers not dropped. */
guint mero_blob_sched_providers (MeroBlobSched *sched);
gboolean mero_blob_sched_is_dropped (MeroBlobSched *sched, const char *peer);
gint64 mero_blob_sched_deadline (MeroBlobSched *sched);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroBlobSched, mero_blob_sched_free)

G_END_DECLS
