/* test-tee-tdx.c: the tee-tdx core against real Intel TDX quotes and their
 * Intel collateral (cases.json of ../shared/reference/tee-samples, read at
 * run time): every case's verdict and decoded fields at its pinned time,
 * one second outside each validity window, single-byte changes of the
 * signed parts of quote and collateral, and every truncation. */
#include <string.h>

#include "tee-samples.h"
#include "tee-tdx-quote.h"
#include "tee-tdx-sgx-ext.h"

#define SKIP_WITHOUT_SAMPLES()                                                          \
  if (tee_samples_dir () == NULL)                                                       \
    {                                                                                   \
      g_test_skip ("MERO_TEE_SAMPLES_DIR (../shared/reference/tee-samples) is absent"); \
      return;                                                                           \
    }

static void
assert_hex_field (JsonObject *o, const char *member, const uint8_t *data, size_t len)
{
  g_autofree char *hex = tee_hex (data, len);
  g_autofree char *expected = g_ascii_strdown (json_object_get_string_member (o, member), -1);

  g_assert_cmpstr (hex, ==, expected);
}

static void
assert_advisories (JsonObject *expect, const MeroTeeVerdict *v)
{
  JsonArray *ids = json_object_get_array_member (expect, "advisory_ids");
  g_autoptr (GString) joined = g_string_new (NULL);

  for (guint i = 0; i < json_array_get_length (ids); i++)
    g_string_append_printf (joined, "%s%s", i > 0 ? "," : "",
                            json_array_get_string_element (ids, i));
  g_assert_cmpstr (v->advisory_ids, ==, joined->str);
}

static void
test_cases (void)
{
  g_autoptr (GPtrArray) samples = NULL;

  SKIP_WITHOUT_SAMPLES ();
  samples = tee_samples_load (FALSE);
  g_assert_cmpuint (samples->len, >=, 6);
  for (guint i = 0; i < samples->len; i++)
    {
      TeeSample *s = g_ptr_array_index (samples, i);
      JsonObject *expect = json_object_get_object_member (s->json, "expect");
      JsonObject *td = json_object_get_object_member (s->json, "td_report");
      JsonObject *pck = json_object_get_object_member (s->json, "pck");
      g_autoptr (GError) error = NULL;
      MeroTeeVerdict v;
      gboolean ok = tee_sample_verify (s, 0, &v, &error);

      g_test_message ("%s: %s", s->name, ok ? mero_tee_tcb_status_to_string (v.tcb_status)
                                            : error->message);
      if (!json_object_get_boolean_member (expect, "ok"))
        {
          /* D, E, F: every signature valid, no TCB level for the platform. */
          g_assert_false (ok);
          g_assert_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_POLICY);
          g_assert_nonnull (strstr (error->message, "TcbNotSupported"));
          continue;
        }
      g_assert_no_error (error);
      g_assert_true (ok);
      g_assert_cmpstr (mero_tee_tcb_status_to_string (v.tcb_status), ==,
                       json_object_get_string_member (expect, "status"));
      assert_advisories (expect, &v);
      if (json_object_has_member (expect, "platform_status"))
        g_assert_cmpstr (mero_tee_tcb_status_to_string (v.platform_status), ==,
                         json_object_get_string_member (expect, "platform_status"));
      if (json_object_has_member (expect, "qe_status"))
        g_assert_cmpstr (mero_tee_tcb_status_to_string (v.qe_status), ==,
                         json_object_get_string_member (expect, "qe_status"));
      if (json_object_has_member (expect, "tdx_module_identity"))
        g_assert_cmpstr (v.module_identity, ==,
                         json_object_get_string_member (expect, "tdx_module_identity"));
      if (json_object_has_member (expect, "tdx_module_status"))
        g_assert_cmpstr (mero_tee_tcb_status_to_string (v.module_status), ==,
                         json_object_get_string_member (expect, "tdx_module_status"));
      g_assert_cmpuint (v.measurement_len, ==, 48);
      assert_hex_field (td, "MRTD", v.measurement, 48);
      for (guint r = 0; r < 4; r++)
        {
          g_autofree char *name = g_strdup_printf ("RTMR%u", r);

          assert_hex_field (td, name, v.rtmr[r], 48);
        }
      assert_hex_field (td, "REPORTDATA", v.report_data, 64);
      assert_hex_field (td, "TEE_TCB_SVN", v.tee_tcb_svn, 16);
      assert_hex_field (pck, "fmspc", v.fmspc, 6);
      g_assert_cmpuint (v.flags & MERO_TEE_VERDICT_MOCK, ==, 0);
    }
}

