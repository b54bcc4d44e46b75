/* test-abi.c: the ABI 1 freeze.
 *
 * Every number below was computed once from the ABI 1 headers on
 * x86_64 (LP64, System V) and written down by hand.  If one of these
 * assertions fails, a change broke binary compatibility with plugins built
 * against ABI 1: structs may only grow at the end (and then only the sizes
 * change, never an offset), enum values and error codes never change.
 * Layout numbers are only meaningful on the ABI they were taken on, so the
 * layout tests skip elsewhere; the value tests run everywhere. */
#include <stddef.h>
#include <string.h>

#include <mero-sdk.h>

#if defined(__x86_64__) && defined(__LP64__)
#define ABI_IS_FROZEN_TARGET 1
#else
#define ABI_IS_FROZEN_TARGET 0
#endif

#define SKIP_UNLESS_LP64()                                                             \
  G_STMT_START                                                                         \
  {                                                                                    \
    if (!ABI_IS_FROZEN_TARGET)                                                         \
      {                                                                                \
        g_test_skip ("layout numbers are frozen for x86_64 LP64 only");                \
        return;                                                                        \
      }                                                                                \
  }                                                                                    \
  G_STMT_END

#define CHECK_SIZE(type, size) g_assert_cmpuint (sizeof (type), ==, (size))
#define CHECK_MEMBER(type, member, offset, size)                                       \
  G_STMT_START                                                                         \
  {                                                                                    \
    g_assert_cmpuint (offsetof (type, member), ==, (offset));                          \
    g_assert_cmpuint (sizeof (((type *) NULL)->member), ==, (size));                   \
  }                                                                                    \
  G_STMT_END

static void
test_state_entity (void)
{
  SKIP_UNLESS_LP64 ();
  /* 192 in ABI 1.0; 1.1 appended the HLC writer halves and cleared_at. */
  CHECK_SIZE (MeroStateEntity, 232);
  CHECK_MEMBER (MeroStateEntity, struct_size, 0, 4);
  CHECK_MEMBER (MeroStateEntity, crdt_type, 4, 4);
  CHECK_MEMBER (MeroStateEntity, id, 8, 32);
  CHECK_MEMBER (MeroStateEntity, parent_id, 40, 32);
  CHECK_MEMBER (MeroStateEntity, own_hash, 72, 32);
  CHECK_MEMBER (MeroStateEntity, full_hash, 104, 32);
  CHECK_MEMBER (MeroStateEntity, created_at, 136, 8);
  CHECK_MEMBER (MeroStateEntity, updated_at, 144, 8);
  CHECK_MEMBER (MeroStateEntity, deleted_at, 152, 8);
  CHECK_MEMBER (MeroStateEntity, data, 160, 8);
  CHECK_MEMBER (MeroStateEntity, data_len, 168, 8);
  CHECK_MEMBER (MeroStateEntity, child_ids, 176, 8);
  CHECK_MEMBER (MeroStateEntity, n_children, 184, 8);
  CHECK_MEMBER (MeroStateEntity, created_node, 192, 8);
  CHECK_MEMBER (MeroStateEntity, updated_node, 200, 8);
  CHECK_MEMBER (MeroStateEntity, deleted_node, 208, 8);
  CHECK_MEMBER (MeroStateEntity, cleared_at, 216, 8);
  CHECK_MEMBER (MeroStateEntity, cleared_node, 224, 8);
}

static void
test_state_child (void)
{
  SKIP_UNLESS_LP64 ();
  CHECK_SIZE (MeroStateChild, 72);
  CHECK_MEMBER (MeroStateChild, id, 0, 32);
  CHECK_MEMBER (MeroStateChild, full_hash, 32, 32);
  CHECK_MEMBER (MeroStateChild, kind, 64, 4);
  CHECK_MEMBER (MeroStateChild, slot, 68, 4);
}

static void
test_state_layout (void)
{
  SKIP_UNLESS_LP64 ();
  CHECK_SIZE (MeroStateLayout, 24);
  CHECK_MEMBER (MeroStateLayout, struct_size, 0, 4);
  CHECK_MEMBER (MeroStateLayout, bucket_levels, 4, 4);
  CHECK_MEMBER (MeroStateLayout, bucket_fanout, 8, 4);
  CHECK_MEMBER (MeroStateLayout, max_depth, 12, 4);
  CHECK_MEMBER (MeroStateLayout, max_data, 16, 8);
}

