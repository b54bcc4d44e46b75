/* mero-tls-der.h: a small, strict DER reader for what libp2p TLS needs
 * from a peer's certificate (X.509 structure down to the extensions, and
 * the libp2p SignedKey).  It only walks TLVs; it never allocates.
 *
 * Strict DER: single-byte tags only, definite lengths in the shortest
 * form (at most 4 length bytes), and every value inside its parent.
 * Anything else is malformed. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MERO_DER_TAG_BOOLEAN 0x01
#define MERO_DER_TAG_INTEGER 0x02
#define MERO_DER_TAG_BIT_STRING 0x03
#define MERO_DER_TAG_OCTET_STRING 0x04
#define MERO_DER_TAG_OID 0x06
#define MERO_DER_TAG_SEQUENCE 0x30
/* [n] constructed, context-specific (explicit tags in X.509). */
#define MERO_DER_TAG_CONTEXT(n) (0xa0 | (n))

/* A cursor over a run of TLVs. */
typedef struct
{
  const guint8 *p;
  gsize len;
} MeroDerReader;

typedef struct
{
  guint8 tag;
  const guint8 *value; /* the contents */
  gsize len;
  const guint8 *raw;   /* the whole TLV, for signatures over DER */
  gsize raw_len;
} MeroDerItem;

void mero_der_reader_init (MeroDerReader *r, const guint8 *data, gsize len);
/* A reader over @item's contents. */
void mero_der_reader_enter (MeroDerReader *r, const MeroDerItem *item);
gboolean mero_der_at_end (const MeroDerReader *r);

/* Reads the next TLV.  FALSE at the end or if it is malformed. */
gboolean mero_der_next (MeroDerReader *r, MeroDerItem *item);
/* Reads the next TLV and checks its tag. */
gboolean mero_der_expect (MeroDerReader *r, guint8 tag, MeroDerItem *item);
/* The next tag, or 0 at the end; nothing is consumed. */
guint8 mero_der_peek_tag (const MeroDerReader *r);

G_END_DECLS