static void
test_time_cases (void)
{
  static const struct {
    const char *name;
    const char *reason;
  } reasons[] = {
    { "A_at_qe_identity_issue_minus_1s", "QE identity issueDate is in the future" },
    { "A_at_pck_crl_next_update_plus_1s", "PCK CRL expired" },
    { "A_at_tcbinfo_next_update_plus_1s", "TCB info expired" },
  };
  g_autoptr (GPtrArray) samples = NULL;

  SKIP_WITHOUT_SAMPLES ();
  samples = tee_samples_load (TRUE);
  for (guint i = 0; i < G_N_ELEMENTS (reasons); i++)
    {
      TeeSample *s = tee_samples_find (samples, reasons[i].name);
      g_autoptr (GError) error = NULL;
      MeroTeeVerdict v;

      g_assert_nonnull (s);
      g_assert_false (tee_sample_verify (s, 0, &v, &error));
      g_test_message ("%s: %s", s->name, error->message);
      g_assert_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_FAILED);
      g_assert_nonnull (strstr (error->message, reasons[i].reason));
    }
}

static int64_t
iso_to_unix (const char *iso)
{
  g_autoptr (GDateTime) t = g_date_time_new_from_iso8601 (iso, NULL);

  g_assert_nonnull (t);
  return g_date_time_to_unix (t);
}

/* Each accepted case: accepted at the first second of its window and the
 * last before its end; refused one second before ("not yet valid" or
 * "issueDate is in the future") and at/after the end ("expired"). */
static void
test_windows (void)
{
  g_autoptr (GPtrArray) samples = NULL;

  SKIP_WITHOUT_SAMPLES ();
  samples = tee_samples_load (FALSE);
  for (guint i = 0; i < samples->len; i++)
    {
      TeeSample *s = g_ptr_array_index (samples, i);
      JsonArray *window = json_object_get_array_member (s->json, "valid_window");
      int64_t from = iso_to_unix (json_array_get_string_element (window, 0));
      int64_t until = iso_to_unix (json_array_get_string_element (window, 1));
      g_autoptr (GError) before = NULL;
      g_autoptr (GError) after = NULL;
      MeroTeeVerdict v;

      if (!json_object_get_boolean_member (json_object_get_object_member (s->json, "expect"),
                                           "ok"))
        continue;
      g_assert_true (tee_sample_verify (s, from, &v, NULL));
      g_assert_true (tee_sample_verify (s, until - 1, &v, NULL));
      g_assert_false (tee_sample_verify (s, from - 1, &v, &before));
      g_assert_false (tee_sample_verify (s, until + 1, &v, &after));
      g_test_message ("%s: %s / %s", s->name, before->message, after->message);
      g_assert_error (before, MERO_TEE_ERROR, MERO_TEE_ERROR_FAILED);
      g_assert_true (strstr (before->message, "not yet valid") != NULL ||
                     strstr (before->message, "in the future") != NULL);
      g_assert_error (after, MERO_TEE_ERROR, MERO_TEE_ERROR_FAILED);
      g_assert_nonnull (strstr (after->message, "expired"));
    }
}

/* A base64 character of a PEM body (not of the BEGIN/END armour lines,
 * which are not signed): substitute another one.  @c points into @start. */
static gboolean
mutate_base64 (const uint8_t *start, uint8_t *c)
{
  const uint8_t *line = c;

  while (line > start && line[-1] != '\n')
    line--;
  if (*line == '-' || (!g_ascii_isalnum (*c) && *c != '+' && *c != '/'))
    return FALSE;
  *c = *c == 'A' ? 'B' : 'A';
  return TRUE;
}

/* The TBSCertificate / TBSCertList of a DER certificate or CRL: the
 * SEQUENCE inside the outer SEQUENCE, header included (what the issuer
 * signs).  DER lengths: short form or 1-2 length bytes. */