static void
test_state_access (void)
{
  SKIP_UNLESS_LP64 ();
  /* 40 in ABI 1.0; 1.1 appended the tree walk, DAG heads and writer. */
  /* 168 in ABI 1.1; 1.2 appended the plugin state index members. */
  CHECK_SIZE (MeroStateAccess, 216);
  CHECK_MEMBER (MeroStateAccess, struct_size, 0, 4);
  CHECK_MEMBER (MeroStateAccess, reserved, 4, 4);
  CHECK_MEMBER (MeroStateAccess, get_root_hash, 8, 8);
  CHECK_MEMBER (MeroStateAccess, get_entity, 16, 8);
  CHECK_MEMBER (MeroStateAccess, merge_entity, 24, 8);
  CHECK_MEMBER (MeroStateAccess, count_entities, 32, 8);
  CHECK_MEMBER (MeroStateAccess, get_layout, 40, 8);
  CHECK_MEMBER (MeroStateAccess, list_children, 48, 8);
  CHECK_MEMBER (MeroStateAccess, get_dag_heads, 56, 8);
  CHECK_MEMBER (MeroStateAccess, writer_new, 64, 8);
  CHECK_MEMBER (MeroStateAccess, writer_merge, 72, 8);
  CHECK_MEMBER (MeroStateAccess, writer_commit, 80, 8);
  CHECK_MEMBER (MeroStateAccess, writer_free, 88, 8);
  CHECK_MEMBER (MeroStateAccess, read_view_new, 96, 8);
  CHECK_MEMBER (MeroStateAccess, read_view_boundary, 104, 8);
  CHECK_MEMBER (MeroStateAccess, read_view_page, 112, 8);
  CHECK_MEMBER (MeroStateAccess, read_view_free, 120, 8);
  CHECK_MEMBER (MeroStateAccess, snapshot_begin, 128, 8);
  CHECK_MEMBER (MeroStateAccess, snapshot_put_page, 136, 8);
  CHECK_MEMBER (MeroStateAccess, snapshot_commit, 144, 8);
  CHECK_MEMBER (MeroStateAccess, snapshot_abort, 152, 8);
  CHECK_MEMBER (MeroStateAccess, snapshot_free, 160, 8);
  /* ABI 1.2: plugin state indexes. */
  CHECK_MEMBER (MeroStateAccess, index_version, 168, 8);
  CHECK_MEMBER (MeroStateAccess, index_get, 176, 8);
  CHECK_MEMBER (MeroStateAccess, index_scan, 184, 8);
  CHECK_MEMBER (MeroStateAccess, index_batch_get, 192, 8);
  CHECK_MEMBER (MeroStateAccess, index_batch_put, 200, 8);
  CHECK_MEMBER (MeroStateAccess, index_batch_delete, 208, 8);
  g_assert_cmpint (MERO_INDEX_KEY_MAX, ==, 64);
}

static void
test_host_services (void)
{
  SKIP_UNLESS_LP64 ();
  /* 88 in ABI 1.0; 1.1 appended the key access table, 1.2 the blob one. */
  CHECK_SIZE (MeroHostServices, 104);
  CHECK_MEMBER (MeroHostServices, struct_size, 0, 4);
  CHECK_MEMBER (MeroHostServices, abi_major, 4, 4);
  CHECK_MEMBER (MeroHostServices, abi_minor, 8, 4);
  CHECK_MEMBER (MeroHostServices, reserved, 12, 4);
  CHECK_MEMBER (MeroHostServices, host_version, 16, 8);
  CHECK_MEMBER (MeroHostServices, log, 24, 8);
  CHECK_MEMBER (MeroHostServices, now_monotonic_us, 32, 8);
  CHECK_MEMBER (MeroHostServices, now_real_us, 40, 8);
  CHECK_MEMBER (MeroHostServices, random_bytes, 48, 8);
  CHECK_MEMBER (MeroHostServices, counter_add, 56, 8);
  CHECK_MEMBER (MeroHostServices, gauge_set, 64, 8);
  CHECK_MEMBER (MeroHostServices, state, 72, 8);
  CHECK_MEMBER (MeroHostServices, host_data, 80, 8);
  CHECK_MEMBER (MeroHostServices, keys, 88, 8);
  CHECK_MEMBER (MeroHostServices, blobs, 96, 8);
}

static void
test_key_access (void)
{
  SKIP_UNLESS_LP64 ();
  CHECK_SIZE (MeroKeyAccess, 24);
  CHECK_MEMBER (MeroKeyAccess, struct_size, 0, 4);
  CHECK_MEMBER (MeroKeyAccess, reserved, 4, 4);
  CHECK_MEMBER (MeroKeyAccess, seal_for_peer, 8, 8);
  CHECK_MEMBER (MeroKeyAccess, open_install, 16, 8);
  g_assert_cmpint (MERO_KEY_SEALED_LEN, ==, 80);
  g_assert_cmpint (MERO_KEY_ID_LEN, ==, 32);
}

static void
test_plugin_descriptor (void)
{
  SKIP_UNLESS_LP64 ();
  CHECK_SIZE (MeroPluginDescriptor, 64);
  CHECK_MEMBER (MeroPluginDescriptor, abi_major, 0, 4);
  CHECK_MEMBER (MeroPluginDescriptor, abi_minor, 4, 4);
  CHECK_MEMBER (MeroPluginDescriptor, struct_size, 8, 4);
  CHECK_MEMBER (MeroPluginDescriptor, kind, 12, 4);
  CHECK_MEMBER (MeroPluginDescriptor, name, 16, 8);
  CHECK_MEMBER (MeroPluginDescriptor, version, 24, 8);
  CHECK_MEMBER (MeroPluginDescriptor, license, 32, 8);
  CHECK_MEMBER (MeroPluginDescriptor, vtable, 40, 8);
  CHECK_MEMBER (MeroPluginDescriptor, init, 48, 8);
  CHECK_MEMBER (MeroPluginDescriptor, finalize, 56, 8);
}

