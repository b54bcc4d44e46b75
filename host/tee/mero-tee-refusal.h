/* mero-tee-refusal.h: an admin's signed refusal of a TEE announce, sent
 * back to the announcing node (issue 14), without I/O.
 *
 * The admin publishes it on the group topic the announce came by: the
 * announcer is subscribed there (it announces and receives its admission
 * there), gossip relays it whether or not the two are connected, and no
 * new stream protocol is needed.  The announcer checks the signature and
 * that the author is an admin of the group, shows the reason, and stops
 * re-announcing when the refusal is definitive (the quote itself can
 * never get in).  Admins send at most one refusal per (member, quote,
 * reason) per MERO_TEE_REFUSAL_INTERVAL_MS, from a bounded table. */
#pragma once

#include <glib.h>

#include "context/group/mero-group-tee-policy.h"
#include "context/group/mero-group-types.h"

G_BEGIN_DECLS

#define MERO_TEE_REFUSAL_MESSAGE_MAX 256
#define MERO_TEE_REFUSAL_MAX_BYTES 1024
#define MERO_TEE_REFUSAL_INTERVAL_MS (10 * 1000)
#define MERO_TEE_REFUSAL_LIMITER_SIZE 256

typedef struct {
  guint8 group_id[MERO_GROUP_ID_LEN];
  guint8 admin[MERO_GROUP_KEY_LEN];
  guint8 member[MERO_GROUP_KEY_LEN];
  guint8 quote_hash[MERO_GROUP_TEE_QUOTE_HASH_LEN];
  MeroGroupTeeAdmitResult reason;
  char *message;            /* UTF-8, at most MERO_TEE_REFUSAL_MESSAGE_MAX bytes */
  guint64 timestamp_ms;
  guint8 signature[MERO_GROUP_SIG_LEN];
} MeroTeeRefusal;

MeroTeeRefusal *mero_tee_refusal_new (void);
void mero_tee_refusal_free (MeroTeeRefusal *refusal);   /* NULL-safe */

/* Sets admin from @secret_key, truncates message to the bound (on a
 * character boundary) and signs. */
void mero_tee_refusal_sign (MeroTeeRefusal *refusal,
                            const guint8 secret_key[MERO_GROUP_SECRET_LEN]);
/* The signature by the key in admin; whether that key is an admin is the
 * caller's question (the group state). */
gboolean mero_tee_refusal_verify (const MeroTeeRefusal *refusal);
GBytes *mero_tee_refusal_encode (const MeroTeeRefusal *refusal);
/* Peer input: bounded, exact sizes, a known refusal reason (never OK),
 * a UTF-8 message within the bound.  MERO_GROUP_ERROR_MALFORMED or
 * _TOO_LARGE.  Does not verify the signature. */
MeroTeeRefusal *mero_tee_refusal_decode (const guint8 *data, gsize len, GError **error);

/* Whether @reason refuses the quote for good: the same announce can never
 * get in, whatever the policy or collateral become (replayed, bound to
 * another key, nonce mismatch).  The others (MRTD, TCB, RTMR, mock, no
 * policy, verifier) may change with the policy or the collateral, so the
 * node keeps re-announcing on its bounded back-off. */
gboolean mero_tee_refusal_is_definitive (MeroGroupTeeAdmitResult reason);

/* The admin's rate limit, integer time. */
typedef struct _MeroTeeRefusalLimiter MeroTeeRefusalLimiter;
MeroTeeRefusalLimiter *mero_tee_refusal_limiter_new (void);
void mero_tee_refusal_limiter_free (MeroTeeRefusalLimiter *limiter);   /* NULL-safe */
/* TRUE (and remembered) when no refusal for this (member, quote hash,
 * reason) went out within MERO_TEE_REFUSAL_INTERVAL_MS before @now_ms and
 * the table has room (entries older than the interval are forgotten). */
gboolean mero_tee_refusal_limiter_allow (MeroTeeRefusalLimiter *limiter,
                                         const guint8 member[MERO_GROUP_KEY_LEN],
                                         const guint8 quote_hash[MERO_GROUP_TEE_QUOTE_HASH_LEN],
                                         MeroGroupTeeAdmitResult reason, gint64 now_ms);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroTeeRefusal, mero_tee_refusal_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroTeeRefusalLimiter, mero_tee_refusal_limiter_free)

G_END_DECLS
