/* mero-group-tee-policy.h: the TEE admission policy a group admin sets
 * with a SET_TEE_POLICY op, and the rule that judges a verified quote
 * against it (issue 14 item 4).
 *
 * Sans-IO: the caller verifies the quote with the loaded verifier
 * (host/tee) and hands the verdict here with the member key the quote
 * claims to be bound to; nothing here reads files, clocks or sockets. */
#pragma once

#include <glib.h>

#include "context/group/mero-group-types.h"
#include <mero-sdk.h>

G_BEGIN_DECLS

#define MERO_GROUP_TEE_MEASUREMENT_LEN 48  /* MRTD, RTMRn */
#define MERO_GROUP_TEE_QUOTE_HASH_LEN 32   /* sha256 of the quote bytes */
#define MERO_GROUP_TEE_NONCE_LEN 32        /* first half of the report data */
#define MERO_GROUP_TEE_RTMRS 4
/* MRTDs one policy may allow: a fleet rolls images, it does not run
 * hundreds at once; bounds the op and the linear match. */
#define MERO_GROUP_TEE_POLICY_MAX_MRTDS 64
/* Bit n of tcb_statuses accepts MeroTeeTcbStatus n (MOCK excluded: mock
 * quotes are governed by accept_mock alone). */
#define MERO_GROUP_TEE_TCB_ALL_REAL 0x3ffu

typedef struct {
  guint n_mrtds;
  guint8 mrtds[MERO_GROUP_TEE_POLICY_MAX_MRTDS][MERO_GROUP_TEE_MEASUREMENT_LEN];
  guint32 tcb_statuses;         /* bit per MeroTeeTcbStatus */
  guint8 rtmr_mask;             /* bit n: RTMRn must equal rtmrs[n] */
  guint8 rtmrs[MERO_GROUP_TEE_RTMRS][MERO_GROUP_TEE_MEASUREMENT_LEN];
  gboolean accept_mock;
} MeroGroupTeePolicy;

/* Why an attestation was refused; each has a stable metric label. */
typedef enum {
  MERO_GROUP_TEE_ADMIT_OK = 0,
  MERO_GROUP_TEE_ADMIT_NO_POLICY,
  MERO_GROUP_TEE_ADMIT_MOCK_NOT_ACCEPTED,
  MERO_GROUP_TEE_ADMIT_MRTD_NOT_ALLOWED,
  MERO_GROUP_TEE_ADMIT_TCB_NOT_ACCEPTED,
  MERO_GROUP_TEE_ADMIT_RTMR_MISMATCH,
  MERO_GROUP_TEE_ADMIT_KEY_BINDING,
  MERO_GROUP_TEE_ADMIT_REPLAYED,
  MERO_GROUP_TEE_ADMIT_ALREADY_MEMBER,
  MERO_GROUP_TEE_ADMIT_VERIFIER_REFUSED,  /* the quote did not verify */
  MERO_GROUP_TEE_ADMIT_NONCE_MISMATCH,    /* report data nonce != announced nonce */
  MERO_GROUP_TEE_ADMIT_BAD_ANNOUNCE,      /* other group, or not signed by the member */
} MeroGroupTeeAdmitResult;

/* Metric label ("ok", "no_policy", "mock_not_accepted", ...). */
const char *mero_group_tee_admit_reason (MeroGroupTeeAdmitResult result);

/* The report data a node puts in its quote:
 * nonce[32] || sha256(member public key[32]). */
void mero_group_tee_report_data (const guint8 nonce[MERO_GROUP_TEE_NONCE_LEN],
                                 const guint8 member[MERO_GROUP_KEY_LEN],
                                 guint8 out[64]);

/* The whole rule for a quote the verifier accepted: bound to @member,
 * measurement allowed, TCB status accepted (or mock with accept_mock),
 * pinned RTMRs equal.  Replay and membership are the state's to judge
 * (mero_group_state_check of the ADMIT_TEE op); @why gets a sentence. */
MeroGroupTeeAdmitResult mero_group_tee_policy_evaluate (const MeroGroupTeePolicy *policy,
                                                        const MeroTeeVerdict *verdict,
                                                        const guint8 member[MERO_GROUP_KEY_LEN],
                                                        char **why);

/* Canonical bytes (signing bytes body, digest):
 *   u32 n || mrtd[48]*n || u32 tcb_statuses || u8 rtmr_mask
 *   || rtmr[48] for each set bit, ascending || u8 accept_mock */
void mero_group_tee_policy_put (GByteArray *b, const MeroGroupTeePolicy *policy);
/* Sorts and dedups the MRTDs so one policy has one encoding. */
void mero_group_tee_policy_normalize (MeroGroupTeePolicy *policy);

G_END_DECLS