static void
test_backend_open_options (void)
{
  SKIP_UNLESS_LP64 ();
  CHECK_SIZE (MeroBackendOpenOptions, 16);
  CHECK_MEMBER (MeroBackendOpenOptions, struct_size, 0, 4);
  CHECK_MEMBER (MeroBackendOpenOptions, flags, 4, 4);
  CHECK_MEMBER (MeroBackendOpenOptions, cache_bytes, 8, 8);
}

static void
test_storage_backend_v_table (void)
{
  SKIP_UNLESS_LP64 ();
  CHECK_SIZE (MeroStorageBackendVTable, 184);
  CHECK_MEMBER (MeroStorageBackendVTable, struct_size, 0, 4);
  CHECK_MEMBER (MeroStorageBackendVTable, reserved, 4, 4);
  CHECK_MEMBER (MeroStorageBackendVTable, open, 8, 8);
  CHECK_MEMBER (MeroStorageBackendVTable, close, 16, 8);
  CHECK_MEMBER (MeroStorageBackendVTable, flush, 24, 8);
  CHECK_MEMBER (MeroStorageBackendVTable, get, 32, 8);
  CHECK_MEMBER (MeroStorageBackendVTable, put, 40, 8);
  CHECK_MEMBER (MeroStorageBackendVTable, delete_key, 48, 8);
  CHECK_MEMBER (MeroStorageBackendVTable, batch_new, 56, 8);
  CHECK_MEMBER (MeroStorageBackendVTable, batch_put, 64, 8);
  CHECK_MEMBER (MeroStorageBackendVTable, batch_delete, 72, 8);
  CHECK_MEMBER (MeroStorageBackendVTable, batch_commit, 80, 8);
  CHECK_MEMBER (MeroStorageBackendVTable, batch_free, 88, 8);
  CHECK_MEMBER (MeroStorageBackendVTable, snapshot_new, 96, 8);
  CHECK_MEMBER (MeroStorageBackendVTable, snapshot_free, 104, 8);
  CHECK_MEMBER (MeroStorageBackendVTable, iter_new, 112, 8);
  CHECK_MEMBER (MeroStorageBackendVTable, iter_seek_first, 120, 8);
  CHECK_MEMBER (MeroStorageBackendVTable, iter_seek, 128, 8);
  CHECK_MEMBER (MeroStorageBackendVTable, iter_valid, 136, 8);
  CHECK_MEMBER (MeroStorageBackendVTable, iter_next, 144, 8);
  CHECK_MEMBER (MeroStorageBackendVTable, iter_key, 152, 8);
  CHECK_MEMBER (MeroStorageBackendVTable, iter_value, 160, 8);
  CHECK_MEMBER (MeroStorageBackendVTable, iter_check, 168, 8);
  CHECK_MEMBER (MeroStorageBackendVTable, iter_free, 176, 8);
}

static void
test_sync_handshake (void)
{
  SKIP_UNLESS_LP64 ();
  CHECK_SIZE (MeroSyncHandshake, 80);
  CHECK_MEMBER (MeroSyncHandshake, struct_size, 0, 4);
  CHECK_MEMBER (MeroSyncHandshake, reserved, 4, 4);
  CHECK_MEMBER (MeroSyncHandshake, root_hash, 8, 32);
  CHECK_MEMBER (MeroSyncHandshake, heads, 40, 8);
  CHECK_MEMBER (MeroSyncHandshake, n_heads, 48, 8);
  CHECK_MEMBER (MeroSyncHandshake, entity_count, 56, 8);
  CHECK_MEMBER (MeroSyncHandshake, max_depth, 64, 4);
  CHECK_MEMBER (MeroSyncHandshake, reserved2, 68, 4);
  CHECK_MEMBER (MeroSyncHandshake, flags, 72, 8);
}

static void
test_sync_session_params (void)
{
  SKIP_UNLESS_LP64 ();
  /* 80 in ABI 1.0; 1.1 appended the key handle and key ids, 1.2 the
   * blob session members. */
  CHECK_SIZE (MeroSyncSessionParams, 168);
  CHECK_MEMBER (MeroSyncSessionParams, struct_size, 0, 4);
  CHECK_MEMBER (MeroSyncSessionParams, role, 4, 4);
  CHECK_MEMBER (MeroSyncSessionParams, context_id, 8, 32);
  CHECK_MEMBER (MeroSyncSessionParams, peer_id, 40, 8);
  CHECK_MEMBER (MeroSyncSessionParams, local, 48, 8);
  CHECK_MEMBER (MeroSyncSessionParams, remote, 56, 8);
  CHECK_MEMBER (MeroSyncSessionParams, state, 64, 8);
  CHECK_MEMBER (MeroSyncSessionParams, now_us, 72, 8);
  CHECK_MEMBER (MeroSyncSessionParams, keys, 80, 8);
  CHECK_MEMBER (MeroSyncSessionParams, key_ids, 88, 8);
  CHECK_MEMBER (MeroSyncSessionParams, n_key_ids, 96, 8);
  CHECK_MEMBER (MeroSyncSessionParams, blobs, 104, 8);
  CHECK_MEMBER (MeroSyncSessionParams, blob_id, 112, 32);
  CHECK_MEMBER (MeroSyncSessionParams, chunk_first, 144, 8);
  CHECK_MEMBER (MeroSyncSessionParams, chunk_count, 152, 8);
  CHECK_MEMBER (MeroSyncSessionParams, blob_flags, 160, 4);
  CHECK_MEMBER (MeroSyncSessionParams, reserved3, 164, 4);
}

