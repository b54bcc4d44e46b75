/* mero-delta-limits.h: every bound a peer's deltas run into, in one place
 * (DESIGN §3.4, upstream lesson 8). */
#pragma once

#include <glib.h>

/* Plaintext body (the content-addressed bytes). */
#define MERO_DELTA_MAX_BODY (1024 * 1024)
/* Whole envelope: body + AEAD tag + fixed fields + governance heads. */
#define MERO_DELTA_MAX_ENVELOPE (MERO_DELTA_MAX_BODY + 16 * 1024)
#define MERO_DELTA_MAX_PARENTS 64
/* DAG heads a replica keeps (and may cite, MERO_DELTA_MAX_PARENTS at a
 * time): past it the oldest head is forgotten and counted. */
#define MERO_DELTA_MAX_HEADS 1024
#define MERO_DELTA_MAX_ACTIONS 16384
#define MERO_DELTA_MAX_GOVERNANCE_HEADS 64
/* DeltaStore pending set (children waiting for parents). */
#define MERO_DELTA_PENDING_MAX 10000
#define MERO_DELTA_PENDING_MAX_AGE_MS G_GUINT64_CONSTANT (300000)
/* DeltaBuffer (deltas received during a snapshot sync). */
#define MERO_DELTA_BUFFER_MAX 10000

#define MERO_DELTA_ID_LEN 32
#define MERO_DELTA_KEY_LEN 32
#define MERO_DELTA_AUTHOR_LEN 32      /* Ed25519 public key */
#define MERO_DELTA_SECRET_KEY_LEN 64  /* libsodium Ed25519 secret key */
#define MERO_DELTA_NONCE_LEN 24
#define MERO_DELTA_SIGNATURE_LEN 64
#define MERO_DELTA_CIPHER_XCHACHA20POLY1305 1
