/* tee-tdx-collateral.c: see tee-tdx-collateral.h. */
#include "tee-tdx-collateral.h"

#include <json-glib/json-glib.h>
#include <string.h>

static void
tcb_level_free (gpointer p)
{
  TdxTcbLevel *level = p;

  g_strfreev (level->advisory_ids);
  g_free (level);
}

static void
module_identity_free (gpointer p)
{
  TdxModuleIdentity *identity = p;

  g_free (identity->id);
  g_clear_pointer (&identity->levels, g_ptr_array_unref);
  g_free (identity);
}

void
tdx_collateral_free (TdxCollateral *c)
{
  if (c == NULL)
    return;
  g_free (c->pck_crl_issuer_chain);
  g_clear_pointer (&c->root_ca_crl, g_bytes_unref);
  g_clear_pointer (&c->pck_crl, g_bytes_unref);
  g_free (c->tcb_info_issuer_chain);
  g_free (c->tcb_info_text);
  g_free (c->qe_identity_issuer_chain);
  g_free (c->qe_identity_text);
  g_clear_pointer (&c->tcb_info.module_identities, g_ptr_array_unref);
  g_clear_pointer (&c->tcb_info.levels, g_ptr_array_unref);
  g_clear_pointer (&c->qe_identity.levels, g_ptr_array_unref);
  g_free (c);
}

gboolean
tdx_hex_decode (const char *hex, uint8_t *out, size_t n)
{
  if (hex == NULL || strlen (hex) != 2 * n)
    return FALSE;
  for (size_t i = 0; i < n; i++)
    {
      int hi = g_ascii_xdigit_value (hex[2 * i]), lo = g_ascii_xdigit_value (hex[2 * i + 1]);

      if (hi < 0 || lo < 0)
        return FALSE;
      out[i] = (uint8_t) (hi << 4 | lo);
    }
  return TRUE;
}

/* A small reading context: every failure names the member. */
typedef struct {
  const char *doc;
  GError **error;
} Reader;

static gboolean
fail (Reader *r, const char *member, const char *why)
{
  g_set_error (r->error, MERO_TEE_ERROR, MERO_TEE_ERROR_MALFORMED, "collateral %s: %s %s", r->doc,
               member, why);
  return FALSE;
}

static const char *
get_string (Reader *r, JsonObject *o, const char *member)
{
  JsonNode *node = o != NULL ? json_object_get_member (o, member) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    {
      fail (r, member, "is missing or not a string");
      return NULL;
    }
  return json_node_get_string (node);
}

static gboolean
get_uint (Reader *r, JsonObject *o, const char *member, int64_t max, int64_t *out)
{
  JsonNode *node = o != NULL ? json_object_get_member (o, member) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_INT64)
    return fail (r, member, "is missing or not an integer");
  *out = json_node_get_int (node);
  if (*out < 0 || *out > max)
    return fail (r, member, "is out of range");
  return TRUE;
}

static gboolean
get_hex (Reader *r, JsonObject *o, const char *member, uint8_t *out, size_t n)
{
  const char *s = get_string (r, o, member);

  if (s == NULL)
    return FALSE;
  if (!tdx_hex_decode (s, out, n))
    return fail (r, member, "is not hex of the expected length");
  return TRUE;
}

static gboolean
get_time (Reader *r, JsonObject *o, const char *member, int64_t *out)
{
  const char *s = get_string (r, o, member);
  g_autoptr (GDateTime) t = NULL;

  if (s == NULL)
    return FALSE;
  t = g_date_time_new_from_iso8601 (s, NULL);
  if (t == NULL)
    return fail (r, member, "is not an ISO 8601 time with a zone");
  *out = g_date_time_to_unix (t);
  return TRUE;
}

static JsonArray *
get_array (Reader *r, JsonObject *o, const char *member, guint max)
{
  JsonNode *node = o != NULL ? json_object_get_member (o, member) : NULL;
  JsonArray *a;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    {
      fail (r, member, "is missing or not an array");
      return NULL;
    }
  a = json_node_get_array (node);
  if (json_array_get_length (a) > max)
    {
      fail (r, member, "has too many entries");
      return NULL;
    }
  return a;
}