/* ---- ABI 1.2: blob transfer ---- */

static void
test_blob_access (void)
{
  SKIP_UNLESS_LP64 ();
  CHECK_SIZE (MeroBlobAccess, 80);
  CHECK_MEMBER (MeroBlobAccess, struct_size, 0, 4);
  CHECK_MEMBER (MeroBlobAccess, reserved, 4, 4);
  CHECK_MEMBER (MeroBlobAccess, authorize, 8, 8);
  CHECK_MEMBER (MeroBlobAccess, get_blob, 16, 8);
  CHECK_MEMBER (MeroBlobAccess, read_chunk, 24, 8);
  CHECK_MEMBER (MeroBlobAccess, sign_request, 32, 8);
  CHECK_MEMBER (MeroBlobAccess, partial_open, 40, 8);
  CHECK_MEMBER (MeroBlobAccess, write_chunk, 48, 8);
  CHECK_MEMBER (MeroBlobAccess, next_missing, 56, 8);
  CHECK_MEMBER (MeroBlobAccess, commit, 64, 8);
  CHECK_MEMBER (MeroBlobAccess, note_failure, 72, 8);
}

static void
test_blob_values (void)
{
  static const uint8_t blob[32] = { 1 }, ctx[32] = { 2 };
  uint8_t msg[MERO_BLOB_REQUEST_MESSAGE_LEN];

  g_assert_cmpint (MERO_BLOB_XFER_CHUNK_LEN, ==, 262144);
  g_assert_cmpint (MERO_BLOB_XFER_ID_LEN, ==, 32);
  g_assert_cmpint (MERO_BLOB_XFER_SIGNER_LEN, ==, 32);
  g_assert_cmpint (MERO_BLOB_XFER_SIGNATURE_LEN, ==, 64);
  g_assert_cmpint (MERO_BLOB_SESSION_WANT_LEAVES, ==, 1);
  g_assert_cmpint (MERO_BLOB_SESSION_WHOLE_IF_FITS, ==, 2);
  g_assert_cmpint (MERO_BLOB_FAILURE_NONE, ==, 0);
  g_assert_cmpint (MERO_BLOB_FAILURE_PROTOCOL, ==, 1);
  g_assert_cmpint (MERO_BLOB_FAILURE_TIMEOUT, ==, 2);
  g_assert_cmpint (MERO_BLOB_FAILURE_REFUSED, ==, 3);
  g_assert_cmpint (MERO_BLOB_FAILURE_NOT_FOUND, ==, 4);
  g_assert_cmpint (MERO_BLOB_FAILURE_CORRUPT, ==, 5);
  g_assert_cmpint (MERO_BLOB_FAILURE_TOO_LARGE, ==, 6);
  g_assert_cmpint (MERO_BLOB_FAILURE_LOCAL, ==, 7);
  g_assert_cmpint (MERO_BLOB_FAILURE_BUSY, ==, 8);
  /* The signed bytes are wire format: tag, blob, context, time BE. */
  mero_blob_request_message (blob, ctx, G_GINT64_CONSTANT (0x0102030405060708), msg);
  g_assert_cmpint (MERO_BLOB_REQUEST_MESSAGE_LEN, ==, 95);
  g_assert_cmpmem (msg, 23, "calimero-blob-request/1", 23);
  g_assert_cmpint (msg[23], ==, 1);
  g_assert_cmpint (msg[55], ==, 2);
  g_assert_cmpint (msg[87], ==, 1);
  g_assert_cmpint (msg[94], ==, 8);
}

static void
test_blob_access_has (void)
{
  MeroHostServices h = { .struct_size = 96 };
  MeroBlobAccess b = { .struct_size = 72 };
  MeroSyncSessionParams p = { .struct_size = 104 };

  /* A 1.1 host has no blob table, and 1.1 params no blob members. */
  g_assert_true (MERO_HOST_SERVICES_HAS (&h, keys));
  g_assert_false (MERO_HOST_SERVICES_HAS (&h, blobs));
  g_assert_false (MERO_SYNC_SESSION_PARAMS_HAS (&p, blobs));
  g_assert_true (MERO_BLOB_ACCESS_HAS (&b, commit));
  g_assert_false (MERO_BLOB_ACCESS_HAS (&b, note_failure));
  h.struct_size = sizeof h;
  p.struct_size = sizeof p;
  g_assert_true (MERO_HOST_SERVICES_HAS (&h, blobs));
  g_assert_true (MERO_SYNC_SESSION_PARAMS_HAS (&p, blob_flags));
}
/* ---- end of ABI 1.2 blob transfer ---- */

static void
test_sync_session_stats (void)
{
  SKIP_UNLESS_LP64 ();
  CHECK_SIZE (MeroSyncSessionStats, 48);
  CHECK_MEMBER (MeroSyncSessionStats, messages_sent, 0, 8);
  CHECK_MEMBER (MeroSyncSessionStats, messages_received, 8, 8);
  CHECK_MEMBER (MeroSyncSessionStats, bytes_sent, 16, 8);
  CHECK_MEMBER (MeroSyncSessionStats, bytes_received, 24, 8);
  CHECK_MEMBER (MeroSyncSessionStats, round_trips, 32, 8);
  CHECK_MEMBER (MeroSyncSessionStats, entities_transferred, 40, 8);
}

