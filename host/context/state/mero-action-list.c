#include <string.h>

#include "context/state/mero-collections.h"

struct _MeroActionList {
  GArray *actions;    /* MeroAction; data points into @keep */
  GPtrArray *keep;    /* GBytes */
};

MeroActionList *
mero_action_list_new (void)
{
  MeroActionList *l = g_new0 (MeroActionList, 1);

  l->actions = g_array_new (FALSE, TRUE, sizeof (MeroAction));
  l->keep = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  return l;
}

void
mero_action_list_free (MeroActionList *list)
{
  if (list == NULL)
    return;
  g_array_unref (list->actions);
  g_ptr_array_unref (list->keep);
  g_free (list);
}

void
mero_action_list_add (MeroActionList *list, MeroActionKind kind,
                      const guint8 id[MERO_ENTITY_ID_LEN], const guint8 parent[MERO_ENTITY_ID_LEN],
                      MeroCrdtType type, const guint8 *data, gsize len)
{
  MeroAction a = { 0 };
  GBytes *copy = g_bytes_new (data, len);

  a.kind = kind;
  memcpy (a.id, id, MERO_ENTITY_ID_LEN);
  if (parent != NULL)
    memcpy (a.parent, parent, MERO_ENTITY_ID_LEN);
  a.crdt_type = type;
  a.data = g_bytes_get_data (copy, &a.data_len);
  g_ptr_array_add (list->keep, copy);
  g_array_append_val (list->actions, a);
}

guint
mero_action_list_len (MeroActionList *list)
{
  return list->actions->len;
}

const MeroAction *
mero_action_list_actions (MeroActionList *list)
{
  return (const MeroAction *) (void *) list->actions->data;
}

void
mero_collection_create (MeroActionList *list, const guint8 parent[MERO_ENTITY_ID_LEN],
                        const guint8 id[MERO_ENTITY_ID_LEN], MeroCrdtType type,
                        const guint8 *data, gsize len)
{
  mero_action_list_add (list, MERO_ACTION_ADD, id, parent, type, data, len);
}

void
mero_lww_set (MeroActionList *list, const guint8 reg[MERO_ENTITY_ID_LEN], const guint8 *value,
              gsize len)
{
  mero_action_list_add (list, MERO_ACTION_UPDATE, reg, NULL, MERO_CRDT_LWW, value, len);
}

gboolean
mero_lww_get (MeroState *state, const guint8 reg[MERO_ENTITY_ID_LEN], GBytes **value,
              GError **error)
{
  g_autoptr (MeroEntity) e = NULL;
  gboolean live = FALSE;

  *value = NULL;
  if (!mero_state_entity_is_live (state, reg, &live, error))
    return FALSE;
  if (!live)
    return TRUE;
  if (!mero_state_get_entity (state, reg, &e, error))
    return FALSE;
  *value = g_bytes_ref (e->data);
  return TRUE;
}