static void
der_tbs (const uint8_t *der, size_t len, size_t *off, size_t *tbs_len)
{
  size_t h, l;

  g_assert_cmpuint (len, >, 8);
  g_assert_cmpuint (der[0], ==, 0x30);
  h = der[1] < 0x80 ? 2 : 2 + (der[1] & 0x7f);
  g_assert_cmpuint (der[h], ==, 0x30);
  if (der[h + 1] < 0x80)
    l = 2 + der[h + 1];
  else if (der[h + 1] == 0x81)
    l = 3 + der[h + 2];
  else
    {
      g_assert_cmpuint (der[h + 1], ==, 0x82);
      l = 4 + ((size_t) der[h + 2] << 8 | der[h + 3]);
    }
  g_assert_cmpuint (h + l, <, len);
  *off = h;
  *tbs_len = l;
}

typedef void (*MutationCheck) (gpointer data, const char *what, size_t off);

/* Every byte of the TBS part of every certificate of the PEM text
 * @pem[0..len) XORed with 0x01, re-encoded into the same base64
 * positions (the layout and length stay), @check called, then restored.
 * Returns the number of changes. */
static guint
mutate_pem_tbs (char *pem, size_t len, const char *what, MutationCheck check, gpointer data)
{
  static const char begin[] = "-----BEGIN CERTIFICATE-----", end[] = "-----END CERTIFICATE-----";
  size_t p = 0;
  guint n = 0;
  char *b;

  while (p < len && (b = g_strstr_len (pem + p, (gssize) (len - p), begin)) != NULL)
    {
      size_t body = (size_t) (b - pem) + strlen (begin), body_end, tbs_off, tbs_len;
      char *e = g_strstr_len (pem + body, (gssize) (len - body), end);
      g_autoptr (GArray) pos = g_array_new (FALSE, FALSE, sizeof (size_t));
      g_autoptr (GString) b64 = g_string_new (NULL);
      g_autofree guchar *der = NULL;
      gsize der_len = 0;

      g_assert_nonnull (e);
      body_end = (size_t) (e - pem);
      for (size_t i = body; i < body_end; i++)
        if (g_ascii_isalnum (pem[i]) || pem[i] == '+' || pem[i] == '/' || pem[i] == '=')
          {
            g_array_append_val (pos, i);
            g_string_append_c (b64, pem[i]);
          }
      der = g_base64_decode (b64->str, &der_len);
      der_tbs (der, der_len, &tbs_off, &tbs_len);
      for (size_t i = tbs_off; i < tbs_off + tbs_len; i++)
        {
          size_t group = (i / 3) * 4;
          g_autofree char *enc = NULL;

          der[i] ^= 0x01;
          enc = g_base64_encode (der, der_len);
          g_assert_cmpuint (strlen (enc), ==, pos->len);
          for (size_t k = group; k < group + 4; k++)
            pem[g_array_index (pos, size_t, k)] = enc[k];
          check (data, what, i);
          for (size_t k = group; k < group + 4; k++)
            pem[g_array_index (pos, size_t, k)] = b64->str[k];
          der[i] ^= 0x01;
          n++;
        }
      p = body_end;
    }
  return n;
}

/* The signed parts of case A's quote byte by byte, each XORed with 0x01:
 * header and TD report (quote signature), the signature, the attestation
 * key and QE auth data (bound by the QE report), the QE report and its
 * signature, and every byte of the TBS part of each certificate of the
 * PCK chain (re-encoded in place).  Unsigned length/type fields and the
 * PEM's armour are left out; the padding after the signature data must
 * NOT matter. */
typedef struct {
  uint8_t *q;
  size_t len;
  const uint8_t *coll;
  size_t cl;
  gint64 now;
  guint n_refused;
} QuoteRun;

static void
quote_refused (gpointer data, const char *what, size_t off)
{
  QuoteRun *run = data;
  g_autoptr (GError) error = NULL;
  MeroTeeVerdict v;

  if (tee_verify_bytes (run->q, run->len, run->coll, run->cl, run->now, &v, &error))
    g_error ("quote %s byte %zu changed and still accepted", what, off);
  run->n_refused++;
}