static JsonObject *
get_object (Reader *r, JsonObject *o, const char *member)
{
  JsonNode *node = o != NULL ? json_object_get_member (o, member) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      fail (r, member, "is missing or not an object");
      return NULL;
    }
  return json_node_get_object (node);
}

static JsonObject *
array_object (Reader *r, JsonArray *a, guint i, const char *member)
{
  JsonNode *node = json_array_get_element (a, i);

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      fail (r, member, "has an entry that is not an object");
      return NULL;
    }
  return json_node_get_object (node);
}

static const struct {
  const char *name;
  MeroTeeTcbStatus status;
} status_names[] = {
  { "UpToDate", MERO_TEE_TCB_UP_TO_DATE },
  { "SWHardeningNeeded", MERO_TEE_TCB_SW_HARDENING_NEEDED },
  { "ConfigurationNeeded", MERO_TEE_TCB_CONFIGURATION_NEEDED },
  { "ConfigurationAndSWHardeningNeeded", MERO_TEE_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED },
  { "OutOfDate", MERO_TEE_TCB_OUT_OF_DATE },
  { "OutOfDateConfigurationNeeded", MERO_TEE_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED },
  { "Revoked", MERO_TEE_TCB_REVOKED },
};

/* Reads tcbStatus and advisoryIDs of a level; the caller reads its tcb. */
static TdxTcbLevel *
read_level_common (Reader *r, JsonObject *level_obj)
{
  g_autoptr (GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  const char *status = get_string (r, level_obj, "tcbStatus");
  TdxTcbLevel *level;
  gboolean known = FALSE;

  if (status == NULL)
    return NULL;
  level = g_new0 (TdxTcbLevel, 1);
  for (guint i = 0; i < G_N_ELEMENTS (status_names); i++)
    if (g_str_equal (status, status_names[i].name))
      {
        level->status = status_names[i].status;
        known = TRUE;
      }
  if (!known)
    {
      g_free (level);
      fail (r, "tcbStatus", "is not a known status");
      return NULL;
    }
  if (json_object_has_member (level_obj, "advisoryIDs"))
    {
      JsonArray *a = get_array (r, level_obj, "advisoryIDs", TDX_COLLATERAL_MAX_ADVISORIES);

      if (a == NULL)
        {
          g_free (level);
          return NULL;
        }
      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          JsonNode *node = json_array_get_element (a, i);

          if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
            {
              g_free (level);
              fail (r, "advisoryIDs", "has an entry that is not a string");
              return NULL;
            }
          g_ptr_array_add (ids, g_strdup (json_node_get_string (node)));
        }
    }
  g_ptr_array_add (ids, NULL);
  level->advisory_ids = (char **) g_ptr_array_free (g_steal_pointer (&ids), FALSE);
  return level;
}

static gboolean
read_components (Reader *r, JsonObject *tcb, const char *member, uint8_t *out)
{
  JsonArray *a = get_array (r, tcb, member, 64);

  if (a == NULL)
    return FALSE;
  /* Exactly 16 components, as dcap-qvl demands. */
  if (json_array_get_length (a) != 16)
    return fail (r, member, "does not have 16 components");
  for (guint i = 0; i < 16; i++)
    {
      JsonObject *comp = array_object (r, a, i, member);
      int64_t svn;

      if (comp == NULL || !get_uint (r, comp, "svn", G_MAXUINT8, &svn))
        return FALSE;
      out[i] = (uint8_t) svn;
    }
  return TRUE;
}

/* Levels whose tcb holds only isvsvn (QE identity, module identities). */
static GPtrArray *
read_isvsvn_levels (Reader *r, JsonObject *o)
{
  g_autoptr (GPtrArray) levels = g_ptr_array_new_with_free_func (tcb_level_free);
  JsonArray *a = get_array (r, o, "tcbLevels", TDX_COLLATERAL_MAX_LEVELS);

  if (a == NULL)
    return NULL;
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonObject *level_obj = array_object (r, a, i, "tcbLevels");
      JsonObject *tcb = level_obj != NULL ? get_object (r, level_obj, "tcb") : NULL;
      TdxTcbLevel *level;
      int64_t isvsvn;

      if (tcb == NULL || !get_uint (r, tcb, "isvsvn", G_MAXUINT16, &isvsvn))
        return NULL;
      level = read_level_common (r, level_obj);
      if (level == NULL)
        return NULL;
      level->isvsvn = (uint16_t) isvsvn;
      g_ptr_array_add (levels, level);
    }
  return g_steal_pointer (&levels);
}

