/* Fuzz target: the decoders of blob providers (host/blob/
 * mero-blob-provider-record.c): BlobProviderRecord as gossip brings it,
 * and both blob-have messages as a stream brings them.
 *
 * Whatever decodes must stay within its bounds, re-encode to bytes that
 * decode to the same values, and survive a signature check. */
#include <string.h>

#include "blob/mero-blob-provider-record.h"
#include "fuzz-target.h"

static void
check_record (const uint8_t *data, size_t size)
{
  g_autoptr (MeroBlobProviderRecord) r = mero_blob_provider_record_decode (data, size, NULL);
  g_autoptr (MeroBlobProviderRecord) back = NULL;
  g_autoptr (GBytes) again = NULL;

  if (r == NULL)
    return;
  g_assert (r->blobs->len > 0 && r->blobs->len <= MERO_BLOB_PROVIDER_RECORD_MAX_BLOBS);
  (void) mero_blob_provider_record_verify (r, NULL);
  again = mero_blob_provider_record_encode (r);
  back = mero_blob_provider_record_decode (g_bytes_get_data (again, NULL),
                                           g_bytes_get_size (again), NULL);
  g_assert (back != NULL);
  g_assert (memcmp (back->context_id, r->context_id, 32) == 0);
  g_assert (memcmp (back->member, r->member, 32) == 0);
  g_assert (memcmp (back->signature, r->signature, 64) == 0);
  g_assert (back->timestamp_ms == r->timestamp_ms);
  g_assert (back->blobs->len == r->blobs->len);
  g_assert (memcmp (back->blobs->data, r->blobs->data, r->blobs->len * sizeof (MeroBlobHeld))
            == 0);
}

static void
check_have (const uint8_t *data, size_t size, gboolean is_request)
{
  g_auto (MeroBlobHave) have = { 0 };
  g_auto (MeroBlobHave) back = { 0 };
  g_autoptr (GBytes) again = NULL;

  if (!mero_blob_have_decode (data, size, is_request, &have, NULL))
    return;
  g_assert (have.error == NULL || strlen (have.error) <= MERO_BLOB_PROVIDER_MAX_REASON);
  g_assert (!(have.have && have.error != NULL));
  again = mero_blob_have_encode (&have);
  g_assert (mero_blob_have_decode (g_bytes_get_data (again, NULL), g_bytes_get_size (again),
                                   is_request, &back, NULL));
  g_assert (back.have == have.have && back.size == have.size);
  g_assert (memcmp (back.blob_id, have.blob_id, 32) == 0);
  g_assert (g_strcmp0 (back.error, have.error) == 0);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  check_record (data, size);
  check_have (data, size, TRUE);
  check_have (data, size, FALSE);
  return 0;
}
