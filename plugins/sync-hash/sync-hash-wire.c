/* sync-hash-wire.c: see sync-hash-wire.h. */
#include "sync-hash-wire.h"

#include <string.h>

#define ENTITY_FIXED_LEN (32 + 32 + 1 + 4 * 16 + 4)

SyncHashMsg *
sync_hash_msg_new (uint8_t type)
{
  SyncHashMsg *m = g_new0 (SyncHashMsg, 1);

  m->type = type;
  m->push = g_ptr_array_new_with_free_func ((GDestroyNotify) sync_hash_entity_free);
  m->nodes = g_array_new (FALSE, FALSE, sizeof (SyncHashNode));
  m->answers = g_ptr_array_new_with_free_func ((GDestroyNotify) sync_hash_answer_free);
  return m;
}

void
sync_hash_msg_free (SyncHashMsg *m)
{
  if (m == NULL)
    return;
  g_ptr_array_unref (m->push);
  g_array_unref (m->nodes);
  g_ptr_array_unref (m->answers);
  g_free (m);
}

static void
entity_fill (SyncHashEntity *we, const MeroStateEntity *e, GBytes *data)
{
  we->e = *e;
  we->e.struct_size = sizeof (MeroStateEntity);
  we->e.child_ids = NULL;
  we->e.n_children = 0;
  we->data = data;
  we->e.data = g_bytes_get_data (data, &we->e.data_len);
}

SyncHashEntity *
sync_hash_entity_new (const MeroStateEntity *e)
{
  SyncHashEntity *we = g_new0 (SyncHashEntity, 1);

  entity_fill (we, e, g_bytes_new (e->data, e->data_len));
  return we;
}

void
sync_hash_entity_free (SyncHashEntity *we)
{
  if (we == NULL)
    return;
  g_clear_pointer (&we->data, g_bytes_unref);
  g_free (we);
}

SyncHashAnswer *
sync_hash_answer_new (void)
{
  SyncHashAnswer *a = g_new0 (SyncHashAnswer, 1);

  a->children = g_array_new (FALSE, FALSE, sizeof (SyncHashChild));
  return a;
}

void
sync_hash_answer_free (SyncHashAnswer *a)
{
  if (a == NULL)
    return;
  /* Iterative: a chain is as long as a peer made it (bounded on decode). */
  while (a != NULL)
    {
      SyncHashAnswer *next = a->chain;

      g_clear_pointer (&a->entity.data, g_bytes_unref);
      g_array_unref (a->children);
      g_free (a);
      a = next;
    }
}

size_t
sync_hash_entity_wire_size (const MeroStateEntity *e)
{
  return ENTITY_FIXED_LEN + e->data_len;
}

/* ---- encoding ---------------------------------------------------------- */

static void
put_u8 (GByteArray *o, uint8_t v)
{
  g_byte_array_append (o, &v, 1);
}

static void
put_u32 (GByteArray *o, uint32_t v)
{
  uint32_t be = GUINT32_TO_BE (v);

  g_byte_array_append (o, (const guint8 *) &be, 4);
}

static void
put_u64 (GByteArray *o, uint64_t v)
{
  uint64_t be = GUINT64_TO_BE (v);

  g_byte_array_append (o, (const guint8 *) &be, 8);
}

static void
put_entity (GByteArray *o, const MeroStateEntity *e)
{
  g_byte_array_append (o, e->id, 32);
  g_byte_array_append (o, e->parent_id, 32);
  put_u8 (o, (uint8_t) e->crdt_type);
  put_u64 (o, e->created_at);
  put_u64 (o, e->created_node);
  put_u64 (o, e->updated_at);
  put_u64 (o, e->updated_node);
  put_u64 (o, e->deleted_at);
  put_u64 (o, e->deleted_node);
  put_u64 (o, e->cleared_at);
  put_u64 (o, e->cleared_node);
  put_u32 (o, (uint32_t) e->data_len);
  if (e->data_len > 0)
    g_byte_array_append (o, e->data, (guint) e->data_len);
}

