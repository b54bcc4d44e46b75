#include "context/delta/mero-delta-body.h"

#include <string.h>

#include "context/delta/mero-delta-error.h"
#include "mero-delta.pb-c.h"

struct _MeroDeltaBody {
  Mero__Delta__V1__DeltaBody *pb;   /* owns the bytes actions point into */
  MeroHlc hlc;
  GArray *actions;                  /* MeroAction */
};

typedef struct {
  Mero__Delta__V1__Action action;
  Mero__Delta__V1__ActionAdd add;
  Mero__Delta__V1__ActionUpdate update;
  Mero__Delta__V1__ActionDeleteRef del;
  Mero__Delta__V1__ActionClear clear;
} ActionStorage;

static ProtobufCBinaryData
bin (const guint8 *data, gsize len)
{
  ProtobufCBinaryData b = { len, (guint8 *) data };
  return b;
}

GBytes *
mero_delta_body_encode (const guint8 *parents, guint n_parents, const MeroHlc *hlc,
                        const MeroAction *actions, guint n_actions, GError **error)
{
  Mero__Delta__V1__DeltaBody pb = MERO__DELTA__V1__DELTA_BODY__INIT;
  g_autofree ProtobufCBinaryData *pbin = g_new0 (ProtobufCBinaryData, MAX (n_parents, 1));
  g_autofree ActionStorage *store = g_new0 (ActionStorage, MAX (n_actions, 1));
  g_autofree Mero__Delta__V1__Action **ptrs = g_new0 (Mero__Delta__V1__Action *,
                                                       MAX (n_actions, 1));
  guint8 hlc_bytes[MERO_HLC_ENCODED_LEN];
  gsize size;
  guint8 *buf;

  if (n_parents > MERO_DELTA_MAX_PARENTS || n_actions > MERO_DELTA_MAX_ACTIONS)
    {
      g_set_error (error, MERO_DELTA_ERROR, MERO_DELTA_ERROR_TOO_LARGE,
                   "%u parents / %u actions exceed %d / %d", n_parents, n_actions,
                   MERO_DELTA_MAX_PARENTS, MERO_DELTA_MAX_ACTIONS);
      return NULL;
    }
  for (guint i = 0; i < n_parents; i++)
    pbin[i] = bin (parents + (gsize) i * MERO_DELTA_ID_LEN, MERO_DELTA_ID_LEN);
  mero_hlc_encode (hlc, hlc_bytes);
  for (guint i = 0; i < n_actions; i++)
    {
      const MeroAction *a = &actions[i];
      ActionStorage *s = &store[i];

      mero__delta__v1__action__init (&s->action);
      switch (a->kind)
        {
        case MERO_ACTION_ADD:
          mero__delta__v1__action_add__init (&s->add);
          s->add.id = bin (a->id, MERO_ENTITY_ID_LEN);
          s->add.parent_id = bin (a->parent, MERO_ENTITY_ID_LEN);
          s->add.crdt_type = a->crdt_type;
          s->add.data = bin (a->data, a->data_len);
          s->action.kind_case = MERO__DELTA__V1__ACTION__KIND_ADD;
          s->action.add = &s->add;
          break;
        case MERO_ACTION_UPDATE:
          mero__delta__v1__action_update__init (&s->update);
          s->update.id = bin (a->id, MERO_ENTITY_ID_LEN);
          s->update.data = bin (a->data, a->data_len);
          s->action.kind_case = MERO__DELTA__V1__ACTION__KIND_UPDATE;
          s->action.update = &s->update;
          break;
        case MERO_ACTION_CLEAR:
          mero__delta__v1__action_clear__init (&s->clear);
          s->clear.id = bin (a->id, MERO_ENTITY_ID_LEN);
          s->action.kind_case = MERO__DELTA__V1__ACTION__KIND_CLEAR;
          s->action.clear = &s->clear;
          break;
        case MERO_ACTION_DELETE_REF:
        default:
          g_return_val_if_fail (a->kind == MERO_ACTION_DELETE_REF, NULL);
          mero__delta__v1__action_delete_ref__init (&s->del);
          s->del.id = bin (a->id, MERO_ENTITY_ID_LEN);
          s->action.kind_case = MERO__DELTA__V1__ACTION__KIND_DELETE_REF;
          s->action.delete_ref = &s->del;
          break;
        }
      ptrs[i] = &s->action;
    }
  pb.n_parents = n_parents;
  pb.parents = pbin;
  pb.hlc = bin (hlc_bytes, sizeof hlc_bytes);
  pb.n_actions = n_actions;
  pb.actions = ptrs;
  size = mero__delta__v1__delta_body__get_packed_size (&pb);
  if (size > MERO_DELTA_MAX_BODY)
    {
      g_set_error (error, MERO_DELTA_ERROR, MERO_DELTA_ERROR_TOO_LARGE,
                   "delta body of %" G_GSIZE_FORMAT " bytes exceeds %d", size,
                   MERO_DELTA_MAX_BODY);
      return NULL;
    }
  buf = g_malloc (MAX (size, 1));
  mero__delta__v1__delta_body__pack (&pb, buf);
  return g_bytes_new_take (buf, size);
}

