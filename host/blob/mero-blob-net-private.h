/* mero-blob-net-private.h: shared by mero-blob-net.c (serving, the
 * stream handler, the host's MeroBlobAccess) and mero-blob-fetch.c. */
#pragma once

#include "blob/mero-blob-fetch-sched.h"
#include "blob/mero-blob-net.h"
#include "blob/mero-blob-partial.h"
#include "sync/mero-sync-session.h"

G_BEGIN_DECLS

/* What a MeroBlobHandle points at: a served stream or a fetch session. */
typedef enum {
  HANDLE_SERVE,
  HANDLE_FETCH,
} HandleKind;

typedef struct {
  HandleKind kind;
  MeroBlobNet *net;
} Handle;

typedef struct _Fetch Fetch;

/* One request on one stream of a fetch: the header probe or a range. */
typedef struct {
  Handle base;
  Fetch *fetch;
  char *peer;
  guint64 first, count;
  gboolean probe;
  guint64 request_id;          /* while the stream opens */
  MeroNetStream *stream;
  MeroSyncDriver *driver;
  MeroBlobFailure failure;     /* what the plugin noted */
  char *failure_message;
  gboolean queued;             /* waiting in net->waiting for a stream slot */
  gboolean counted;            /* holds one of net->peer_streams[peer] */
} FetchSession;

typedef struct _LookupData LookupData;

struct _MeroBlobNet {
  MeroBlobNetConfig config;
  MeroMetrics *metrics;
  GHashTable *serves;          /* MeroNetStream * → Serve */
  guint serves_members, serves_others;
  GHashTable *streams;         /* MeroNetStream * → FetchSession (borrowed) */
  GHashTable *opening;         /* request id (guint64 *) → FetchSession (borrowed) */
  GHashTable *fetches;         /* blob id (base58) → Fetch */
  /* Streams open or opening to each provider over every fetch, so that
   * concurrent fetches stay within the slots a provider serves a peer;
   * sessions beyond MERO_BLOB_NET_STREAMS_PER_PEER wait in order. */
  GHashTable *peer_streams;    /* PeerId → count (GUINT_TO_POINTER) */
  GQueue waiting;              /* FetchSession * (borrowed) */
  guint wake_id;               /* idle source starting waiting sessions */
  MeroBlobProviderLookup lookup;
  gpointer lookup_data;
  MeroBlobFetchProgressFunc progress;
  gpointer progress_data;
  MeroBlobFetchedFunc fetched;
  gpointer fetched_data;
  guint64 served_chunks;       /* for the debug serve limit */
  guint commits;               /* fetch commits running on workers */
  GPtrArray *lookups;          /* LookupData in flight (borrowed: the lookup frees it) */
};

/* mero-blob-fetch.c: the fetch side of the access table and the stream
 * events of fetch sessions. */
gboolean mero_blob_fetch_partial_open (FetchSession *fs, guint64 size, GBytes *leaves,
                                       GError **error);
gboolean mero_blob_fetch_write_chunk (FetchSession *fs, guint64 index, const guint8 *data,
                                      gsize len, GError **error);
guint64 mero_blob_fetch_next_missing (FetchSession *fs, guint64 from);
gboolean mero_blob_fetch_commit (FetchSession *fs, GError **error);
void mero_blob_fetch_session_opened (FetchSession *fs, MeroNetStream *stream);
void mero_blob_fetch_session_open_failed (FetchSession *fs, const char *message);
void mero_blob_fetch_session_data (FetchSession *fs, GBytes *bytes);
void mero_blob_fetch_session_ended (FetchSession *fs, gboolean reset);
/* Fails every fetch (the service is going away). */
void mero_blob_fetch_fail_all (MeroBlobNet *net);
/* Detaches the lookups in flight: their answers, if they come, are dropped. */
void mero_blob_fetch_forget_lookups (MeroBlobNet *net);

G_END_DECLS