static void
put_answer (GByteArray *out, const SyncHashAnswer *a)
{
  for (; a != NULL; a = a->chain)
    {
      put_u8 (out, (a->has_entity ? 1 : 0) | (a->chain != NULL ? 2 : 0));
      if (a->has_entity)
        put_entity (out, &a->entity.e);
      put_u8 (out, a->form);
      if (a->form == SYNC_HASH_FORM_BUCKETS)
        put_u8 (out, (uint8_t) a->children->len);
      else if (a->form == SYNC_HASH_FORM_ENTITIES)
        put_u32 (out, a->children->len);
      for (guint c = 0; c < a->children->len && a->form != SYNC_HASH_FORM_NONE; c++)
        {
          const SyncHashChild *ch = &g_array_index (a->children, SyncHashChild, c);

          if (a->form == SYNC_HASH_FORM_BUCKETS)
            put_u8 (out, ch->slot);
          else
            g_byte_array_append (out, ch->id, 32);
          g_byte_array_append (out, ch->hash, 32);
        }
    }
}

void
sync_hash_msg_encode (const SyncHashMsg *m, GByteArray *out)
{
  guint start = out->len;
  uint32_t be;

  put_u32 (out, 0);
  put_u8 (out, m->type);
  switch (m->type)
    {
    case SYNC_HASH_MSG_REQUEST:
      put_u32 (out, m->push->len);
      for (guint i = 0; i < m->push->len; i++)
        put_entity (out, &((SyncHashEntity *) m->push->pdata[i])->e);
      put_u32 (out, m->nodes->len);
      for (guint i = 0; i < m->nodes->len; i++)
        {
          const SyncHashNode *n = &g_array_index (m->nodes, SyncHashNode, i);

          g_byte_array_append (out, n->owner, 32);
          put_u8 (out, n->path_len);
          if (n->path_len != SYNC_HASH_PATH_LOGICAL)
            g_byte_array_append (out, n->path, n->path_len);
        }
      break;
    case SYNC_HASH_MSG_REPLY:
      g_byte_array_append (out, m->root, 32);
      put_u32 (out, m->answers->len);
      for (guint i = 0; i < m->answers->len; i++)
        put_answer (out, m->answers->pdata[i]);
      break;
    case SYNC_HASH_MSG_DONE:
      g_byte_array_append (out, m->root, 32);
      break;
    default:
      g_assert_not_reached ();
    }
  be = GUINT32_TO_BE (out->len - start - 4);
  memcpy (out->data + start, &be, 4);
}

/* ---- decoding ---------------------------------------------------------- */

typedef struct {
  const uint8_t *p;
  size_t left;
} Reader;

static gboolean
take (Reader *r, size_t n, const uint8_t **out)
{
  if (r->left < n)
    return FALSE;
  *out = r->p;
  r->p += n;
  r->left -= n;
  return TRUE;
}

static gboolean
get_u8 (Reader *r, uint8_t *v)
{
  const uint8_t *p;

  if (!take (r, 1, &p))
    return FALSE;
  *v = p[0];
  return TRUE;
}

