/* mero-multistream.h: multistream-select 1.0, both roles, sans-IO.
 *
 * Feed received bytes with mero_multistream_recv(), send whatever
 * mero_multistream_pull_send() returns, and stop once the state is no
 * longer NEGOTIATING.  Behaviour follows js-libp2p (reference §2.1):
 *
 *  - The initiator writes the header and its first proposal together and
 *    then waits; after `na` it proposes the next protocol of its list.  If
 *    the first line it reads is not the header it takes it as the answer,
 *    as js does.
 *  - The responder sends nothing until it has read a line.  The first line
 *    must be the header, which it echoes; then it echoes a supported
 *    protocol, answers `ls` with its list, and anything else with `na`.
 *  - A line is at most MERO_MULTISTREAM_MAX_LINE bytes with a length varint
 *    of at most two bytes; a responder answers at most
 *    MERO_MULTISTREAM_MAX_ROUNDS lines.
 *
 * Bytes that arrived after the final line belong to the negotiated
 * protocol and are returned by mero_multistream_steal_leftover(). */
#pragma once

#include <glib.h>

#include "net/core/mero-net-limits.h"

G_BEGIN_DECLS

#define MERO_MULTISTREAM_PROTOCOL_ID "/multistream/1.0.0"

#define MERO_MULTISTREAM_ERROR (mero_multistream_error_quark ())
GQuark mero_multistream_error_quark (void);

typedef enum {
  MERO_MULTISTREAM_ERROR_PROTOCOL,       /* malformed or unexpected message */
  MERO_MULTISTREAM_ERROR_LINE_TOO_LONG,  /* beyond MERO_MULTISTREAM_MAX_LINE */
  MERO_MULTISTREAM_ERROR_NOT_SUPPORTED,  /* initiator: every proposal got `na` */
  MERO_MULTISTREAM_ERROR_TOO_MANY_ROUNDS, /* responder: peer kept proposing */
  MERO_MULTISTREAM_ERROR_FAILED,         /* recv after an earlier failure */
} MeroMultistreamError;

typedef enum {
  MERO_MULTISTREAM_STATE_NEGOTIATING,
  MERO_MULTISTREAM_STATE_AGREED,
  MERO_MULTISTREAM_STATE_FAILED,
} MeroMultistreamState;

typedef struct _MeroMultistream MeroMultistream;

/* @protocols: the ids to propose, in order of preference (1 to
 * MERO_MULTISTREAM_MAX_ROUNDS of them, each a valid protocol line).  The
 * header and first proposal are ready to pull at once. */
MeroMultistream *mero_multistream_new_initiator (const char *const *protocols);

/* @protocols: ids accepted exactly, and listed in the `ls` answer.
 * @prefixes: (nullable) any id starting with one of these is accepted too
 * (e.g. "/calimero/stream/"); prefixes are not listed by `ls`. */
MeroMultistream *mero_multistream_new_responder (const char *const *protocols,
                                                 const char *const *prefixes);

void mero_multistream_free (MeroMultistream *self);

/* Processes @data, which may hold several messages or part of one.  Only
 * valid while NEGOTIATING.  Returns FALSE with @error once the
 * negotiation has failed (the state is then FAILED). */
gboolean mero_multistream_recv (MeroMultistream *self,
                                const guint8    *data,
                                gsize            len,
                                GError         **error);

/* (transfer full) (nullable) bytes to send now, or NULL if none. */
GBytes *mero_multistream_pull_send (MeroMultistream *self);

MeroMultistreamState mero_multistream_get_state (const MeroMultistream *self);

/* (transfer none) (nullable) the agreed protocol once AGREED. */
const char *mero_multistream_get_protocol (const MeroMultistream *self);

/* (transfer full) bytes received beyond the negotiation (possibly empty)
 * once AGREED; later calls return an empty GBytes. */
GBytes *mero_multistream_steal_leftover (MeroMultistream *self);

/* Appends one multistream message (`uvarint(len+1) || text || '\n'`) to
 * @out; FALSE if @text is not a valid protocol line. */
gboolean mero_multistream_encode_line (GByteArray *out, const char *text);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroMultistream, mero_multistream_free)

G_END_DECLS