static gboolean
fail (GError **error, int code, const char *what)
{
  g_set_error (error, MERO_DELTA_ERROR, code, "delta body: %s", what);
  return FALSE;
}

static MeroDeltaBody *
fail_null (GError **error, int code, const char *what)
{
  fail (error, code, what);
  return NULL;
}

static gboolean
id_ok (const ProtobufCBinaryData *b)
{
  return b->len == MERO_ENTITY_ID_LEN;
}

static gboolean
convert_action (const Mero__Delta__V1__Action *pa, MeroAction *a, GError **error)
{
  memset (a, 0, sizeof *a);
  switch (pa->kind_case)
    {
    case MERO__DELTA__V1__ACTION__KIND_ADD:
      if (!id_ok (&pa->add->id) || !id_ok (&pa->add->parent_id))
        return fail (error, MERO_DELTA_ERROR_MALFORMED, "Add id or parent is not 32 bytes");
      if (pa->add->crdt_type > G_MAXUINT8)
        return fail (error, MERO_DELTA_ERROR_MALFORMED, "crdt type out of range");
      a->kind = MERO_ACTION_ADD;
      memcpy (a->id, pa->add->id.data, MERO_ENTITY_ID_LEN);
      memcpy (a->parent, pa->add->parent_id.data, MERO_ENTITY_ID_LEN);
      a->crdt_type = (guint8) pa->add->crdt_type;
      a->data = pa->add->data.data;
      a->data_len = pa->add->data.len;
      return TRUE;
    case MERO__DELTA__V1__ACTION__KIND_UPDATE:
      if (!id_ok (&pa->update->id))
        return fail (error, MERO_DELTA_ERROR_MALFORMED, "Update id is not 32 bytes");
      a->kind = MERO_ACTION_UPDATE;
      memcpy (a->id, pa->update->id.data, MERO_ENTITY_ID_LEN);
      a->data = pa->update->data.data;
      a->data_len = pa->update->data.len;
      return TRUE;
    case MERO__DELTA__V1__ACTION__KIND_DELETE_REF:
      if (!id_ok (&pa->delete_ref->id))
        return fail (error, MERO_DELTA_ERROR_MALFORMED, "DeleteRef id is not 32 bytes");
      a->kind = MERO_ACTION_DELETE_REF;
      memcpy (a->id, pa->delete_ref->id.data, MERO_ENTITY_ID_LEN);
      return TRUE;
    case MERO__DELTA__V1__ACTION__KIND_CLEAR:
      if (!id_ok (&pa->clear->id))
        return fail (error, MERO_DELTA_ERROR_MALFORMED, "Clear id is not 32 bytes");
      a->kind = MERO_ACTION_CLEAR;
      memcpy (a->id, pa->clear->id.data, MERO_ENTITY_ID_LEN);
      return TRUE;
    default:
      return fail (error, MERO_DELTA_ERROR_MALFORMED, "action without a kind");
    }
}

