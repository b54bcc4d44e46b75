/* mero-group-types.h: roles, capabilities, op kinds and errors shared by
 * the group modules. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MERO_GROUP_ID_LEN 32
#define MERO_GROUP_KEY_LEN 32        /* member Ed25519 public key */
#define MERO_GROUP_SIG_LEN 64
#define MERO_GROUP_SECRET_LEN 64     /* Ed25519 secret key (libsodium layout) */
#define MERO_GROUP_GROUP_KEY_LEN 32  /* the symmetric group key */
#define MERO_GROUP_SEALED_LEN (MERO_GROUP_GROUP_KEY_LEN + 48) /* + crypto_box_SEALBYTES */
#define MERO_GROUP_NONCE_LEN 32      /* invitation nonce */

/* Stored and signed as one byte: append-only. */
typedef enum {
  MERO_GROUP_ROLE_ADMIN = 0,
  MERO_GROUP_ROLE_MEMBER = 1,
  MERO_GROUP_ROLE_READ_ONLY = 2,
} MeroGroupRole;
#define MERO_GROUP_ROLE_LAST MERO_GROUP_ROLE_READ_ONLY

/* Admins hold every capability implicitly; the bits matter for members
 * (read-only members can only leave, whatever their bits say). */
typedef enum {
  MERO_GROUP_CAP_CREATE_CONTEXT = 1 << 0,
  MERO_GROUP_CAP_INVITE = 1 << 1,
  MERO_GROUP_CAP_MANAGE_MEMBERS = 1 << 2,
  MERO_GROUP_CAP_MANAGE_APPLICATION = 1 << 3,
} MeroGroupCapability;
#define MERO_GROUP_CAP_ALL 0x0fu

/* Signed as one byte: append-only. */
typedef enum {
  MERO_GROUP_OP_CREATE_GROUP = 1,
  MERO_GROUP_OP_ADD_MEMBER = 2,
  MERO_GROUP_OP_REMOVE_MEMBER = 3,
  MERO_GROUP_OP_LEAVE = 4,
  MERO_GROUP_OP_SET_ROLE = 5,
  MERO_GROUP_OP_SET_CAPABILITIES = 6,
  MERO_GROUP_OP_REGISTER_CONTEXT = 7,
  MERO_GROUP_OP_DETACH_CONTEXT = 8,
  MERO_GROUP_OP_ROTATE_KEY = 9,
  MERO_GROUP_OP_JOIN = 10,
  MERO_GROUP_OP_SET_METADATA = 11,
  MERO_GROUP_OP_SET_TEE_POLICY = 12,   /* admin: the TEE admission policy */
  MERO_GROUP_OP_ADMIT_TEE = 13,        /* admin: a read-only member on an attested quote */
} MeroGroupOpKind;

#define MERO_GROUP_ERROR (mero_group_error_quark ())
GQuark mero_group_error_quark (void);

typedef enum {
  MERO_GROUP_ERROR_MALFORMED = 1,     /* does not decode, wrong field sizes */
  MERO_GROUP_ERROR_TOO_LARGE,         /* over a MERO_GROUP_* bound */
  MERO_GROUP_ERROR_BAD_SIGNATURE,
  MERO_GROUP_ERROR_WRONG_GROUP,
  MERO_GROUP_ERROR_UNAUTHORIZED,      /* signer lacks the role or capability */
  MERO_GROUP_ERROR_REPLAY,            /* nonce not above the signer's last */
  MERO_GROUP_ERROR_INVITATION_EXPIRED,
  MERO_GROUP_ERROR_INVITATION_REUSED,
  MERO_GROUP_ERROR_INVITATION_FORGED,
  MERO_GROUP_ERROR_OWNER_IMMUTABLE,   /* the owner cannot be removed, demoted or leave */
  MERO_GROUP_ERROR_LAST_ADMIN,
  MERO_GROUP_ERROR_LIMIT,             /* members/contexts/ops/pending full */
  MERO_GROUP_ERROR_NOT_MEMBER,
  MERO_GROUP_ERROR_ALREADY_MEMBER,
  MERO_GROUP_ERROR_BAD_ENVELOPES,     /* key envelopes do not match the members */
  MERO_GROUP_ERROR_BAD_TIMESTAMP,
  MERO_GROUP_ERROR_CONFLICT,          /* context exists / does not exist */
  MERO_GROUP_ERROR_UNKNOWN_CUT,       /* a cited head is not known here */
  MERO_GROUP_ERROR_STORE,
  MERO_GROUP_ERROR_NO_TEE_POLICY,     /* ADMIT_TEE in a group without a policy */
  MERO_GROUP_ERROR_QUOTE_REUSED,      /* ADMIT_TEE with an already admitted quote */
} MeroGroupError;

const char *mero_group_role_name (MeroGroupRole role);

G_END_DECLS
