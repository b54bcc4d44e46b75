/* mero-mdns-message.h: DNS messages as mDNS uses them (RFC 1035 §4,
 * RFC 6762 §18), sans-IO.
 *
 * The decoder reads a whole UDP payload into a MeroDnsMessage: header,
 * questions, answers, authority and additional records.  Names may be
 * compressed (RFC 1035 §4.1.4); a pointer must point strictly before the
 * label it replaces, so no chain of pointers can loop, and at most
 * MERO_DNS_MAX_POINTERS are followed per name anyway.  PTR, TXT, A, AAAA
 * and SRV data is decoded (and checked); every other type is kept as raw
 * bytes and otherwise ignored.  Every count and length is bounded by a
 * MERO_DNS_MAX_* constant below, so a hostile packet costs at most a
 * known amount of memory and work.  Bytes after the last record are
 * ignored, as other mDNS stacks do.
 *
 * Names are carried as dotted text without the trailing dot.  A label
 * byte that is not a printable ASCII character, or is '.' or '\\', is
 * written as \DDD (decimal, as dig does), so the text form is unambiguous
 * and the encoder turns it back into the same labels.  Compare names with
 * mero_dns_name_equal (ASCII case-insensitive, RFC 1035 §2.3.3).
 *
 * The encoder writes the same structure; names are compressed against
 * earlier names in the message. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* RFC 6762 §17: an mDNS message may be up to 9000 bytes. */
#define MERO_DNS_MAX_MESSAGE 9000u
/* RFC 1035 §2.3.4. */
#define MERO_DNS_MAX_NAME 255u
#define MERO_DNS_MAX_LABEL 63u
/* Compression pointers followed while reading one name (each must point
 * backwards, so 9000 bytes cannot hold a longer useful chain than this). */
#define MERO_DNS_MAX_POINTERS 64u
/* Questions plus records of all sections in one message.  Every record is
 * at least 11 bytes, so 9000 bytes hold at most ~800; real responses carry
 * a handful. */
#define MERO_DNS_MAX_RECORDS 256u
/* Character-strings in one TXT record. */
#define MERO_DNS_MAX_TXT_STRINGS 64u

#define MERO_DNS_TYPE_A 1u
#define MERO_DNS_TYPE_PTR 12u
#define MERO_DNS_TYPE_TXT 16u
#define MERO_DNS_TYPE_AAAA 28u
#define MERO_DNS_TYPE_SRV 33u
#define MERO_DNS_TYPE_ANY 255u

#define MERO_DNS_CLASS_IN 1u
#define MERO_DNS_CLASS_ANY 255u
/* Top bit of the class: "unicast response" in questions, "cache flush"
 * in records (RFC 6762 §5.4, §10.2). */
#define MERO_DNS_CLASS_TOP_BIT 0x8000u

#define MERO_DNS_FLAG_RESPONSE 0x8000u      /* QR */
#define MERO_DNS_FLAG_AUTHORITATIVE 0x0400u /* AA */
#define MERO_DNS_FLAG_TRUNCATED 0x0200u     /* TC */
#define MERO_DNS_OPCODE_MASK 0x7800u

#define MERO_DNS_ERROR (mero_dns_error_quark ())
GQuark mero_dns_error_quark (void);

typedef enum {
  MERO_DNS_ERROR_TRUNCATED, /* ends inside a field */
  MERO_DNS_ERROR_TOO_LARGE, /* beyond a MERO_DNS_MAX_* bound */
  MERO_DNS_ERROR_BAD_NAME,  /* bad label, bad or looping pointer */
  MERO_DNS_ERROR_BAD_RDATA, /* record data does not fit its type */
} MeroDnsError;

typedef struct
{
  char *name;
  guint16 type;
  guint16 klass;           /* without the top bit */
  gboolean unicast_response;
} MeroDnsQuestion;

typedef struct
{
  char *name;
  guint16 type;
  guint16 klass;           /* without the top bit */
  gboolean cache_flush;
  guint32 ttl;
  /* Decoded data of the types we read; the rest stays in raw. */
  char *target;            /* PTR: the name pointed to; SRV: the host */
  GPtrArray *txt;          /* TXT: GBytes, one per character-string */
  guint8 address[16];      /* A: 4 bytes; AAAA: 16 */
  guint16 priority, weight, port; /* SRV */
  GBytes *raw;             /* other types: the record data as sent */
} MeroDnsRecord;

typedef struct
{
  guint16 id;
  guint16 flags;
  GPtrArray *questions;    /* MeroDnsQuestion */
  GPtrArray *answers;      /* MeroDnsRecord */
  GPtrArray *authorities;  /* MeroDnsRecord */
  GPtrArray *additionals;  /* MeroDnsRecord */
} MeroDnsMessage;

MeroDnsMessage *mero_dns_message_new (void);
void mero_dns_message_free (MeroDnsMessage *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroDnsMessage, mero_dns_message_free)

gboolean mero_dns_message_is_response (const MeroDnsMessage *self);

/* Adds (transfer full, owned by the message) a question or a record. */
MeroDnsQuestion *mero_dns_message_add_question (MeroDnsMessage *self, const char *name,
                                                guint16 type);
/* @section: self->answers, ->authorities or ->additionals.  Class IN. */
MeroDnsRecord *mero_dns_message_add_record (MeroDnsMessage *self, GPtrArray *section,
                                            const char *name, guint16 type, guint32 ttl);
/* TXT helper: appends one character-string (at most 255 bytes). */
void mero_dns_record_add_txt (MeroDnsRecord *record, const guint8 *data, gsize len);

/* (transfer full) the message, or NULL with @error set. */
MeroDnsMessage *mero_dns_message_decode (const guint8 *data, gsize len, GError **error);
/* (transfer full) the wire form, or NULL with @error set when a name is
 * malformed or the message exceeds MERO_DNS_MAX_MESSAGE. */
GBytes *mero_dns_message_encode (const MeroDnsMessage *self, GError **error);

/* ASCII case-insensitive comparison of two names in text form. */
gboolean mero_dns_name_equal (const char *a, const char *b);

G_END_DECLS