static void
test_sync_protocol_v_table (void)
{
  SKIP_UNLESS_LP64 ();
  /* 88 in ABI 1.1; 1.2 appended the state index members. */
  CHECK_SIZE (MeroSyncProtocolVTable, 112);
  CHECK_MEMBER (MeroSyncProtocolVTable, struct_size, 0, 4);
  CHECK_MEMBER (MeroSyncProtocolVTable, reserved, 4, 4);
  CHECK_MEMBER (MeroSyncProtocolVTable, protocol_id, 8, 8);
  CHECK_MEMBER (MeroSyncProtocolVTable, cost, 16, 8);
  CHECK_MEMBER (MeroSyncProtocolVTable, session_new, 24, 8);
  CHECK_MEMBER (MeroSyncProtocolVTable, recv, 32, 8);
  CHECK_MEMBER (MeroSyncProtocolVTable, pull_send, 40, 8);
  CHECK_MEMBER (MeroSyncProtocolVTable, next_deadline, 48, 8);
  CHECK_MEMBER (MeroSyncProtocolVTable, handle_deadline, 56, 8);
  CHECK_MEMBER (MeroSyncProtocolVTable, status, 64, 8);
  CHECK_MEMBER (MeroSyncProtocolVTable, get_stats, 72, 8);
  CHECK_MEMBER (MeroSyncProtocolVTable, session_free, 80, 8);
  /* ABI 1.2: the per-context state index. */
  CHECK_MEMBER (MeroSyncProtocolVTable, index_version, 88, 4);
  CHECK_MEMBER (MeroSyncProtocolVTable, reserved2, 92, 4);
  CHECK_MEMBER (MeroSyncProtocolVTable, index_update, 96, 8);
  CHECK_MEMBER (MeroSyncProtocolVTable, index_rebuild, 104, 8);
}

static void
test_tee_verdict (void)
{
  SKIP_UNLESS_LP64 ();
  /* 128 in ABI 1.0; 1.1 appended the TDX fields, statuses and flags. */
  CHECK_SIZE (MeroTeeVerdict, 1408);
  CHECK_MEMBER (MeroTeeVerdict, struct_size, 0, 4);
  CHECK_MEMBER (MeroTeeVerdict, tcb_status, 4, 4);
  CHECK_MEMBER (MeroTeeVerdict, measurement, 8, 48);
  CHECK_MEMBER (MeroTeeVerdict, measurement_len, 56, 8);
  CHECK_MEMBER (MeroTeeVerdict, report_data, 64, 64);
  CHECK_MEMBER (MeroTeeVerdict, rtmr, 128, 192);
  CHECK_MEMBER (MeroTeeVerdict, fmspc, 320, 6);
  CHECK_MEMBER (MeroTeeVerdict, tee_tcb_svn, 326, 16);
  CHECK_MEMBER (MeroTeeVerdict, reserved_pad, 342, 2);
  CHECK_MEMBER (MeroTeeVerdict, flags, 344, 4);
  CHECK_MEMBER (MeroTeeVerdict, platform_status, 348, 4);
  CHECK_MEMBER (MeroTeeVerdict, qe_status, 352, 4);
  CHECK_MEMBER (MeroTeeVerdict, module_status, 356, 4);
  CHECK_MEMBER (MeroTeeVerdict, tcb_evaluation_data_number, 360, 4);
  CHECK_MEMBER (MeroTeeVerdict, module_identity, 364, 16);
  CHECK_MEMBER (MeroTeeVerdict, advisory_ids, 380, 1024);
}

static void
test_tee_verify_input (void)
{
  SKIP_UNLESS_LP64 ();
  /* New in ABI 1.1. */
  CHECK_SIZE (MeroTeeCollateral, 24);
  CHECK_MEMBER (MeroTeeCollateral, data, 0, 8);
  CHECK_MEMBER (MeroTeeCollateral, len, 8, 8);
  CHECK_MEMBER (MeroTeeCollateral, name, 16, 8);
  CHECK_SIZE (MeroTeeVerifyInput, 64);
  CHECK_MEMBER (MeroTeeVerifyInput, struct_size, 0, 4);
  CHECK_MEMBER (MeroTeeVerifyInput, flags, 4, 4);
  CHECK_MEMBER (MeroTeeVerifyInput, quote, 8, 8);
  CHECK_MEMBER (MeroTeeVerifyInput, quote_len, 16, 8);
  CHECK_MEMBER (MeroTeeVerifyInput, expected_report_data, 24, 8);
  CHECK_MEMBER (MeroTeeVerifyInput, report_data_len, 32, 8);
  CHECK_MEMBER (MeroTeeVerifyInput, collateral, 40, 8);
  CHECK_MEMBER (MeroTeeVerifyInput, n_collateral, 48, 8);
  CHECK_MEMBER (MeroTeeVerifyInput, now_unix, 56, 8);
  g_assert_cmpuint (MERO_TEE_VERDICT_MOCK, ==, 1);
  g_assert_cmpuint (MERO_TEE_VERDICT_DEBUG, ==, 2);
  g_assert_cmpuint (MERO_TEE_VERIFY_ACCEPT_MOCK, ==, 1);
  g_assert_cmpuint (MERO_TEE_VERIFY_ALLOW_DEBUG, ==, 2);
  g_assert_cmpuint (MERO_TEE_ADVISORY_IDS_MAX, ==, 1024);
}

