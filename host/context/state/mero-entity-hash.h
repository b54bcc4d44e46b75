/* mero-entity-hash.h: the Merkle rules of the entity tree (DESIGN §8).
 *
 *   own_hash  = sha256(data)
 *   full_hash = sha256(own_hash || full_hash(c1) || ... || full_hash(cn))
 *               for the live children c1..cn sorted by id (bytewise)
 *   root hash of a context = full_hash of its root entity;
 *   all zero = uninitialised (no root entity).
 *
 * Tombstoned children are left out: a replica that garbage-collected a
 * tombstone and one that never saw the entity hold the same live state,
 * and must have the same hash.  These rules are bit-exact across replicas;
 * tests/data/entity-hash-vectors.json pins them. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MERO_ENTITY_ID_LEN 32
#define MERO_HASH_LEN 32

typedef struct {
  guint8 id[MERO_ENTITY_ID_LEN];
  guint8 full_hash[MERO_HASH_LEN];
} MeroEntityChildHash;

void mero_entity_own_hash (const guint8 *data, gsize len, guint8 out[MERO_HASH_LEN]);

/* @children: @n_children live children in any order; sorted in place by id
 * before hashing.  Duplicate ids are a caller bug. */
void mero_entity_full_hash (const guint8 own_hash[MERO_HASH_LEN],
                            MeroEntityChildHash *children, gsize n_children,
                            guint8 out[MERO_HASH_LEN]);

/* Sorts @children by id (bytewise, ascending). */
void mero_entity_children_sort (MeroEntityChildHash *children, gsize n_children);

gboolean mero_hash_is_zero (const guint8 hash[MERO_HASH_LEN]);

G_END_DECLS
