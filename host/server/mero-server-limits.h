/* mero-server-limits.h: every bound a client of the HTTP server can hit,
 * in one place (DESIGN §3.4).  Hitting one is counted in
 * mero_http_requests_total (by status) or mero_http_sse_disconnects_total. */
#pragma once

/* Largest request body read (JSON-RPC); larger ones get 413 before a
 * byte of the body is read. */
#define MERO_SERVER_MAX_BODY_BYTES (1024 * 1024)
/* Nesting of JSON-RPC request bodies; deeper is a parse error (json-glib
 * parses recursively). */
#define MERO_SERVER_MAX_JSON_DEPTH 64
/* Requests in one JSON-RPC batch array. */
#define MERO_SERVER_MAX_JSONRPC_BATCH 64
/* Concurrent event-stream clients; more get 503. */
#define MERO_SERVER_MAX_SSE_CLIENTS 64
/* Events an event-stream client may lag behind before it is cut off. */
#define MERO_SERVER_SSE_MAX_QUEUED 256
/* Interval of ": keep-alive" comments on idle event streams, so proxies
 * and clients see a live connection. */
#define MERO_SERVER_SSE_KEEPALIVE_SECS 15
/* Time given to event-stream clients to receive their final event at
 * shutdown before their sockets are shut down. */
#define MERO_SERVER_SHUTDOWN_FLUSH_MS 500
/* Time a connection has to send its request headers; then it is closed
 * (mero_http_headers_timeouts_total), so idle clients cannot hold
 * descriptors for good (libsoup 3.2 has no such limit). */
#define MERO_SERVER_HEADERS_TIMEOUT_SECS 10
/* Listen addresses in server.listen. */
#define MERO_SERVER_MAX_LISTEN 8
/* Bytes of a blob upload read ahead of the disk; past this, reading the
 * body pauses until the worker catches up (uploads are limited by
 * blob.max_size_mb, not MERO_SERVER_MAX_BODY_BYTES). */
#define MERO_SERVER_BLOB_MAX_QUEUED (4 * 1024 * 1024)
/* Concurrent WebSocket clients on /ws; more get 503. */
#define MERO_SERVER_WS_MAX_CLIENTS 64
/* Events a WebSocket client may lag behind (its socket not taking more)
 * before it is cut off (mero_http_ws_disconnects_total{reason="slow"}). */
#define MERO_SERVER_WS_MAX_QUEUED 256
/* Contexts one WebSocket client may subscribe to. */
#define MERO_SERVER_WS_MAX_SUBSCRIPTIONS 256
/* Interval of the server's WebSocket pings. */
#define MERO_SERVER_WS_KEEPALIVE_SECS 15
/* Contexts one event stream may follow (/sse?context=A,B,…). */
#define MERO_SERVER_SSE_MAX_CONTEXTS 256
/* Kernel send buffer of a WebSocket client's socket (fixed: no
 * autotuning), so a client that stops reading holds at most this much
 * (doubled by Linux) plus MERO_SERVER_WS_MAX_QUEUED events. */
#define MERO_SERVER_WS_SNDBUF_BYTES (64 * 1024)