static void
test_quote_mutations (void)
{
  g_autoptr (GPtrArray) samples = NULL;
  TeeSample *s;
  const uint8_t *orig;
  size_t len;
  g_autofree uint8_t *q = NULL;
  TdxQuote parsed;
  size_t regions[5][2], pem_off;
  QuoteRun run = { 0 };
  guint n_tbs;
  MeroTeeVerdict v;

  SKIP_WITHOUT_SAMPLES ();
  samples = tee_samples_load (FALSE);
  s = tee_samples_find (samples, "A_v4_uptodate");
  orig = g_bytes_get_data (s->quote, &len);
  run.coll = g_bytes_get_data (s->collateral, &run.cl);
  run.now = s->now;
  run.len = len;
  g_assert_true (tdx_quote_parse (orig, len, &parsed, NULL));
#define SPAN(i, ptr, n) \
  (regions[i][0] = (size_t) ((const uint8_t *) (ptr) - orig), regions[i][1] = (n))
  SPAN (0, orig, parsed.signed_len);
  SPAN (1, parsed.signature, 128); /* signature and attestation key */
  SPAN (2, parsed.qe_report, TDX_QE_REPORT_LEN + 64);
  SPAN (3, parsed.qe_auth_data, parsed.qe_auth_data_len);
  regions[4][0] = len - 70; /* the padding of this sample */
  regions[4][1] = 70;
#undef SPAN
  q = g_memdup2 (orig, len);
  run.q = q;
  for (guint r = 0; r < 4; r++)
    for (size_t off = regions[r][0]; off < regions[r][0] + regions[r][1]; off++)
      {
        q[off] ^= 0x01;
        quote_refused (&run, "signed region", off);
        q[off] = orig[off];
      }
  pem_off = (size_t) ((const uint8_t *) parsed.pck_chain_pem - orig);
  n_tbs = mutate_pem_tbs ((char *) q + pem_off, parsed.pck_chain_pem_len, "PCK chain TBS",
                          quote_refused, &run);
  g_assert_cmpmem (q, len, orig, len);
  g_test_message ("%u single-byte changes of the quote refused (%u in the PCK chain's TBS "
                  "parts)", run.n_refused, n_tbs);
  g_assert_cmpuint (n_tbs, >, 1500);
  g_assert_cmpuint (run.n_refused, >, 3000);
  for (size_t off = regions[4][0]; off < len; off++)
    {
      q[off] ^= 0xff;
      g_assert_true (tee_verify_bytes (q, len, run.coll, run.cl, s->now, &v, NULL));
      q[off] = orig[off];
    }
}

/* The v5 / TD 1.5 quote (case C): every byte of its signed region (702
 * bytes: header, body descriptor, TD 1.5 body) is covered by the quote
 * signature, and the first byte after it is not part of it. */
static void
test_v5_signed_region (void)
{
  g_autoptr (GPtrArray) samples = NULL;
  TeeSample *s;
  size_t len, cl;
  const uint8_t *orig, *coll;
  g_autofree uint8_t *q = NULL;
  TdxQuote parsed;
  MeroTeeVerdict v;

  SKIP_WITHOUT_SAMPLES ();
  samples = tee_samples_load (FALSE);
  s = tee_samples_find (samples, "C_v5_td15_uptodate_crosssource");
  orig = g_bytes_get_data (s->quote, &len);
  coll = g_bytes_get_data (s->collateral, &cl);
  g_assert_true (tdx_quote_parse (orig, len, &parsed, NULL));
  g_assert_cmpuint (parsed.signed_len, ==, 702);
  q = g_memdup2 (orig, len);
  for (size_t off = 0; off < parsed.signed_len; off++)
    {
      g_autoptr (GError) error = NULL;

      q[off] ^= 0x01;
      if (tee_verify_bytes (q, len, coll, cl, s->now, &v, &error))
        g_error ("v5 quote byte %zu changed and still accepted", off);
      q[off] = orig[off];
    }
}

/* Truncations of a v4 and a v5 quote at every length below the end of the
 * signature data: each refused, in a buffer of exactly that length so that
 * ASan sees any read past it. */
static void
test_truncations (void)
{
  static const char *const names[] = { "A_v4_uptodate", "C_v5_td15_uptodate_crosssource" };
  g_autoptr (GPtrArray) samples = NULL;

  SKIP_WITHOUT_SAMPLES ();
  samples = tee_samples_load (FALSE);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      TeeSample *s = tee_samples_find (samples, names[i]);
      size_t len, cl, end;
      const uint8_t *orig = g_bytes_get_data (s->quote, &len);
      const uint8_t *coll = g_bytes_get_data (s->collateral, &cl);
      TdxQuote parsed;
      MeroTeeVerdict v;

      g_assert_true (tdx_quote_parse (orig, len, &parsed, NULL));
      end = (size_t) ((const uint8_t *) parsed.pck_chain_pem - orig) + parsed.pck_chain_pem_len;
      for (size_t n = 0; n < end; n++)
        {
          g_autofree uint8_t *cut = g_memdup2 (orig, n);
          g_autoptr (GError) error = NULL;

          g_assert_false (tee_verify_bytes (cut, n, coll, cl, s->now, &v, &error));
          g_assert_nonnull (error);
        }
    }
}

