/* mero-tee-admission.h: the admission of attested read-only nodes
 * (issue 14 item 4), without I/O.
 *
 * A node that wants into a group announces a TeeAnnounce on the group
 * topic: a quote whose report data is nonce[32] || sha256(member key),
 * signed by that key.  It re-announces on the schedule of
 * mero_tee_announce_next_delay_ms() until it sees itself admitted or the
 * bounded time is over.  An admin verifies the quote with the loaded
 * verifier (mero_tee_verify_quote), judges announce + verdict against the
 * group state with mero_tee_admission_judge(), and on OK authors the
 * ADMIT_TEE op of mero_tee_admission_build_op(): read-only role, quote
 * hash as replay guard, the current group key sealed to the new member. */
#pragma once

#include <glib.h>
#include <mero-sdk.h>

#include "context/group/mero-group-state.h"
#include "context/group/mero-group-tee-policy.h"

G_BEGIN_DECLS

/* An announced quote is at most this big (a TDX quote with its PCK chain
 * is ~5 KiB; tee-mock's is 256 bytes). */
#define MERO_TEE_ANNOUNCE_QUOTE_MAX_BYTES (16 * 1024)
/* Re-announce schedule: first retry after FIRST, doubling up to MAX,
 * nothing more once GIVE_UP has passed since the first announce. */
#define MERO_TEE_ANNOUNCE_FIRST_RETRY_MS 1000
#define MERO_TEE_ANNOUNCE_MAX_RETRY_MS (30 * 1000)
#define MERO_TEE_ANNOUNCE_GIVE_UP_MS (10 * 60 * 1000)

typedef struct {
  guint8 group_id[MERO_GROUP_ID_LEN];
  guint8 member[MERO_GROUP_KEY_LEN];
  guint8 nonce[MERO_GROUP_TEE_NONCE_LEN];
  GBytes *quote;
  guint64 timestamp_ms;
  guint8 signature[MERO_GROUP_SIG_LEN];
} MeroTeeAnnounce;

MeroTeeAnnounce *mero_tee_announce_new (void);
void mero_tee_announce_free (MeroTeeAnnounce *announce);   /* NULL-safe */

/* Sets member from @secret_key and signs. */
void mero_tee_announce_sign (MeroTeeAnnounce *announce,
                             const guint8 secret_key[MERO_GROUP_SECRET_LEN]);
gboolean mero_tee_announce_verify (const MeroTeeAnnounce *announce);
GBytes *mero_tee_announce_encode (const MeroTeeAnnounce *announce);
/* Peer input: bounded, exact sizes.  Errors: MERO_GROUP_ERROR_MALFORMED,
 * MERO_GROUP_ERROR_TOO_LARGE.  Does not verify the signature. */
MeroTeeAnnounce *mero_tee_announce_decode (const guint8 *data, gsize len, GError **error);

/* sha256 of the quote bytes: the replay guard of ADMIT_TEE. */
void mero_tee_quote_hash (GBytes *quote, guint8 out[MERO_GROUP_TEE_QUOTE_HASH_LEN]);

/* The admin's decision.  @verifier_error: NULL when the verifier accepted
 * the quote (then @verdict is its verdict), else why it refused.  Checks,
 * in order: the announce is for this group and signed by its member key,
 * the group has a policy, the node is not a member, the quote
 * was never admitted, the verifier accepted, the report data carries the
 * announced nonce, then mero_group_tee_policy_evaluate().  @why (may be
 * NULL) gets a sentence for the log and the announcing node. */
MeroGroupTeeAdmitResult mero_tee_admission_judge (const MeroGroupState *state,
                                                  const MeroTeeAnnounce *announce,
                                                  const MeroTeeVerdict *verdict,
                                                  const GError *verifier_error, char **why);

/* (transfer full) the unsigned ADMIT_TEE op for @announce, sealing @key
 * (the current group key, whose id the state holds) to the member. */
MeroGroupOp *mero_tee_admission_build_op (const MeroGroupState *state,
                                          const MeroTeeAnnounce *announce,
                                          const guint8 key[MERO_GROUP_GROUP_KEY_LEN],
                                          GError **error);

/* Delay before re-announce number @attempt (1 = first retry) when
 * @elapsed_ms have passed since the first announce; -1: stop. */
gint64 mero_tee_announce_next_delay_ms (guint attempt, guint64 elapsed_ms);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroTeeAnnounce, mero_tee_announce_free)

G_END_DECLS