static void
test_tee_verifier_v_table (void)
{
  SKIP_UNLESS_LP64 ();
  /* 24 in ABI 1.0; 1.1 appended handles_quote and verify_at. */
  CHECK_SIZE (MeroTeeVerifierVTable, 40);
  CHECK_MEMBER (MeroTeeVerifierVTable, struct_size, 0, 4);
  CHECK_MEMBER (MeroTeeVerifierVTable, reserved, 4, 4);
  CHECK_MEMBER (MeroTeeVerifierVTable, quote_format, 8, 8);
  CHECK_MEMBER (MeroTeeVerifierVTable, verify, 16, 8);
  CHECK_MEMBER (MeroTeeVerifierVTable, handles_quote, 24, 8);
  CHECK_MEMBER (MeroTeeVerifierVTable, verify_at, 32, 8);
}

static void
test_versions (void)
{
  g_assert_cmpint (MERO_PLUGIN_ABI_MAJOR, ==, 1);
  /* 2: blobs (MeroBlobAccess, the blob session parameters) and the
   * plugin state index (MeroStateAccess index_*, the vtable's
   * index_version / index_update / index_rebuild), both in 1.2. */
  g_assert_cmpint (MERO_PLUGIN_ABI_MINOR, ==, 2);
  g_assert_cmpstr (MERO_PLUGIN_ENTRY_SYMBOL, ==, "mero_plugin_get_descriptor");
  g_assert_true (MERO_SDK_CHECK_VERSION (0, 0, 0));
  g_assert_true (MERO_SDK_CHECK_VERSION (MERO_SDK_VERSION_MAJOR, MERO_SDK_VERSION_MINOR,
                                         MERO_SDK_VERSION_MICRO));
  g_assert_false (MERO_SDK_CHECK_VERSION (MERO_SDK_VERSION_MAJOR + 1, 0, 0));
  {
    g_autofree char *v = g_strdup_printf ("%d.%d.%d", MERO_SDK_VERSION_MAJOR,
                                          MERO_SDK_VERSION_MINOR, MERO_SDK_VERSION_MICRO);

    g_assert_cmpstr (v, ==, MERO_SDK_VERSION_STRING);
  }
}

static void
test_enums (void)
{
  g_assert_cmpint (MERO_PLUGIN_KIND_INVALID, ==, 0);
  g_assert_cmpint (MERO_PLUGIN_KIND_SYNC_PROTOCOL, ==, 1);
  g_assert_cmpint (MERO_PLUGIN_KIND_STORAGE_BACKEND, ==, 2);
  g_assert_cmpint (MERO_PLUGIN_KIND_TEE_VERIFIER, ==, 3);

  g_assert_cmpint (MERO_LOG_LEVEL_ERROR, ==, 0);
  g_assert_cmpint (MERO_LOG_LEVEL_WARNING, ==, 1);
  g_assert_cmpint (MERO_LOG_LEVEL_INFO, ==, 2);
  g_assert_cmpint (MERO_LOG_LEVEL_DEBUG, ==, 3);

  g_assert_cmpint (MERO_BACKEND_OPEN_CREATE, ==, 1);
  g_assert_cmpint (MERO_BACKEND_OPEN_SYNC_WRITES, ==, 2);

  g_assert_cmpint (MERO_SYNC_ROLE_INITIATOR, ==, 0);
  g_assert_cmpint (MERO_SYNC_ROLE_RESPONDER, ==, 1);
  g_assert_cmpint (MERO_SYNC_STATUS_RUNNING, ==, 0);
  g_assert_cmpint (MERO_SYNC_STATUS_DONE, ==, 1);
  g_assert_cmpint (MERO_SYNC_STATUS_FAILED, ==, 2);
  g_assert_cmpint (MERO_STATE_NODE_ENTITY, ==, 0);
  g_assert_cmpint (MERO_STATE_NODE_BUCKET, ==, 1);
  g_assert_cmpuint (MERO_SYNC_COST_NOT_APPLICABLE, ==, G_MAXUINT64);
  g_assert_cmpint (MERO_SYNC_NO_DEADLINE, ==, G_MAXINT64);

  g_assert_cmpint (MERO_TEE_TCB_UP_TO_DATE, ==, 0);
  g_assert_cmpint (MERO_TEE_TCB_OUT_OF_DATE, ==, 1);
  g_assert_cmpint (MERO_TEE_TCB_REVOKED, ==, 2);
  g_assert_cmpint (MERO_TEE_TCB_UNKNOWN, ==, 3);
  g_assert_cmpint (MERO_TEE_TCB_SW_HARDENING_NEEDED, ==, 4);
  g_assert_cmpint (MERO_TEE_TCB_CONFIGURATION_NEEDED, ==, 5);
  g_assert_cmpint (MERO_TEE_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED, ==, 6);
  g_assert_cmpint (MERO_TEE_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED, ==, 7);
  g_assert_cmpint (MERO_TEE_TCB_TD_RELAUNCH_ADVISED, ==, 8);
  g_assert_cmpint (MERO_TEE_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED, ==, 9);
  g_assert_cmpint (MERO_TEE_TCB_MOCK, ==, 10);
}