/* Changes one character of a collateral string member, rebuilt with
 * json-glib around it; TRUE if @pos was changed (the named mutations
 * below and the signatures' hex digits). */
typedef enum { TEXT, HEX, PEM } FieldKind;

static gboolean
mutate_char (const char *start, char *c, FieldKind kind)
{
  switch (kind)
    {
    case HEX:
      /* Another hex value (case alone does not change the bytes). */
      if (!g_ascii_isxdigit (*c))
        return FALSE;
      *c = *c == '0' ? '1' : '0';
      return TRUE;
    case PEM:
      return mutate_base64 ((const uint8_t *) start, (uint8_t *) c);
    case TEXT:
    default:
      /* The signed JSON text: any change, even the case of a hex digit. */
      if (g_ascii_isdigit (*c))
        *c = *c == '9' ? '0' : *c + 1;
      else if (g_ascii_isalpha (*c))
        *c ^= 0x20;
      else
        *c = *c == ' ' ? '\t' : ' ';
      return TRUE;
    }
}

static GBytes *
collateral_with (JsonObject *orig, const char *member, const char *value)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  g_autoptr (JsonObject) copy = json_object_new ();
  JsonObjectIter iter;
  const char *name;
  JsonNode *node;
  size_t len;
  char *text;

  json_object_iter_init (&iter, orig);
  while (json_object_iter_next (&iter, &name, &node))
    json_object_set_string_member (copy, name, g_str_equal (name, member)
                                                   ? value
                                                   : json_node_get_string (node));
  json_node_set_object (root, copy);
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, &len);
  return g_bytes_new_take (text, len);
}

/* The signed parts of case A's collateral, every byte of each XORed
 * with 0x01: the TCB info and QE identity texts (their signatures cover
 * these exact bytes), the TBS parts of both CRLs (hex) and of every
 * certificate of the three issuer chains (PEM, re-encoded in place);
 * and every hex digit of the two JSON signatures.  Each rebuilt
 * collateral document must be refused. */
typedef struct {
  JsonObject *orig;
  const uint8_t *quote;
  size_t ql;
  gint64 now;
  const char *member;
  const char *value;   /* the member's mutated text */
  guint n_refused;
} CollateralRun;

static void
collateral_refused (gpointer data, const char *what, size_t off)
{
  CollateralRun *run = data;
  g_autoptr (GBytes) mutated = collateral_with (run->orig, run->member, run->value);
  g_autoptr (GError) error = NULL;
  size_t dl;
  const uint8_t *d = g_bytes_get_data (mutated, &dl);
  MeroTeeVerdict v;

  if (tee_verify_bytes (run->quote, run->ql, d, dl, run->now, &v, &error))
    g_error ("collateral %s: %s byte %zu changed and still accepted", run->member, what, off);
  run->n_refused++;
}

