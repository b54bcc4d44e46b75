/* tee-tdx-sgx-ext.c: a small DER walker for the SGX extension.
 *
 * The extension is SEQUENCE { SEQUENCE { OID, value } ... } where the TCB
 * entry's value is again such a sequence.  Only definite lengths of up to
 * four length bytes are accepted, and each TLV must fit in its parent. */
#include "tee-tdx-sgx-ext.h"

#include <string.h>

#define DER_INTEGER 0x02
#define DER_OCTET_STRING 0x04
#define DER_OID 0x06
#define DER_SEQUENCE 0x30

/* 1.2.840.113741.1.13.1 */
static const uint8_t sgx_ext_oid[] = { 0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01 };

typedef struct {
  const uint8_t *p;
  size_t len;
} Der;

static gboolean
der_next (Der *in, uint8_t *tag, Der *content)
{
  size_t n, hdr = 2;

  if (in->len < 2)
    return FALSE;
  *tag = in->p[0];
  n = in->p[1];
  if (n & 0x80)
    {
      size_t k = n & 0x7f;

      if (k == 0 || k > 4 || in->len < 2 + k)
        return FALSE;
      n = 0;
      for (size_t i = 0; i < k; i++)
        n = (n << 8) | in->p[2 + i];
      hdr += k;
    }
  if (n > in->len - hdr)
    return FALSE;
  content->p = in->p + hdr;
  content->len = n;
  in->p += hdr + n;
  in->len -= hdr + n;
  return TRUE;
}

/* A non-negative INTEGER of at most 16 bits (an SVN of 255 is 00 FF). */
static gboolean
der_uint16 (const Der *v, uint16_t *out)
{
  uint32_t x = 0;

  if (v->len == 0 || v->len > 3 || (v->p[0] & 0x80))
    return FALSE;
  for (size_t i = 0; i < v->len; i++)
    x = (x << 8) | v->p[i];
  if (x > G_MAXUINT16)
    return FALSE;
  *out = (uint16_t) x;
  return TRUE;
}

/* @oid is the extension's OID followed by @n_arcs single-byte arcs. */
static gboolean
oid_is (const Der *oid, const uint8_t *arcs, size_t n_arcs)
{
  return oid->len == sizeof sgx_ext_oid + n_arcs &&
         memcmp (oid->p, sgx_ext_oid, sizeof sgx_ext_oid) == 0 &&
         memcmp (oid->p + sizeof sgx_ext_oid, arcs, n_arcs) == 0;
}

/* Reads SEQUENCE { OID, value } from @in. */
static gboolean
next_entry (Der *in, Der *oid, uint8_t *value_tag, Der *value)
{
  Der entry;
  uint8_t tag;

  if (!der_next (in, &tag, &entry) || tag != DER_SEQUENCE)
    return FALSE;
  if (!der_next (&entry, &tag, oid) || tag != DER_OID)
    return FALSE;
  return der_next (&entry, value_tag, value);
}

static gboolean
parse_tcb (Der tcb, TdxSgxExtension *out, guint *seen)
{
  Der oid, value;
  uint8_t tag;

  while (tcb.len > 0)
    {
      if (!next_entry (&tcb, &oid, &tag, &value))
        return FALSE;
      for (uint8_t i = 1; i <= TDX_SGX_TCB_COMPONENTS + 2; i++)
        {
          const uint8_t arcs[] = { 2, i };
          uint16_t svn;

          if (!oid_is (&oid, arcs, 2))
            continue;
          if (i <= TDX_SGX_TCB_COMPONENTS)
            {
              if (tag != DER_INTEGER || !der_uint16 (&value, &svn) || svn > G_MAXUINT8)
                return FALSE;
              out->comp_svn[i - 1] = (uint8_t) svn;
            }
          else if (i == TDX_SGX_TCB_COMPONENTS + 1)
            {
              if (tag != DER_INTEGER || !der_uint16 (&value, &out->pcesvn))
                return FALSE;
            }
          else
            {
              if (tag != DER_OCTET_STRING || value.len != sizeof out->cpusvn)
                return FALSE;
              memcpy (out->cpusvn, value.p, value.len);
            }
          *seen |= 1u << (i - 1);
        }
    }
  return TRUE;
}

gboolean
tdx_sgx_ext_parse (const uint8_t *der, size_t len, TdxSgxExtension *out, GError **error)
{
  const uint8_t arc_tcb[] = { 2 }, arc_pceid[] = { 3 }, arc_fmspc[] = { 4 };
  Der in = { der, len }, seq, oid, value;
  uint8_t tag;
  guint tcb_seen = 0;
  gboolean have_pceid = FALSE, have_fmspc = FALSE;

  memset (out, 0, sizeof *out);
  if (!der_next (&in, &tag, &seq) || tag != DER_SEQUENCE)
    goto malformed;
  while (seq.len > 0)
    {
      if (!next_entry (&seq, &oid, &tag, &value))
        goto malformed;
      if (oid_is (&oid, arc_tcb, 1))
        {
          if (tag != DER_SEQUENCE || !parse_tcb (value, out, &tcb_seen))
            goto malformed;
        }
      else if (oid_is (&oid, arc_pceid, 1))
        {
          if (tag != DER_OCTET_STRING || value.len != sizeof out->pceid)
            goto malformed;
          memcpy (out->pceid, value.p, value.len);
          have_pceid = TRUE;
        }
      else if (oid_is (&oid, arc_fmspc, 1))
        {
          if (tag != DER_OCTET_STRING || value.len != sizeof out->fmspc)
            goto malformed;
          memcpy (out->fmspc, value.p, value.len);
          have_fmspc = TRUE;
        }
    }
  /* Every one of the 16 components, PCESVN and CPUSVN. */
  if (tcb_seen != (1u << (TDX_SGX_TCB_COMPONENTS + 2)) - 1 || !have_pceid || !have_fmspc)
    {
      g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_MALFORMED,
                   "PCK certificate SGX extension lacks the TCB, PCE ID or FMSPC");
      return FALSE;
    }
  return TRUE;

malformed:
  g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_MALFORMED,
               "PCK certificate SGX extension is not valid DER");
  return FALSE;
}