static void
test_error_codes (void)
{
  g_assert_cmpint (MERO_PLUGIN_ERROR_NOT_FOUND, ==, 1);
  g_assert_cmpint (MERO_PLUGIN_ERROR_BAD_METADATA, ==, 2);
  g_assert_cmpint (MERO_PLUGIN_ERROR_UNSAFE_FILE, ==, 3);
  g_assert_cmpint (MERO_PLUGIN_ERROR_OPEN_FAILED, ==, 4);
  g_assert_cmpint (MERO_PLUGIN_ERROR_MISSING_SYMBOL, ==, 5);
  g_assert_cmpint (MERO_PLUGIN_ERROR_ABI_MAJOR, ==, 6);
  g_assert_cmpint (MERO_PLUGIN_ERROR_ABI_MINOR, ==, 7);
  g_assert_cmpint (MERO_PLUGIN_ERROR_SHORT_STRUCT, ==, 8);
  g_assert_cmpint (MERO_PLUGIN_ERROR_BAD_KIND, ==, 9);
  g_assert_cmpint (MERO_PLUGIN_ERROR_METADATA_MISMATCH, ==, 10);
  g_assert_cmpint (MERO_PLUGIN_ERROR_MISSING_METHOD, ==, 11);
  g_assert_cmpint (MERO_PLUGIN_ERROR_INIT_FAILED, ==, 12);
  g_assert_cmpint (MERO_PLUGIN_ERROR_DUPLICATE, ==, 13);

  g_assert_cmpint (MERO_STORE_ERROR_FAILED, ==, 1);
  g_assert_cmpint (MERO_STORE_ERROR_IO, ==, 2);
  g_assert_cmpint (MERO_STORE_ERROR_CORRUPT, ==, 3);
  g_assert_cmpint (MERO_STORE_ERROR_LOCKED, ==, 4);
  g_assert_cmpint (MERO_STORE_ERROR_WRONG_KEY, ==, 5);
  g_assert_cmpint (MERO_STORE_ERROR_NEEDS_KEY, ==, 6);
  g_assert_cmpint (MERO_STORE_ERROR_NOT_ENCRYPTED, ==, 7);
  g_assert_cmpint (MERO_STORE_ERROR_INVALID, ==, 8);

  g_assert_cmpint (MERO_SYNC_ERROR_FAILED, ==, 1);
  g_assert_cmpint (MERO_SYNC_ERROR_PROTOCOL, ==, 2);
  g_assert_cmpint (MERO_SYNC_ERROR_LIMIT, ==, 3);
  g_assert_cmpint (MERO_SYNC_ERROR_TIMEOUT, ==, 4);
  g_assert_cmpint (MERO_SYNC_ERROR_UNSUPPORTED, ==, 5);
  g_assert_cmpint (MERO_SYNC_ERROR_STATE, ==, 6);
  g_assert_cmpint (MERO_SYNC_ERROR_REFUSED, ==, 7);

  g_assert_cmpint (MERO_TEE_ERROR_FAILED, ==, 1);
  g_assert_cmpint (MERO_TEE_ERROR_MALFORMED, ==, 2);
  g_assert_cmpint (MERO_TEE_ERROR_SIGNATURE, ==, 3);
  g_assert_cmpint (MERO_TEE_ERROR_POLICY, ==, 4);
  g_assert_cmpint (MERO_TEE_ERROR_REPORT_DATA, ==, 5);
}

/* Quarks are identified by their strings: these are part of the ABI too,
 * since host and plugins each compute them. */
static void
test_error_domains (void)
{
  g_assert_cmpstr (g_quark_to_string (MERO_PLUGIN_ERROR), ==, "mero-plugin-error-quark");
  g_assert_cmpstr (g_quark_to_string (MERO_STORE_ERROR), ==, "mero-store-error-quark");
  g_assert_cmpstr (g_quark_to_string (MERO_SYNC_ERROR), ==, "mero-sync-error-quark");
  g_assert_cmpstr (g_quark_to_string (MERO_TEE_ERROR), ==, "mero-tee-error-quark");
}

/* What MERO_PLUGIN_DEFINE writes. */
static gboolean
define_init (const MeroHostServices *host, void **plugin_data, GError **error)
{
  return TRUE;
}

static const MeroTeeVerifierVTable define_vtable = {
  .struct_size = sizeof (MeroTeeVerifierVTable),
};

MERO_PLUGIN_DEFINE (abi_probe, MERO_PLUGIN_KIND_TEE_VERIFIER, "abi-probe", "1.2.3", "MIT",
                    &define_vtable, define_init, NULL);

static void
test_plugin_define (void)
{
  const MeroPluginDescriptor *d = mero_plugin_abi_probe_get_descriptor ();

  g_assert_cmpuint (d->abi_major, ==, MERO_PLUGIN_ABI_MAJOR);
  g_assert_cmpuint (d->abi_minor, ==, MERO_PLUGIN_ABI_MINOR);
  g_assert_cmpuint (d->struct_size, ==, sizeof (MeroPluginDescriptor));
  g_assert_cmpuint (d->kind, ==, MERO_PLUGIN_KIND_TEE_VERIFIER);
  g_assert_cmpstr (d->name, ==, "abi-probe");
  g_assert_cmpstr (d->version, ==, "1.2.3");
  g_assert_cmpstr (d->license, ==, "MIT");
  g_assert_true (d->vtable == &define_vtable);
  g_assert_true (d->init == define_init);
  g_assert_null (d->finalize);
  /* Without MERO_PLUGIN_STATIC the exported entry point is written too. */
  g_assert_true (mero_plugin_get_descriptor () == d);
}