static void
test_collateral_mutations (void)
{
  static const char *const texts[] = { "tcb_info", "qe_identity" };
  static const char *const signatures[] = { "tcb_info_signature", "qe_identity_signature" };
  static const char *const crls[] = { "pck_crl", "root_ca_crl" };
  static const char *const chains[] = { "tcb_info_issuer_chain", "qe_identity_issuer_chain",
                                        "pck_crl_issuer_chain" };
  g_autoptr (GPtrArray) samples = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  TeeSample *s;
  size_t cl;
  const char *coll;
  CollateralRun run = { 0 };
  guint n_text = 0, n_crl = 0, n_cert = 0;
  MeroTeeVerdict v;

  SKIP_WITHOUT_SAMPLES ();
  samples = tee_samples_load (FALSE);
  s = tee_samples_find (samples, "A_v4_uptodate");
  run.quote = g_bytes_get_data (s->quote, &run.ql);
  run.now = s->now;
  coll = g_bytes_get_data (s->collateral, &cl);
  g_assert_true (json_parser_load_from_data (parser, coll, (gssize) cl, NULL));
  run.orig = json_node_get_object (json_parser_get_root (parser));
  {
    /* Rebuilt unchanged, it still verifies: the changes below are what is
     * refused, not the rebuilding. */
    g_autoptr (GBytes) same = collateral_with (run.orig, "", "");
    size_t n;
    const uint8_t *d = g_bytes_get_data (same, &n);

    g_assert_true (tee_verify_bytes (run.quote, run.ql, d, n, s->now, &v, NULL));
  }
  for (guint f = 0; f < G_N_ELEMENTS (texts); f++)
    {
      g_autofree char *value = g_strdup (json_object_get_string_member (run.orig, texts[f]));

      run.member = texts[f];
      run.value = value;
      for (size_t pos = 0; value[pos] != '\0'; pos++)
        {
          value[pos] ^= 0x01;
          collateral_refused (&run, "text", pos);
          value[pos] ^= 0x01;
          n_text++;
        }
    }
  for (guint f = 0; f < G_N_ELEMENTS (signatures); f++)
    {
      g_autofree char *value = g_strdup (json_object_get_string_member (run.orig, signatures[f]));

      run.member = signatures[f];
      run.value = value;
      for (size_t pos = 0; value[pos] != '\0'; pos++)
        {
          char saved = value[pos];

          g_assert_true (mutate_char (value, &value[pos], HEX));
          collateral_refused (&run, "hex digit", pos);
          value[pos] = saved;
        }
    }
  for (guint f = 0; f < G_N_ELEMENTS (crls); f++)
    {
      g_autofree char *value = g_strdup (json_object_get_string_member (run.orig, crls[f]));
      size_t hex_len = strlen (value), tbs_off, tbs_len;
      g_autofree uint8_t *der = g_malloc (hex_len / 2);

      for (size_t i = 0; i < hex_len / 2; i++)
        der[i] = (uint8_t) (g_ascii_xdigit_value (value[2 * i]) << 4
                            | g_ascii_xdigit_value (value[2 * i + 1]));
      der_tbs (der, hex_len / 2, &tbs_off, &tbs_len);
      run.member = crls[f];
      run.value = value;
      for (size_t i = tbs_off; i < tbs_off + tbs_len; i++)
        {
          /* byte i XOR 0x01 is its low hex digit's value XOR 1 */
          char saved = value[2 * i + 1];
          int digit = g_ascii_xdigit_value (saved) ^ 1;

          value[2 * i + 1] = g_ascii_isupper (saved) ? "0123456789ABCDEF"[digit]
                                                     : "0123456789abcdef"[digit];
          collateral_refused (&run, "TBSCertList", i);
          value[2 * i + 1] = saved;
          n_crl++;
        }
    }
  for (guint f = 0; f < G_N_ELEMENTS (chains); f++)
    {
      g_autofree char *value = g_strdup (json_object_get_string_member (run.orig, chains[f]));

      run.member = chains[f];
      run.value = value;
      n_cert += mutate_pem_tbs (value, strlen (value), "TBSCertificate", collateral_refused, &run);
      g_assert_cmpstr (value, ==, json_object_get_string_member (run.orig, chains[f]));
    }
  g_test_message ("%u single-byte changes of the collateral refused: %u of the TCB info and QE "
                  "identity texts, %u of the CRLs' and %u of the certificates' TBS parts",
                  run.n_refused, n_text, n_crl, n_cert);
  g_assert_cmpuint (n_text, >, 3000);
  g_assert_cmpuint (n_crl, >, 2500);
  g_assert_cmpuint (n_cert, >, 3000);
}