MeroDeltaBody *
mero_delta_body_decode (const guint8 *bytes, gsize len, GError **error)
{
  g_autoptr (MeroDeltaBody) body = NULL;

  if (len > MERO_DELTA_MAX_BODY)
    {
      g_set_error (error, MERO_DELTA_ERROR, MERO_DELTA_ERROR_TOO_LARGE,
                   "delta body of %" G_GSIZE_FORMAT " bytes exceeds %d", len,
                   MERO_DELTA_MAX_BODY);
      return NULL;
    }
  body = g_new0 (MeroDeltaBody, 1);
  body->actions = g_array_new (FALSE, FALSE, sizeof (MeroAction));
  body->pb = mero__delta__v1__delta_body__unpack (NULL, len, bytes);
  if (body->pb == NULL)
    return fail_null (error, MERO_DELTA_ERROR_MALFORMED, "not a DeltaBody");
  if (body->pb->n_parents > MERO_DELTA_MAX_PARENTS || body->pb->n_actions > MERO_DELTA_MAX_ACTIONS)
    {
      g_set_error (error, MERO_DELTA_ERROR, MERO_DELTA_ERROR_TOO_LARGE,
                   "delta cites %zu parents and has %zu actions; at most %d and %d",
                   body->pb->n_parents, body->pb->n_actions, MERO_DELTA_MAX_PARENTS,
                   MERO_DELTA_MAX_ACTIONS);
      return NULL;
    }
  if (body->pb->hlc.len != MERO_HLC_ENCODED_LEN)
    return fail_null (error, MERO_DELTA_ERROR_MALFORMED, "hlc is not 16 bytes");
  body->hlc = mero_hlc_decode (body->pb->hlc.data);
  for (gsize i = 0; i < body->pb->n_parents; i++)
    {
      if (!id_ok (&body->pb->parents[i]))
        return fail_null (error, MERO_DELTA_ERROR_MALFORMED, "parent is not 32 bytes");
      /* n_parents <= 64: the quadratic check is cheaper than a table. */
      for (gsize j = 0; j < i; j++)
        if (memcmp (body->pb->parents[i].data, body->pb->parents[j].data,
                    MERO_DELTA_ID_LEN) == 0)
          return fail_null (error, MERO_DELTA_ERROR_MALFORMED, "duplicate parent");
    }
  g_array_set_size (body->actions, body->pb->n_actions);
  for (gsize i = 0; i < body->pb->n_actions; i++)
    if (!convert_action (body->pb->actions[i], &g_array_index (body->actions, MeroAction, i),
                         error))
      return NULL;
  return g_steal_pointer (&body);
}

void
mero_delta_body_free (MeroDeltaBody *body)
{
  if (body == NULL)
    return;
  if (body->pb != NULL)
    mero__delta__v1__delta_body__free_unpacked (body->pb, NULL);
  g_array_unref (body->actions);
  g_free (body);
}

guint
mero_delta_body_n_parents (const MeroDeltaBody *body)
{
  return (guint) body->pb->n_parents;
}

const guint8 *
mero_delta_body_parent (const MeroDeltaBody *body, guint i)
{
  return body->pb->parents[i].data;
}

const MeroHlc *
mero_delta_body_hlc (const MeroDeltaBody *body)
{
  return &body->hlc;
}

guint
mero_delta_body_n_actions (const MeroDeltaBody *body)
{
  return body->actions->len;
}

const MeroAction *
mero_delta_body_action (const MeroDeltaBody *body, guint i)
{
  return &g_array_index (body->actions, MeroAction, i);
}
