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

G_DEFINE_QUARK (mero-tee-quote-error-quark, mero_tee_quote_error)

/* TDX quote: a 48-byte header (version u16 LE first); v5 puts a body
 * descriptor (type u16, size u32) before the body; the report data sits
 * 520 bytes into the TD 1.0 and TD 1.5 bodies alike. */
#define TDX_HEADER_LEN 48
#define TDX_V5_DESCRIPTOR_LEN 6
#define TDX_BODY_REPORT_DATA_OFF 520

gboolean
mero_tee_quote_report_data (GBytes *quote, guint8 out[MERO_TEE_REPORT_DATA_LEN], GError **error)
{
  gsize len = 0, magic_len = strlen (MERO_TEE_MOCK_MAGIC), off = 0;
  const guint8 *q = g_bytes_get_data (quote, &len);

  if (len >= magic_len + MERO_TEE_REPORT_DATA_LEN && memcmp (q, MERO_TEE_MOCK_MAGIC, magic_len) == 0)
    off = magic_len;
  else if (len >= 2 && (q[0] | q[1] << 8) == 4)
    off = TDX_HEADER_LEN + TDX_BODY_REPORT_DATA_OFF;
  else if (len >= 2 && (q[0] | q[1] << 8) == 5)
    off = TDX_HEADER_LEN + TDX_V5_DESCRIPTOR_LEN + TDX_BODY_REPORT_DATA_OFF;
  if (off == 0 || len < off + MERO_TEE_REPORT_DATA_LEN)
    {
      g_set_error (error, MERO_TEE_QUOTE_ERROR, MERO_TEE_QUOTE_ERROR_FORMAT,
                   _("Not a TDX (version 4 or 5) or mock quote (%zu bytes)"), len);
      return FALSE;
    }
  memcpy (out, q + off, MERO_TEE_REPORT_DATA_LEN);
  return TRUE;
}

GBytes *
mero_tee_quote_from_hex (const char *hex, gsize max_bytes, GError **error)
{
  gsize len = hex != NULL ? strlen (hex) : 0;
  g_autofree guint8 *bin = NULL;

  if (len == 0 || len % 2 != 0 || len / 2 > max_bytes)
    goto bad;
  bin = g_malloc (len / 2);
  for (gsize i = 0; i < len / 2; i++)
    {
      int hi = g_ascii_xdigit_value (hex[2 * i]), lo = g_ascii_xdigit_value (hex[2 * i + 1]);
      if (hi < 0 || lo < 0)
        goto bad;
      bin[i] = (guint8) (hi << 4 | lo);
    }
  return g_bytes_new_take (g_steal_pointer (&bin), len / 2);
bad:
  g_set_error (error, MERO_TEE_QUOTE_ERROR, MERO_TEE_QUOTE_ERROR_FORMAT,
               _("The quote must be hex, 1 to %zu bytes"), max_bytes);
  return NULL;
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