/* Named mutations of the reference notes: what each must be refused for. */
static void
test_named_mutations (void)
{
  static const struct {
    size_t offset;
    const char *reason;
  } flips[] = {
    { 184, "quote signature is invalid" },
    { 568, "quote signature is invalid" },
    { 700, "QE report data does not bind the attestation key" },
    { 1220, "QE report data does not bind the attestation key" },
    { 898, "QE report signature is invalid" },
    { 1090, "QE report signature is invalid" },
    { 12, "unknown QE vendor ID" },
  };
  g_autoptr (GPtrArray) samples = NULL;
  TeeSample *s;
  size_t len, cl;
  const uint8_t *orig, *coll;
  g_autofree uint8_t *q = NULL;
  MeroTeeVerdict v;

  SKIP_WITHOUT_SAMPLES ();
  samples = tee_samples_load (FALSE);
  s = tee_samples_find (samples, "A_v4_uptodate");
  orig = g_bytes_get_data (s->quote, &len);
  coll = g_bytes_get_data (s->collateral, &cl);
  q = g_memdup2 (orig, len);
  for (guint i = 0; i < G_N_ELEMENTS (flips); i++)
    {
      g_autoptr (GError) error = NULL;

      q[flips[i].offset] ^= 0x01;
      g_assert_false (tee_verify_bytes (q, len, coll, cl, s->now, &v, &error));
      g_assert_nonnull (strstr (error->message, flips[i].reason));
      q[flips[i].offset] = orig[flips[i].offset];
    }
  /* sig_data_len 0xFFFFFFFF and a PEM size past the end: bounds errors. */
  {
    g_autoptr (GError) error = NULL;

    memset (q + 632, 0xff, 4);
    g_assert_false (tee_verify_bytes (q, len, coll, cl, s->now, &v, &error));
    g_assert_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_MALFORMED);
    memcpy (q + 632, orig + 632, 4);
  }
  {
    g_autoptr (GError) error = NULL;

    memset (q + 1254, 0x7f, 4);
    g_assert_false (tee_verify_bytes (q, len, coll, cl, s->now, &v, &error));
    g_assert_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_MALFORMED);
  }
}

/* The synthetic fuzz seeds: the well-formed ones parse (so the fuzzer
 * starts past the header checks), the broken ones do not. */
static void
test_fuzz_seeds (void)
{
  static const struct {
    const char *name;
    gboolean parses;
    uint16_t version;
    size_t signed_len;
  } seeds[] = {
    { "v4-td10", TRUE, 4, 632 },
    { "v4-td10-padding", TRUE, 4, 632 },
    { "v5-td10", TRUE, 5, 638 },
    { "v5-td15", TRUE, 5, 702 },
    { "v5-bad-body-type", FALSE, 0, 0 },
    { "v4-truncated-header", FALSE, 0, 0 },
    { "v4-truncated-pem", FALSE, 0, 0 },
    { "v4-cert-size-lies", FALSE, 0, 0 },
    { "v4-cert-type-5", FALSE, 0, 0 },
    { "v4-inner-type-3", FALSE, 0, 0 },
    { "v3-sgx", FALSE, 0, 0 },
  };
  const char *dir = g_getenv ("MERO_TEE_FUZZ_CORPUS");

  g_assert_nonnull (dir);
  for (guint i = 0; i < G_N_ELEMENTS (seeds); i++)
    {
      g_autofree char *path = g_build_filename (dir, seeds[i].name, NULL);
      g_autofree char *data = NULL;
      g_autoptr (GError) error = NULL;
      size_t len;
      TdxQuote q;

      g_assert_true (g_file_get_contents (path, &data, &len, NULL));
      g_assert_cmpint (tdx_quote_parse ((const uint8_t *) data, len, &q, &error), ==,
                       seeds[i].parses);
      if (seeds[i].parses)
        {
          g_assert_cmpuint (q.version, ==, seeds[i].version);
          g_assert_cmpuint (q.signed_len, ==, seeds[i].signed_len);
        }
      else
        g_assert_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_MALFORMED);
    }
  {
    g_autofree char *path = g_build_filename (dir, "sgx-extension", NULL);
    g_autofree char *data = NULL;
    size_t len;
    TdxSgxExtension ext;

    g_assert_true (g_file_get_contents (path, &data, &len, NULL));
    g_assert_true (tdx_sgx_ext_parse ((const uint8_t *) data, len, &ext, NULL));
    g_assert_cmpuint (ext.comp_svn[5], ==, 255);
    g_assert_cmpuint (ext.pcesvn, ==, 13);
    /* Cut anywhere, it no longer parses. */
    for (size_t n = 0; n < len; n++)
      g_assert_false (tdx_sgx_ext_parse ((const uint8_t *) data, n, &ext, NULL));
  }
}

const MeroPluginDescriptor *mero_plugin_tee_tdx_get_descriptor (void);

