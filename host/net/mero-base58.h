/* mero-base58.h: base58btc (the Bitcoin alphabet), as libp2p uses it for
 * PeerIds.  Leading zero bytes map to leading '1's and back, so the
 * encoding is a bijection on byte strings. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Inputs longer than this are refused by the decoder: base58 is quadratic,
 * and nothing we parse (PeerIds, context ids) comes near it. */
#define MERO_BASE58_MAX_INPUT 1024

/* Returns (transfer full) the base58btc text of @data. */
char *mero_base58_encode (const guint8 *data, gsize len);

/* Decodes @text (NUL-terminated).  Returns (transfer full) the bytes, or
 * NULL on a character outside the alphabet or an over-long input. */
GBytes *mero_base58_decode (const char *text);

G_END_DECLS
