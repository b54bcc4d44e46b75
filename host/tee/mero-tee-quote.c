/* mero-tee-quote.c: this node's quote, from configfs-tsm or mock. */
#include "tee/mero-tee-quote.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <gio/gio.h>

/* configfs-tsm hands out a quote of a few KiB; bound what we read. */
#define TSM_OUTBLOB_MAX_BYTES (64 * 1024)

GBytes *
mero_tee_quote_mock (const guint8 report_data[MERO_TEE_REPORT_DATA_LEN])
{
  guint8 *q = g_malloc0 (MERO_TEE_MOCK_QUOTE_LEN);

  memcpy (q, MERO_TEE_MOCK_MAGIC, strlen (MERO_TEE_MOCK_MAGIC));
  memcpy (q + strlen (MERO_TEE_MOCK_MAGIC), report_data, MERO_TEE_REPORT_DATA_LEN);
  return g_bytes_new_take (q, MERO_TEE_MOCK_QUOTE_LEN);
}

gboolean
mero_tee_quote_tsm_available (const char *tsm_dir)
{
  return g_file_test (tsm_dir != NULL ? tsm_dir : MERO_TEE_TSM_REPORT_DIR, G_FILE_TEST_IS_DIR);
}

GBytes *
mero_tee_quote_tsm (const char *tsm_dir, const guint8 report_data[MERO_TEE_REPORT_DATA_LEN],
                    GError **error)
{
  const char *dir = tsm_dir != NULL ? tsm_dir : MERO_TEE_TSM_REPORT_DIR;
  g_autofree char *entry = NULL, *inblob = NULL, *outblob = NULL, *name = NULL;
  g_autofree char *quote = NULL;
  gsize len = 0;
  gboolean ok;

  if (!mero_tee_quote_tsm_available (dir))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _("This machine cannot produce a TEE quote: %s does not exist (not a TDX "
                     "guest with configfs-tsm)"), dir);
      return NULL;
    }
  /* One entry per request: concurrent requests never share an inblob. */
  name = g_strdup_printf ("merod-%d-%08x", (int) getpid (), g_random_int ());
  entry = g_build_filename (dir, name, NULL);
  if (g_mkdir (entry, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Cannot create the configfs-tsm entry %s: %s"), entry, g_strerror (saved));
      return NULL;
    }
  inblob = g_build_filename (entry, "inblob", NULL);
  outblob = g_build_filename (entry, "outblob", NULL);
  ok = g_file_set_contents (inblob, (const char *) report_data, MERO_TEE_REPORT_DATA_LEN, error)
       && g_file_get_contents (outblob, &quote, &len, error);
  g_rmdir (entry);
  if (!ok)
    return NULL;
  if (len == 0 || len > TSM_OUTBLOB_MAX_BYTES)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _("configfs-tsm returned a quote of %zu bytes"), len);
      return NULL;
    }
  return g_bytes_new_take (g_steal_pointer (&quote), len);
}