static gboolean
get_u32 (Reader *r, uint32_t *v)
{
  const uint8_t *p;

  if (!take (r, 4, &p))
    return FALSE;
  *v = (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
  return TRUE;
}

static gboolean
get_u64 (Reader *r, uint64_t *v)
{
  uint32_t hi, lo;

  if (!get_u32 (r, &hi) || !get_u32 (r, &lo))
    return FALSE;
  *v = (uint64_t) hi << 32 | lo;
  return TRUE;
}

static gboolean
get_bytes (Reader *r, uint8_t *out, size_t n)
{
  const uint8_t *p;

  if (!take (r, n, &p))
    return FALSE;
  memcpy (out, p, n);
  return TRUE;
}

static gboolean
fail (GError **error, int code, const char *what)
{
  g_set_error (error, MERO_SYNC_ERROR, code, "sync-hash: %s", what);
  return FALSE;
}

static gboolean
get_entity (Reader *r, SyncHashEntity *we, GError **error)
{
  MeroStateEntity e = { .struct_size = sizeof (MeroStateEntity) };
  uint8_t type;
  uint32_t len;
  const uint8_t *data;

  if (!get_bytes (r, e.id, 32) || !get_bytes (r, e.parent_id, 32) || !get_u8 (r, &type)
      || !get_u64 (r, &e.created_at) || !get_u64 (r, &e.created_node)
      || !get_u64 (r, &e.updated_at) || !get_u64 (r, &e.updated_node)
      || !get_u64 (r, &e.deleted_at) || !get_u64 (r, &e.deleted_node)
      || !get_u64 (r, &e.cleared_at) || !get_u64 (r, &e.cleared_node) || !get_u32 (r, &len))
    return fail (error, MERO_SYNC_ERROR_PROTOCOL, "truncated entity");
  if (len > SYNC_HASH_MAX_DATA)
    return fail (error, MERO_SYNC_ERROR_LIMIT, "entity data over SYNC_HASH_MAX_DATA");
  if (!take (r, len, &data))
    return fail (error, MERO_SYNC_ERROR_PROTOCOL, "truncated entity data");
  e.crdt_type = type;
  e.data = data;
  e.data_len = len;
  entity_fill (we, &e, g_bytes_new (data, len));
  return TRUE;
}

static gboolean
decode_request (Reader *r, SyncHashMsg *m, GError **error)
{
  uint32_t n;

  if (!get_u32 (r, &n))
    return fail (error, MERO_SYNC_ERROR_PROTOCOL, "truncated request");
  if (n > SYNC_HASH_MAX_PUSH_PER_MESSAGE)
    return fail (error, MERO_SYNC_ERROR_LIMIT, "pushes over SYNC_HASH_MAX_PUSH_PER_MESSAGE");
  for (uint32_t i = 0; i < n; i++)
    {
      SyncHashEntity *we = g_new0 (SyncHashEntity, 1);

      g_ptr_array_add (m->push, we);
      if (!get_entity (r, we, error))
        return FALSE;
    }
  if (!get_u32 (r, &n))
    return fail (error, MERO_SYNC_ERROR_PROTOCOL, "truncated request");
  if (n > SYNC_HASH_MAX_NODES_PER_REQUEST)
    return fail (error, MERO_SYNC_ERROR_LIMIT, "nodes over SYNC_HASH_MAX_NODES_PER_REQUEST");
  /* 33 bytes at least per node: a count the body cannot hold is refused
   * before the array grows. */
  if ((size_t) n * 33 > r->left)
    return fail (error, MERO_SYNC_ERROR_PROTOCOL, "truncated node list");
  for (uint32_t i = 0; i < n; i++)
    {
      SyncHashNode node = { 0 };

      if (!get_bytes (r, node.owner, 32) || !get_u8 (r, &node.path_len))
        return fail (error, MERO_SYNC_ERROR_PROTOCOL, "truncated node");
      if (node.path_len == SYNC_HASH_PATH_LOGICAL)
        {
          g_array_append_val (m->nodes, node);
          continue;
        }
      if (node.path_len > SYNC_HASH_MAX_PATH)
        return fail (error, MERO_SYNC_ERROR_LIMIT, "node path over SYNC_HASH_MAX_PATH");
      if (!get_bytes (r, node.path, node.path_len))
        return fail (error, MERO_SYNC_ERROR_PROTOCOL, "truncated node path");
      g_array_append_val (m->nodes, node);
    }
  return TRUE;
}

static gboolean
decode_one (Reader *r, SyncHashAnswer *a, gboolean *chained, GError **error)
{
  uint8_t flags, form, n8;
  uint32_t n;

  if (!get_u8 (r, &flags))
    return fail (error, MERO_SYNC_ERROR_PROTOCOL, "truncated answer");
  if ((flags & ~3u) != 0)
    return fail (error, MERO_SYNC_ERROR_PROTOCOL, "unknown answer flags");
  a->has_entity = (flags & 1) != 0;
  *chained = (flags & 2) != 0;
  if (a->has_entity && !get_entity (r, &a->entity, error))
    return FALSE;
  if (!get_u8 (r, &form))
    return fail (error, MERO_SYNC_ERROR_PROTOCOL, "truncated answer");
  a->form = form;
  switch (form)
    {
    case SYNC_HASH_FORM_NONE:
      return TRUE;
    case SYNC_HASH_FORM_BUCKETS:
      if (!get_u8 (r, &n8))
        return fail (error, MERO_SYNC_ERROR_PROTOCOL, "truncated answer");
      n = n8;
      break;
    case SYNC_HASH_FORM_ENTITIES:
      if (!get_u32 (r, &n))
        return fail (error, MERO_SYNC_ERROR_PROTOCOL, "truncated answer");
      if (n > SYNC_HASH_MAX_CHILDREN_PER_NODE)
        return fail (error, MERO_SYNC_ERROR_LIMIT,
                     "children over SYNC_HASH_MAX_CHILDREN_PER_NODE");
      break;
    default:
      return fail (error, MERO_SYNC_ERROR_PROTOCOL, "unknown children form");
    }
  if ((size_t) n * (form == SYNC_HASH_FORM_BUCKETS ? 33 : 64) > r->left)
    return fail (error, MERO_SYNC_ERROR_PROTOCOL, "truncated children");
  for (uint32_t i = 0; i < n; i++)
    {
      SyncHashChild c = { 0 };

      if (form == SYNC_HASH_FORM_BUCKETS)
        get_u8 (r, &c.slot);
      else
        get_bytes (r, c.id, 32);
      get_bytes (r, c.hash, 32);
      g_array_append_val (a->children, c);
    }
  return TRUE;
}

static gboolean
decode_answer (Reader *r, SyncHashAnswer *a, GError **error)
{
  gboolean chained = FALSE;

  for (guint depth = 0;; depth++)
    {
      if (!decode_one (r, a, &chained, error))
        return FALSE;
      if (!chained)
        return TRUE;
      if (depth >= SYNC_HASH_MAX_CHAIN)
        return fail (error, MERO_SYNC_ERROR_LIMIT, "answer chain over SYNC_HASH_MAX_CHAIN");
      a->chain = sync_hash_answer_new ();
      a = a->chain;
    }
}

static gboolean
decode_reply (Reader *r, SyncHashMsg *m, GError **error)
{
  uint32_t n;

  if (!get_bytes (r, m->root, 32) || !get_u32 (r, &n))
    return fail (error, MERO_SYNC_ERROR_PROTOCOL, "truncated reply");
  if (n > SYNC_HASH_MAX_NODES_PER_REQUEST)
    return fail (error, MERO_SYNC_ERROR_LIMIT, "answers over SYNC_HASH_MAX_NODES_PER_REQUEST");
  if ((size_t) n * 2 > r->left)
    return fail (error, MERO_SYNC_ERROR_PROTOCOL, "truncated answers");
  for (uint32_t i = 0; i < n; i++)
    {
      SyncHashAnswer *a = sync_hash_answer_new ();

      g_ptr_array_add (m->answers, a);
      if (!decode_answer (r, a, error))
        return FALSE;
    }
  return TRUE;
}

SyncHashMsg *
sync_hash_msg_decode (const uint8_t *body, size_t len, GError **error)
{
  Reader r = { body, len };
  g_autoptr (SyncHashMsg) m = NULL;
  uint8_t type;
  gboolean ok;

  if (len > SYNC_HASH_MAX_FRAME)
    {
      fail (error, MERO_SYNC_ERROR_LIMIT, "frame over SYNC_HASH_MAX_FRAME");
      return NULL;
    }
  if (!get_u8 (&r, &type))
    {
      fail (error, MERO_SYNC_ERROR_PROTOCOL, "empty frame");
      return NULL;
    }
  m = sync_hash_msg_new (type);
  switch (type)
    {
    case SYNC_HASH_MSG_REQUEST:
      ok = decode_request (&r, m, error);
      break;
    case SYNC_HASH_MSG_REPLY:
      ok = decode_reply (&r, m, error);
      break;
    case SYNC_HASH_MSG_DONE:
      ok = get_bytes (&r, m->root, 32) || fail (error, MERO_SYNC_ERROR_PROTOCOL, "truncated done");
      break;
    default:
      ok = fail (error, MERO_SYNC_ERROR_PROTOCOL, "unknown message type");
      break;
    }
  if (!ok)
    return NULL;
  if (r.left != 0)
    {
      fail (error, MERO_SYNC_ERROR_PROTOCOL, "trailing bytes after message");
      return NULL;
    }
  return g_steal_pointer (&m);
}