static gboolean
parse_tcb_info (Reader *r, const char *text, TdxTcbInfo *info)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  JsonObject *o, *module;
  JsonArray *levels;
  const char *id;
  int64_t version, eval, tcb_type;

  r->doc = "tcb_info";
  if (!json_parser_load_from_data (parser, text, -1, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return fail (r, "document", "is not a JSON object");
  o = json_node_get_object (json_parser_get_root (parser));
  id = get_string (r, o, "id");
  if (id == NULL || !get_uint (r, o, "version", G_MAXUINT32, &version))
    return FALSE;
  if (!g_str_equal (id, "TDX") || version != 3)
    return fail (r, "id/version", "is not TDX TCB info version 3");
  if (!get_time (r, o, "issueDate", &info->issue_date) ||
      !get_time (r, o, "nextUpdate", &info->next_update) ||
      !get_hex (r, o, "fmspc", info->fmspc, sizeof info->fmspc) ||
      !get_hex (r, o, "pceId", info->pceid, sizeof info->pceid) ||
      !get_uint (r, o, "tcbType", G_MAXUINT32, &tcb_type) ||
      !get_uint (r, o, "tcbEvaluationDataNumber", G_MAXUINT32, &eval))
    return FALSE;
  info->tcb_evaluation_data_number = (uint32_t) eval;
  module = get_object (r, o, "tdxModule");
  if (module == NULL || !get_hex (r, module, "mrsigner", info->module_mrsigner, 48) ||
      !get_hex (r, module, "attributes", info->module_attributes, 8) ||
      !get_hex (r, module, "attributesMask", info->module_attributes_mask, 8))
    return FALSE;

  info->module_identities = g_ptr_array_new_with_free_func (module_identity_free);
  if (json_object_has_member (o, "tdxModuleIdentities"))
    {
      JsonArray *a = get_array (r, o, "tdxModuleIdentities", TDX_COLLATERAL_MAX_IDENTITIES);

      if (a == NULL)
        return FALSE;
      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          JsonObject *m = array_object (r, a, i, "tdxModuleIdentities");
          TdxModuleIdentity *identity;
          const char *mid;

          if (m == NULL || (mid = get_string (r, m, "id")) == NULL)
            return FALSE;
          identity = g_new0 (TdxModuleIdentity, 1);
          identity->id = g_strdup (mid);
          g_ptr_array_add (info->module_identities, identity);
          if (!get_hex (r, m, "mrsigner", identity->mrsigner, 48) ||
              !get_hex (r, m, "attributes", identity->attributes, 8) ||
              !get_hex (r, m, "attributesMask", identity->attributes_mask, 8) ||
              (identity->levels = read_isvsvn_levels (r, m)) == NULL)
            return FALSE;
        }
    }

  info->levels = g_ptr_array_new_with_free_func (tcb_level_free);
  levels = get_array (r, o, "tcbLevels", TDX_COLLATERAL_MAX_LEVELS);
  if (levels == NULL)
    return FALSE;
  for (guint i = 0; i < json_array_get_length (levels); i++)
    {
      JsonObject *level_obj = array_object (r, levels, i, "tcbLevels");
      JsonObject *tcb = level_obj != NULL ? get_object (r, level_obj, "tcb") : NULL;
      TdxTcbLevel *level;
      int64_t pcesvn;

      if (tcb == NULL || !get_uint (r, tcb, "pcesvn", G_MAXUINT16, &pcesvn))
        return FALSE;
      level = read_level_common (r, level_obj);
      if (level == NULL)
        return FALSE;
      g_ptr_array_add (info->levels, level);
      level->pcesvn = (uint16_t) pcesvn;
      if (!read_components (r, tcb, "sgxtcbcomponents", level->sgx_svn) ||
          !read_components (r, tcb, "tdxtcbcomponents", level->tdx_svn))
        return FALSE;
    }
  return TRUE;
}