static void
count_into (const MeroHostServices *host, const char *name, const char *labels, uint64_t delta)
{
  GHashTable *counters = host->host_data;
  char *key = g_strdup_printf ("%s{%s}", name, labels);

  g_hash_table_insert (counters, key,
                       GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (counters, key)) +
                                         (guint) delta));
}

/* Through the plugin's vtable, as the host calls it: the quote format is
 * recognised, ABI 1.0 verify() refuses for want of collateral, and every
 * verify_at() is counted by result and reason. */
static void
test_plugin_vtable (void)
{
  g_autoptr (GHashTable) counters = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  MeroHostServices host = { .struct_size = sizeof host, .counter_add = count_into,
                            .host_data = counters };
  const MeroPluginDescriptor *d = mero_plugin_tee_tdx_get_descriptor ();
  const MeroTeeVerifierVTable *vt = d->vtable;
  g_autoptr (GPtrArray) samples = NULL;
  void *plugin_data = NULL;
  static const struct {
    const char *name;
    int64_t now;
    size_t cut;
    const char *labels;
  } runs[] = {
    { "A_v4_uptodate", 0, 0, "result=\"verified\"" },
    { "A_v4_uptodate", 0, 100, "result=\"refused\",reason=\"malformed\"" },
    { "A_v4_uptodate", 1752920164, 0, "result=\"refused\",reason=\"collateral\"" },
    { "D_v5_td15_no_tcb_level", 0, 0, "result=\"refused\",reason=\"tcb\"" },
  };

  SKIP_WITHOUT_SAMPLES ();
  samples = tee_samples_load (FALSE);
  g_assert_cmpuint (d->kind, ==, MERO_PLUGIN_KIND_TEE_VERIFIER);
  g_assert_cmpstr (vt->quote_format, ==, "tdx");
  g_assert_true (d->init (&host, &plugin_data, NULL));
  for (guint i = 0; i < G_N_ELEMENTS (runs); i++)
    {
      TeeSample *s = tee_samples_find (samples, runs[i].name);
      size_t ql, cl;
      const uint8_t *q = g_bytes_get_data (s->quote, &ql);
      MeroTeeCollateral doc = { g_bytes_get_data (s->collateral, &cl), 0, NULL };
      MeroTeeVerifyInput input = { .struct_size = sizeof input, .quote = q,
                                   .quote_len = runs[i].cut ? runs[i].cut : ql,
                                   .collateral = &doc, .n_collateral = 1,
                                   .now_unix = runs[i].now ? runs[i].now : s->now };
      g_autofree char *key = g_strdup_printf ("mero_tee_quotes_total{verifier=\"tdx\",%s}",
                                              runs[i].labels);
      MeroTeeVerdict v = { .struct_size = sizeof v };

      doc.len = cl;
      g_assert_true (vt->handles_quote (plugin_data, q, ql));
      g_assert_cmpint (vt->verify_at (plugin_data, &input, &v, NULL), ==, i == 0);
      g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (counters, key)), ==, 1);
    }
  g_assert_false (vt->handles_quote (plugin_data, (const uint8_t *) "MOCK_TDX_QUOTE_V1", 17));
  {
    g_autoptr (GError) error = NULL;
    TeeSample *s = tee_samples_find (samples, "A_v4_uptodate");
    MeroTeeVerdict v = { .struct_size = sizeof v };

    g_assert_false (vt->verify (plugin_data, g_bytes_get_data (s->quote, NULL),
                                g_bytes_get_size (s->quote), NULL, 0, &v, &error));
    g_assert_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_FAILED);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tee-tdx/fuzz-seeds", test_fuzz_seeds);
  g_test_add_func ("/tee-tdx/cases", test_cases);
  g_test_add_func ("/tee-tdx/time-cases", test_time_cases);
  g_test_add_func ("/tee-tdx/plugin-vtable", test_plugin_vtable);
  g_test_add_func ("/tee-tdx/windows", test_windows);
  g_test_add_func ("/tee-tdx/named-mutations", test_named_mutations);
  g_test_add_func ("/tee-tdx/truncations", test_truncations);
  g_test_add_func ("/tee-tdx/quote-mutations", test_quote_mutations);
  g_test_add_func ("/tee-tdx/v5-signed-region", test_v5_signed_region);
  g_test_add_func ("/tee-tdx/collateral-mutations", test_collateral_mutations);
  return g_test_run ();
}
