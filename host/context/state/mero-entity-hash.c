#include "context/state/mero-entity-hash.h"

#include <string.h>

#include "crypto/mero-sha256.h"

void
mero_entity_own_hash (const guint8 *data, gsize len, guint8 out[MERO_HASH_LEN])
{
  mero_sha256 (data, len, out);
}

static int
child_cmp (const void *a, const void *b)
{
  return memcmp (((const MeroEntityChildHash *) a)->id, ((const MeroEntityChildHash *) b)->id,
                 MERO_ENTITY_ID_LEN);
}

void
mero_entity_children_sort (MeroEntityChildHash *children, gsize n_children)
{
  gboolean sorted = TRUE;

  /* Callers usually hand children over already in id order (store
   * iteration order), so check before paying for a sort. */
  for (gsize i = 1; i < n_children && sorted; i++)
    sorted = child_cmp (&children[i - 1], &children[i]) < 0;
  if (!sorted)
    qsort (children, n_children, sizeof *children, child_cmp);
}

void
mero_entity_full_hash (const guint8 own_hash[MERO_HASH_LEN], MeroEntityChildHash *children,
                       gsize n_children, guint8 out[MERO_HASH_LEN])
{
  g_autoptr (MeroSha256) ctx = mero_sha256_new ();

  mero_entity_children_sort (children, n_children);
  mero_sha256_update (ctx, own_hash, MERO_HASH_LEN);
  for (gsize i = 0; i < n_children; i++)
    mero_sha256_update (ctx, children[i].full_hash, MERO_HASH_LEN);
  mero_sha256_finish (ctx, out);
}

gboolean
mero_hash_is_zero (const guint8 hash[MERO_HASH_LEN])
{
  guint8 acc = 0;

  for (guint i = 0; i < MERO_HASH_LEN; i++)
    acc |= hash[i];
  return acc == 0;
}