static gboolean
parse_qe_identity (Reader *r, const char *text, TdxQeIdentity *qe)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  JsonObject *o;
  const char *id;
  int64_t version, eval, prodid;

  r->doc = "qe_identity";
  if (!json_parser_load_from_data (parser, text, -1, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return fail (r, "document", "is not a JSON object");
  o = json_node_get_object (json_parser_get_root (parser));
  id = get_string (r, o, "id");
  if (id == NULL || !get_uint (r, o, "version", G_MAXUINT32, &version))
    return FALSE;
  if (!g_str_equal (id, "TD_QE") || version != 2)
    return fail (r, "id/version", "is not a TD_QE identity version 2");
  if (!get_time (r, o, "issueDate", &qe->issue_date) ||
      !get_time (r, o, "nextUpdate", &qe->next_update) ||
      !get_uint (r, o, "tcbEvaluationDataNumber", G_MAXUINT32, &eval) ||
      !get_hex (r, o, "miscselect", qe->miscselect, 4) ||
      !get_hex (r, o, "miscselectMask", qe->miscselect_mask, 4) ||
      !get_hex (r, o, "attributes", qe->attributes, 16) ||
      !get_hex (r, o, "attributesMask", qe->attributes_mask, 16) ||
      !get_hex (r, o, "mrsigner", qe->mrsigner, 32) ||
      !get_uint (r, o, "isvprodid", G_MAXUINT16, &prodid))
    return FALSE;
  qe->tcb_evaluation_data_number = (uint32_t) eval;
  qe->isvprodid = (uint16_t) prodid;
  qe->levels = read_isvsvn_levels (r, o);
  return qe->levels != NULL;
}

static GBytes *
get_hex_bytes (Reader *r, JsonObject *o, const char *member)
{
  const char *s = get_string (r, o, member);
  size_t n;
  uint8_t *buf;

  if (s == NULL)
    return NULL;
  n = strlen (s);
  if (n == 0 || n % 2 != 0)
    {
      fail (r, member, "is not hex");
      return NULL;
    }
  buf = g_malloc (n / 2);
  if (!tdx_hex_decode (s, buf, n / 2))
    {
      g_free (buf);
      fail (r, member, "is not hex");
      return NULL;
    }
  return g_bytes_new_take (buf, n / 2);
}

TdxCollateral *
tdx_collateral_parse (const uint8_t *data, size_t len, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (TdxCollateral) c = g_new0 (TdxCollateral, 1);
  Reader r = { "document", error };
  JsonObject *o;
  const char *s;

  if (len > G_MAXSSIZE ||
      !json_parser_load_from_data (parser, (const char *) data, (gssize) len, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      fail (&r, "document", "is not a JSON object");
      return NULL;
    }
  o = json_node_get_object (json_parser_get_root (parser));
#define TAKE_STRING(field, member)                \
  if ((s = get_string (&r, o, member)) == NULL)   \
    return NULL;                                  \
  c->field = g_strdup (s)
  TAKE_STRING (pck_crl_issuer_chain, "pck_crl_issuer_chain");
  TAKE_STRING (tcb_info_issuer_chain, "tcb_info_issuer_chain");
  TAKE_STRING (tcb_info_text, "tcb_info");
  TAKE_STRING (qe_identity_issuer_chain, "qe_identity_issuer_chain");
  TAKE_STRING (qe_identity_text, "qe_identity");
#undef TAKE_STRING
  if ((c->root_ca_crl = get_hex_bytes (&r, o, "root_ca_crl")) == NULL ||
      (c->pck_crl = get_hex_bytes (&r, o, "pck_crl")) == NULL ||
      !get_hex (&r, o, "tcb_info_signature", c->tcb_info_signature, 64) ||
      !get_hex (&r, o, "qe_identity_signature", c->qe_identity_signature, 64))
    return NULL;
  if (!parse_tcb_info (&r, c->tcb_info_text, &c->tcb_info) ||
      !parse_qe_identity (&r, c->qe_identity_text, &c->qe_identity))
    return NULL;
  return g_steal_pointer (&c);
}
