/* mero-base32.h: RFC 4648 base32, lower case, no padding: the multibase
 * 'b' encoding that CIDv1 text uses. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

char *mero_base32_encode (const guint8 *data, gsize len);
/* Accepts lower or upper case, no padding.  NULL on a bad character or
 * non-zero trailing bits. */
GBytes *mero_base32_decode (const char *text);

G_END_DECLS
