/* echo-core.h: "test-echo", a small but real sans-IO sync protocol.
 *
 * It does not sync state; it proves the loader hands the host a working
 * session through the copied vtable.  Wire format, one frame:
 *
 *   type (1 byte) | length (1 byte) | payload (length bytes)
 *
 *   'P' ping  payload = 8-byte nonce from host->random_bytes
 *   'O' pong  payload = the ping's payload, echoed
 *   'B' bye   no payload
 *
 * The initiator sends TEST_ECHO_PINGS pings one at a time, each answered
 * by a pong with the same nonce within TEST_ECHO_TIMEOUT_US, then says bye
 * and is DONE.  The responder echoes pings and is DONE on bye.  Either side
 * fails with MERO_SYNC_ERROR_TIMEOUT when its deadline passes and with
 * MERO_SYNC_ERROR_PROTOCOL on an unexpected frame.
 *
 * The broken test plugins reuse these functions with deliberately wrong
 * descriptors or vtables. */
#pragma once

#include <mero-sdk.h>

#define TEST_ECHO_PINGS 3
#define TEST_ECHO_NONCE_LEN 8
#define TEST_ECHO_TIMEOUT_US (5 * G_USEC_PER_SEC)
#define TEST_ECHO_PROTOCOL_ID "/calimero/stream/test-echo/1"

gboolean test_echo_init (const MeroHostServices *host, void **plugin_data, GError **error);
void test_echo_finalize (void *plugin_data);

uint64_t test_echo_cost (void *plugin_data, const MeroSyncHandshake *local,
                         const MeroSyncHandshake *remote);
MeroSyncSession *test_echo_session_new (void *plugin_data, const MeroSyncSessionParams *params,
                                        GError **error);
gboolean test_echo_recv (MeroSyncSession *session, const uint8_t *data, size_t len,
                         int64_t now_us, GError **error);
GBytes *test_echo_pull_send (MeroSyncSession *session);
int64_t test_echo_next_deadline (MeroSyncSession *session);
gboolean test_echo_handle_deadline (MeroSyncSession *session, int64_t now_us, GError **error);
MeroSyncStatus test_echo_status (MeroSyncSession *session);
void test_echo_get_stats (MeroSyncSession *session, MeroSyncSessionStats *out);
void test_echo_session_free (MeroSyncSession *session);

extern const MeroSyncProtocolVTable test_echo_vtable;