/* A 1.1 plugin's vtable (88 bytes) has no state index: the host copies
 * it zero-filled and checks the size first. */
static void
test_sync_vtable_has (void)
{
  MeroSyncProtocolVTable vt = { .struct_size = 88 };

  g_assert_true (MERO_SYNC_PROTOCOL_VTABLE_HAS (&vt, session_free));
  g_assert_false (MERO_SYNC_PROTOCOL_VTABLE_HAS (&vt, index_version));
  g_assert_false (MERO_SYNC_PROTOCOL_VTABLE_HAS (&vt, index_rebuild));
  vt.struct_size = sizeof vt;
  g_assert_true (MERO_SYNC_PROTOCOL_VTABLE_HAS (&vt, index_rebuild));
}

static void
test_host_services_has (void)
{
  MeroHostServices host = { .struct_size = G_STRUCT_OFFSET (MeroHostServices, counter_add) };

  g_assert_true (MERO_HOST_SERVICES_HAS (&host, random_bytes));
  g_assert_false (MERO_HOST_SERVICES_HAS (&host, counter_add));
  host.struct_size = sizeof host;
  g_assert_true (MERO_HOST_SERVICES_HAS (&host, host_data));
}

/* A plugin built for 1.1 sees, on a 1.0 host's table (40 bytes), that the
 * tree walk and the writer are missing. */
static void
test_state_access_has (void)
{
  MeroStateAccess sa = { .struct_size = 40 };

  g_assert_true (MERO_STATE_ACCESS_HAS (&sa, count_entities));
  g_assert_false (MERO_STATE_ACCESS_HAS (&sa, list_children));
  g_assert_false (MERO_STATE_ACCESS_HAS (&sa, writer_free));
  sa.struct_size = sizeof sa;
  g_assert_true (MERO_STATE_ACCESS_HAS (&sa, writer_free));
  /* A 1.1 host from before the snapshot members (96 bytes). */
  sa.struct_size = 96;
  g_assert_false (MERO_STATE_ACCESS_HAS (&sa, snapshot_begin));
  sa.struct_size = sizeof sa;
  g_assert_true (MERO_STATE_ACCESS_HAS (&sa, snapshot_free));
  /* A 1.1 host's table (168 bytes) has no plugin state index. */
  sa.struct_size = 168;
  g_assert_false (MERO_STATE_ACCESS_HAS (&sa, index_version));
  g_assert_false (MERO_STATE_ACCESS_HAS (&sa, index_batch_delete));
  sa.struct_size = sizeof sa;
  g_assert_true (MERO_STATE_ACCESS_HAS (&sa, index_batch_delete));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/abi/struct/MeroStateEntity", test_state_entity);
  g_test_add_func ("/abi/struct/MeroStateAccess", test_state_access);
  g_test_add_func ("/abi/struct/MeroStateChild", test_state_child);
  g_test_add_func ("/abi/struct/MeroStateLayout", test_state_layout);
  g_test_add_func ("/abi/struct/MeroHostServices", test_host_services);
  g_test_add_func ("/abi/struct/MeroKeyAccess", test_key_access);
  g_test_add_func ("/abi/struct/MeroPluginDescriptor", test_plugin_descriptor);
  g_test_add_func ("/abi/struct/MeroBackendOpenOptions", test_backend_open_options);
  g_test_add_func ("/abi/struct/MeroStorageBackendVTable", test_storage_backend_v_table);
  g_test_add_func ("/abi/struct/MeroSyncHandshake", test_sync_handshake);
  g_test_add_func ("/abi/struct/MeroSyncSessionParams", test_sync_session_params);
  g_test_add_func ("/abi/struct/MeroSyncSessionStats", test_sync_session_stats);
  g_test_add_func ("/abi/struct/MeroSyncProtocolVTable", test_sync_protocol_v_table);
  g_test_add_func ("/abi/has/MeroSyncProtocolVTable", test_sync_vtable_has);
  g_test_add_func ("/abi/struct/MeroTeeVerdict", test_tee_verdict);
  g_test_add_func ("/abi/struct/MeroTeeVerifyInput", test_tee_verify_input);
  g_test_add_func ("/abi/struct/MeroTeeVerifierVTable", test_tee_verifier_v_table);
  g_test_add_func ("/abi/versions", test_versions);
  g_test_add_func ("/abi/enums", test_enums);
  g_test_add_func ("/abi/error-codes", test_error_codes);
  g_test_add_func ("/abi/error-domains", test_error_domains);
  g_test_add_func ("/abi/plugin-define", test_plugin_define);
  g_test_add_func ("/abi/host-services-has", test_host_services_has);
  g_test_add_func ("/abi/state-access-has", test_state_access_has);
  g_test_add_func ("/abi/struct/MeroBlobAccess", test_blob_access);
  g_test_add_func ("/abi/blob-values", test_blob_values);
  g_test_add_func ("/abi/blob-access-has", test_blob_access_has);
  return g_test_run ();
}
