/* mero-contexts-tee.c: the TEE admission policy of a context's group:
 * parsing what an operator gives, authoring the signed op, and showing
 * the policy in GetContextInfo. */
#include "node/mero-contexts-tee.h"

#include <string.h>

#include <glib/gi18n.h>

#include <sodium.h>

#include "net/mero-base58.h"
#include "node/mero-contexts-private.h"
#include "tee/mero-tee-admission.h"
#include "tee/mero-tee-quote.h"
#include "tee/mero-tee-refusal.h"

static gboolean
parse_measurement (const char *hex, guint8 out[MERO_GROUP_TEE_MEASUREMENT_LEN], const char *what,
                   GError **error)
{
  if (hex == NULL || strlen (hex) != 2 * MERO_GROUP_TEE_MEASUREMENT_LEN)
    goto bad;
  for (guint i = 0; i < MERO_GROUP_TEE_MEASUREMENT_LEN; i++)
    {
      int hi = g_ascii_xdigit_value (hex[2 * i]), lo = g_ascii_xdigit_value (hex[2 * i + 1]);
      if (hi < 0 || lo < 0)
        goto bad;
      out[i] = (guint8) (hi << 4 | lo);
    }
  return TRUE;
bad:
  g_set_error (error, MERO_CONTEXTS_ERROR, MERO_CONTEXTS_ERROR_INVALID_ARGUMENT,
               _("%s must be %d hex digits: “%s”"), what, 2 * MERO_GROUP_TEE_MEASUREMENT_LEN,
               hex != NULL ? hex : "");
  return FALSE;
}

static gboolean
parse_status (const char *name, guint32 *mask, GError **error)
{
  for (guint32 s = 0; s < 32; s++)
    if ((MERO_GROUP_TEE_TCB_ALL_REAL & (1u << s)) != 0 && s != MERO_TEE_TCB_UNKNOWN
        && g_strcmp0 (mero_tee_tcb_status_to_string (s), name) == 0)
      {
        *mask |= 1u << s;
        return TRUE;
      }
  g_set_error (error, MERO_CONTEXTS_ERROR, MERO_CONTEXTS_ERROR_INVALID_ARGUMENT,
               _("Unknown TCB status “%s”"), name);
  return FALSE;
}

gboolean
mero_contexts_set_tee_policy (MeroContexts *self, const char *context_id, const char *const *mrtds,
                              const char *const *tcb_statuses, const char *const *rtmrs,
                              gboolean accept_mock, GError **error)
{
  Ctx *ctx = mero_contexts_lookup_text (self, context_id, error);
  g_autoptr (MeroGroupOp) op = mero_group_op_new (MERO_GROUP_OP_SET_TEE_POLICY);
  MeroGroupTeePolicy *p = op->tee_policy;
  guint n_rtmrs = rtmrs != NULL ? g_strv_length ((char **) rtmrs) : 0;

  if (ctx == NULL)
    return FALSE;
  if (mrtds != NULL && g_strv_length ((char **) mrtds) > MERO_GROUP_TEE_POLICY_MAX_MRTDS)
    {
      g_set_error (error, MERO_CONTEXTS_ERROR, MERO_CONTEXTS_ERROR_INVALID_ARGUMENT,
                   _("A TEE policy allows at most %d MRTDs"), MERO_GROUP_TEE_POLICY_MAX_MRTDS);
      return FALSE;
    }
  for (guint i = 0; mrtds != NULL && mrtds[i] != NULL; i++)
    if (!parse_measurement (mrtds[i], p->mrtds[p->n_mrtds++], "MRTD", error))
      return FALSE;
  for (guint i = 0; tcb_statuses != NULL && tcb_statuses[i] != NULL; i++)
    if (!parse_status (tcb_statuses[i], &p->tcb_statuses, error))
      return FALSE;
  if (n_rtmrs != 0 && n_rtmrs != MERO_GROUP_TEE_RTMRS)
    {
      g_set_error (error, MERO_CONTEXTS_ERROR, MERO_CONTEXTS_ERROR_INVALID_ARGUMENT,
                   _("Give no RTMRs or exactly four (empty for unchecked)"));
      return FALSE;
    }
  for (guint r = 0; r < n_rtmrs; r++)
    if (rtmrs[r][0] != '\0')
      {
        if (!parse_measurement (rtmrs[r], p->rtmrs[r], "RTMR", error))
          return FALSE;
        p->rtmr_mask |= (guint8) (1u << r);
      }
  p->accept_mock = accept_mock;
  if (!mero_contexts_author (self, ctx->group, op, error))
    {
      g_prefix_error (error, _("Cannot set the TEE policy: "));
      return FALSE;
    }
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MERO_EVENT", "tee-policy-set", "MERO_GROUP",
                    ctx->group->hex, "MESSAGE",
                    "group %s: TEE admission policy set (%u MRTDs, accept_mock=%s)",
                    ctx->group->hex, p->n_mrtds, accept_mock ? "true" : "false");
  return TRUE;
}

static char *
hex_of (const guint8 *data, gsize len)
{
  char *out = g_malloc (2 * len + 1);

  for (gsize i = 0; i < len; i++)
    g_snprintf (out + 2 * i, 3, "%02x", data[i]);
  return out;
}

GVariant *
mero_contexts_tee_policy_variant (const MeroGroupTeePolicy *p)
{
  GVariantBuilder b, mrtds, statuses, rtmrs;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_init (&mrtds, G_VARIANT_TYPE_STRING_ARRAY);
  g_variant_builder_init (&statuses, G_VARIANT_TYPE_STRING_ARRAY);
  g_variant_builder_init (&rtmrs, G_VARIANT_TYPE_STRING_ARRAY);
  for (guint i = 0; i < p->n_mrtds; i++)
    g_variant_builder_add_value (&mrtds, g_variant_new_take_string (
                                           hex_of (p->mrtds[i], MERO_GROUP_TEE_MEASUREMENT_LEN)));
  for (guint32 s = 0; s < 32; s++)
    if ((p->tcb_statuses & (1u << s)) != 0)
      g_variant_builder_add (&statuses, "s", mero_tee_tcb_status_to_string (s));
  for (guint r = 0; p->rtmr_mask != 0 && r < MERO_GROUP_TEE_RTMRS; r++)
    g_variant_builder_add_value (&rtmrs, (p->rtmr_mask & (1u << r)) != 0
                                           ? g_variant_new_take_string (hex_of (
                                               p->rtmrs[r], MERO_GROUP_TEE_MEASUREMENT_LEN))
                                           : g_variant_new_string (""));
  g_variant_builder_add (&b, "{sv}", "mrtds", g_variant_builder_end (&mrtds));
  g_variant_builder_add (&b, "{sv}", "tcb_statuses", g_variant_builder_end (&statuses));
  g_variant_builder_add (&b, "{sv}", "rtmrs", g_variant_builder_end (&rtmrs));
  g_variant_builder_add (&b, "{sv}", "accept_mock", g_variant_new_boolean (p->accept_mock));
  return g_variant_builder_end (&b);
}

/* ---- admission: the joining node's announces, the admins' answers ---- */

#define ADMISSIONS_METRIC "mero_tee_admissions_total"

#define REFUSALS_METRIC "mero_tee_refusals_total"

/* One per group this node asked into (the last fleet-join for it); kept
 * after the announces stop so TeeInfo shows how it ended. */
typedef struct {
  MeroContexts *self;        /* borrowed: announcers go before the manager */
  guint8 group_id[ID_LEN];
  char *context_id;
  MeroBroadcast *msg;        /* the signed announce, published as is */
  guint8 quote_hash[MERO_GROUP_TEE_QUOTE_HASH_LEN];
  GSource *timer;            /* NULL once stopped */
  guint attempt;
  gint64 started_ms;
  gboolean gave_up;
  /* the last refusal an admin sent back, NULL/0 before any */
  MeroGroupTeeAdmitResult refused;
  char *refusal_message;
  char *refused_by;          /* the admin's peer id */
} TeeAnnouncer;

static void
announcer_stop (TeeAnnouncer *a)
{
  if (a->timer != NULL)
    {
      g_source_destroy (a->timer);
      g_source_unref (a->timer);
      a->timer = NULL;
    }
}

static void
announcer_free (gpointer data)
{
  TeeAnnouncer *a = data;

  announcer_stop (a);
  mero_broadcast_free (a->msg);
  g_free (a->context_id);
  g_free (a->refusal_message);
  g_free (a->refused_by);
  g_free (a);
}

static TeeAnnouncer *
announcer_of (MeroContexts *self, const guint8 group_id[ID_LEN])
{
  for (guint i = 0; i < self->tee_announcers->len; i++)
    {
      TeeAnnouncer *a = g_ptr_array_index (self->tee_announcers, i);
      if (memcmp (a->group_id, group_id, ID_LEN) == 0)
        return a;
    }
  return NULL;
}

static void
count_refusal (MeroContexts *self, const char *event, MeroGroupTeeAdmitResult reason)
{
  g_autofree char *labels = g_strdup_printf ("event=\"%s\",reason=\"%s\"", event,
                                             mero_group_tee_admit_reason (reason));

  mero_metrics_counter_add (self->metrics, REFUSALS_METRIC, labels, 1, NULL);
}

GPtrArray *
mero_contexts_tee_announcers_new (void)
{
  return g_ptr_array_new_with_free_func (announcer_free);
}

static void
count_admission (MeroContexts *self, const char *result)
{
  g_autofree char *labels = g_strdup_printf ("result=\"%s\"", result);

  mero_metrics_counter_add (self->metrics, ADMISSIONS_METRIC, labels, 1, NULL);
}

static gboolean announce_tick (gpointer data);

static void
announcer_arm (TeeAnnouncer *a, guint delay_ms)
{
  announcer_stop (a);
  a->timer = g_timeout_source_new (delay_ms);
  g_source_set_callback (a->timer, announce_tick, a, NULL);
  g_source_attach (a->timer, NULL);
}

static gboolean
announce_tick (gpointer data)
{
  TeeAnnouncer *a = data;
  MeroContexts *self = a->self;
  Group *group = mero_contexts_group_lookup (self, a->group_id);
  gint64 delay;

  if (group != NULL
      && mero_group_state_member (mero_group_dag_state (group->dag), self->pk) != NULL)
    {
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "MERO_EVENT", "tee-admitted",
                        "MERO_GROUP", group->hex, "MESSAGE",
                        "group %s: admitted as a read-only member on our attestation",
                        group->hex);
      announcer_stop (a);
      return G_SOURCE_REMOVE;
    }
  delay = mero_tee_announce_next_delay_ms (++a->attempt,
                                           (guint64) (mero_contexts_now_ms () - a->started_ms));
  if (group == NULL || delay < 0)
    {
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MERO_EVENT", "tee-announce-gave-up",
                        "MESSAGE", "no admin admitted this node after %u announces; giving up",
                        a->attempt);
      count_admission (self, "gave_up");
      a->gave_up = TRUE;
      announcer_stop (a);
      return G_SOURCE_REMOVE;
    }
  mero_contexts_publish (self, group->topic, a->msg);
  announcer_arm (a, (guint) delay);
  return G_SOURCE_REMOVE;
}

static GBytes *
own_quote (MeroContexts *self, const guint8 report_data[64], GError **error)
{
  if (mero_tee_quote_tsm_available (NULL))
    return mero_tee_quote_tsm (NULL, report_data, error);
  if (self->tee_accept_mock)
    {
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MERO_EVENT", "tee-mock-quote",
                        "MESSAGE", "no configfs-tsm here: announcing a MOCK quote "
                                   "(tee.accept_mock=true)");
      return mero_tee_quote_mock (report_data);
    }
  return mero_tee_quote_tsm (NULL, report_data, error);
}

gboolean
mero_contexts_tee_fleet_join (MeroContexts *self, const char *context_id, const char *group_hex,
                              const char *application, const char *address, GBytes *quote,
                              GError **error)
{
  g_autoptr (GBytes) ctx_bytes = mero_base58_decode (context_id);
  g_autoptr (MeroTeeAnnounce) announce = mero_tee_announce_new ();
  guint8 group_id[ID_LEN], report_data[64];
  const char *p2p = address != NULL ? g_strrstr (address, "/p2p/") : NULL;
  g_autofree char *peer = p2p != NULL ? g_strdup (p2p + strlen ("/p2p/")) : NULL;
  const char *addresses[] = { address, NULL };
  TeeAnnouncer *a;
  Group *group;

  if (ctx_bytes == NULL || g_bytes_get_size (ctx_bytes) != ID_LEN || group_hex == NULL
      || strlen (group_hex) != 2 * ID_LEN || peer == NULL || peer[0] == '\0')
    {
      g_set_error (error, MERO_CONTEXTS_ERROR, MERO_CONTEXTS_ERROR_INVALID_ARGUMENT,
                   _("Give a context id, a group id (hex) and a member's address ending in "
                     "/p2p/PEERID"));
      return FALSE;
    }
  for (guint i = 0; i < ID_LEN; i++)
    {
      int hi = g_ascii_xdigit_value (group_hex[2 * i]), lo = g_ascii_xdigit_value (group_hex[2 * i + 1]);
      if (hi < 0 || lo < 0)
        {
          g_set_error (error, MERO_CONTEXTS_ERROR, MERO_CONTEXTS_ERROR_INVALID_ARGUMENT,
                       _("“%s” is not a group id"), group_hex);
          return FALSE;
        }
      group_id[i] = (guint8) (hi << 4 | lo);
    }
  /* The quote first: a node that cannot attest changes nothing. */
  if (quote != NULL)
    {
      /* Made elsewhere (the TD's own attestation agent): its report data
       * must already be nonce || sha256(our key); the nonce is its own. */
      guint8 ours[64];

      if (!mero_tee_quote_report_data (quote, report_data, error))
        return FALSE;
      memcpy (announce->nonce, report_data, sizeof announce->nonce);
      mero_group_tee_report_data (announce->nonce, self->pk, ours);
      if (memcmp (ours, report_data, sizeof ours) != 0)
        /* Announced all the same: the admins judge, and the refusal
         * (key_binding) comes back with its reason like any other. */
        g_warning ("the given quote's report data is not bound to this node's member key; "
                   "admins will refuse it");
      g_bytes_unref (announce->quote);
      announce->quote = g_bytes_ref (quote);
    }
  else
    {
      randombytes_buf (announce->nonce, sizeof announce->nonce);
      mero_group_tee_report_data (announce->nonce, self->pk, report_data);
      g_bytes_unref (announce->quote);
      announce->quote = own_quote (self, report_data, error);
      if (announce->quote == NULL)
        return FALSE;
    }
  group = mero_contexts_group_ensure (self, group_id, error);
  if (group == NULL
      || (mero_contexts_lookup_id (self, g_bytes_get_data (ctx_bytes, NULL)) == NULL
          && mero_contexts_ctx_add (self, g_bytes_get_data (ctx_bytes, NULL), group, application,
                                    error) == NULL))
    return FALSE;
  memcpy (announce->group_id, group_id, ID_LEN);
  announce->timestamp_ms = (guint64) g_get_real_time () / 1000;
  mero_tee_announce_sign (announce, self->sk);
  if (self->remember_peer != NULL)
    self->remember_peer (self->peer_store_data, peer, addresses);
  /* The group's history from the member (it is served to a joiner), so
   * the admission op applies here when it comes. */
  mero_contexts_fetch_group (self, group, peer, addresses, NULL, NULL, NULL);

  a = announcer_of (self, group_id);
  if (a != NULL)
    g_ptr_array_remove (self->tee_announcers, a);
  a = g_new0 (TeeAnnouncer, 1);
  a->self = self;
  memcpy (a->group_id, group_id, ID_LEN);
  a->context_id = g_strdup (context_id);
  a->msg = mero_broadcast_new (MERO_BROADCAST_TEE_ANNOUNCE);
  a->msg->payload = mero_tee_announce_encode (announce);
  mero_tee_quote_hash (announce->quote, a->quote_hash);
  a->started_ms = mero_contexts_now_ms ();
  g_ptr_array_add (self->tee_announcers, a);
  mero_contexts_publish (self, group->topic, a->msg);
  announcer_arm (a, MERO_TEE_ANNOUNCE_FIRST_RETRY_MS);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MERO_EVENT", "tee-announced", "MERO_GROUP",
                    group->hex, "MESSAGE", "group %s: announced our attestation through %s",
                    group->hex, peer);
  return TRUE;
}

/* The refusal goes back on the topic the announce came by, signed by
 * this admin, at most once per (member, quote, reason) per interval. */
static void
send_refusal (MeroContexts *self, Group *group, const MeroTeeAnnounce *announce,
              MeroGroupTeeAdmitResult reason, const char *why)
{
  g_autoptr (MeroTeeRefusal) refusal = mero_tee_refusal_new ();
  g_autoptr (MeroBroadcast) msg = NULL;

  memcpy (refusal->group_id, announce->group_id, ID_LEN);
  memcpy (refusal->member, announce->member, ID_LEN);
  mero_tee_quote_hash (announce->quote, refusal->quote_hash);
  if (!mero_tee_refusal_limiter_allow (self->tee_refusal_limiter, refusal->member,
                                       refusal->quote_hash, reason, mero_contexts_now_ms ()))
    {
      count_refusal (self, "rate_limited", reason);
      return;
    }
  refusal->reason = reason;
  g_free (refusal->message);
  refusal->message = g_strdup (why != NULL ? why : "");
  refusal->timestamp_ms = (guint64) g_get_real_time () / 1000;
  mero_tee_refusal_sign (refusal, self->sk);
  msg = mero_broadcast_new (MERO_BROADCAST_TEE_REFUSAL);
  msg->payload = mero_tee_refusal_encode (refusal);
  mero_contexts_publish (self, group->topic, msg);
  count_refusal (self, "sent", reason);
}

void
mero_contexts_tee_on_refusal (MeroContexts *self, const char *topic, const char *from_peer,
                              GBytes *payload)
{
  g_autoptr (MeroTeeRefusal) refusal = NULL;
  g_autofree char *admin_peer = NULL;
  const MeroGroupMember *admin;
  const MeroGroupState *state;
  TeeAnnouncer *a;
  Group *group;
  gboolean definitive;

  refusal = mero_tee_refusal_decode (g_bytes_get_data (payload, NULL),
                                     g_bytes_get_size (payload), NULL);
  if (refusal == NULL)
    {
      mero_contexts_count_drop (self, "tee_refusal_malformed");
      return;
    }
  group = mero_contexts_group_lookup (self, refusal->group_id);
  if (group == NULL)
    {
      mero_contexts_count_drop (self, "unknown_group");
      return;
    }
  if (g_strcmp0 (topic, group->topic) != 0)
    {
      mero_contexts_count_drop (self, "wrong_topic");
      return;
    }
  if (memcmp (refusal->member, self->pk, ID_LEN) != 0)
    return;   /* for another announcing node */
  if (!mero_tee_refusal_verify (refusal))
    {
      mero_contexts_count_drop (self, "tee_refusal_forged");
      return;
    }
  state = mero_group_dag_state (group->dag);
  admin = mero_group_state_member (state, refusal->admin);
  if (admin == NULL || admin->role != MERO_GROUP_ROLE_ADMIN)
    {
      mero_contexts_count_drop (self, "tee_refusal_not_admin");
      return;
    }
  a = announcer_of (self, refusal->group_id);
  if (a == NULL || memcmp (a->quote_hash, refusal->quote_hash, sizeof a->quote_hash) != 0
      || mero_group_state_member (state, self->pk) != NULL)
    {
      mero_contexts_count_drop (self, "tee_refusal_stale");
      return;
    }
  admin_peer = mero_contexts_peer_of_key (refusal->admin);
  definitive = mero_tee_refusal_is_definitive (refusal->reason);
  count_refusal (self, "received", refusal->reason);
  a->refused = refusal->reason;
  g_free (a->refusal_message);
  a->refusal_message = g_strdup (refusal->message);
  g_free (a->refused_by);
  a->refused_by = g_strdup (admin_peer);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MERO_EVENT", "tee-refused",
                    "MERO_GROUP", group->hex, "MERO_PEER", admin_peer, "MESSAGE",
                    "group %s: admin %s (via %s) refused our attestation: %s: %s%s", group->hex,
                    admin_peer, from_peer != NULL ? from_peer : "?",
                    mero_group_tee_admit_reason (refusal->reason), refusal->message,
                    definitive ? "; not announcing it again" : "; announcing again");
  if (definitive)
    announcer_stop (a);
}

void
mero_contexts_tee_on_announce (MeroContexts *self, const char *topic, const char *from_peer,
                               GBytes *payload)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) verify_error = NULL;
  g_autoptr (MeroTeeAnnounce) announce = NULL;
  g_autoptr (MeroGroupOp) op = NULL;
  g_autofree char *why = NULL;
  g_autofree char *member = NULL;
  MeroTeeVerdict verdict = { 0 };
  MeroGroupTeeAdmitResult result;
  const MeroGroupMember *me;
  guint8 key_id[ID_LEN], key[ID_LEN];
  Group *group;

  announce = mero_tee_announce_decode (g_bytes_get_data (payload, NULL),
                                       g_bytes_get_size (payload), &error);
  if (announce == NULL)
    {
      mero_contexts_count_drop (self, "tee_announce_malformed");
      return;
    }
  group = mero_contexts_group_lookup (self, announce->group_id);
  if (group == NULL)
    {
      mero_contexts_count_drop (self, "unknown_group");
      return;
    }
  if (g_strcmp0 (topic, group->topic) != 0)
    {
      mero_contexts_count_drop (self, "wrong_topic");
      return;
    }
  /* Only admins judge; every admin may (the first admission wins, the
   * others' ops are refused as QUOTE_REUSED / ALREADY_MEMBER). */
  me = mero_group_state_member (mero_group_dag_state (group->dag), self->pk);
  if (me == NULL || me->role != MERO_GROUP_ROLE_ADMIN)
    return;
  member = mero_contexts_peer_of_key (announce->member);
  if (mero_group_state_member (mero_group_dag_state (group->dag), announce->member) != NULL)
    return;   /* re-announces until the node sees its admission */
  verdict.struct_size = sizeof verdict;
  if (self->tee_verify == NULL)
    g_set_error (&verify_error, MERO_CONTEXTS_ERROR, MERO_CONTEXTS_ERROR_NOT_ALLOWED,
                 "this node has no TEE verifier");
  else
    (void) self->tee_verify (self->tee_verify_data, announce->quote, &verdict, &verify_error);
  result = mero_tee_admission_judge (mero_group_dag_state (group->dag), announce,
                                     verify_error == NULL ? &verdict : NULL, verify_error, &why);
  count_admission (self, mero_group_tee_admit_reason (result));
  if (result != MERO_GROUP_TEE_ADMIT_OK)
    {
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MERO_EVENT", "tee-admission-refused",
                        "MERO_GROUP", group->hex, "MERO_PEER", member, "MESSAGE",
                        "group %s: attestation of %s (via %s) refused: %s: %s", group->hex,
                        member, from_peer != NULL ? from_peer : "?",
                        mero_group_tee_admit_reason (result), why);
      /* Not for an announce its member did not sign (anyone could make
       * us refuse "for" a node then), nor for a member. */
      if (result != MERO_GROUP_TEE_ADMIT_BAD_ANNOUNCE
          && result != MERO_GROUP_TEE_ADMIT_ALREADY_MEMBER)
        send_refusal (self, group, announce, result, why);
      return;
    }
  if (!mero_group_dag_current_key (group->dag, key_id, key))
    {
      g_warning ("group %s: cannot admit %s: this node does not hold the group key", group->hex,
                 member);
      return;
    }
  op = mero_tee_admission_build_op (mero_group_dag_state (group->dag), announce, key, &error);
  sodium_memzero (key, sizeof key);
  if (op == NULL || !mero_contexts_author (self, group, op, &error))
    {
      g_warning ("group %s: cannot admit %s: %s", group->hex, member, error->message);
      return;
    }
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "MERO_EVENT", "tee-admitted-member",
                    "MERO_GROUP", group->hex, "MERO_PEER", member, "MESSAGE",
                    "group %s: admitted %s read-only on its attestation%s", group->hex, member,
                    (verdict.flags & MERO_TEE_VERDICT_MOCK) != 0 ? " (MOCK quote)" : "");
}

/* ---- what this node can do (TeeInfo, TeeAttest) ---- */

/* aa{sv}: one per fleet-join, how it stands. */
static GVariant *
fleet_joins_variant (MeroContexts *self)
{
  GVariantBuilder joins;

  g_variant_builder_init (&joins, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < self->tee_announcers->len; i++)
    {
      TeeAnnouncer *a = g_ptr_array_index (self->tee_announcers, i);
      Group *group = mero_contexts_group_lookup (self, a->group_id);
      gboolean admitted = group != NULL
                          && mero_group_state_member (mero_group_dag_state (group->dag),
                                                      self->pk) != NULL;
      g_autofree char *state = NULL;
      GVariantBuilder j;

      if (admitted)
        state = g_strdup ("admitted");
      else if (a->refused != MERO_GROUP_TEE_ADMIT_OK)
        state = g_strdup_printf ("refused: %s", mero_group_tee_admit_reason (a->refused));
      else if (a->gave_up)
        state = g_strdup ("gave up");
      else
        state = g_strdup ("pending");
      g_variant_builder_init (&j, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&j, "{sv}", "context_id", g_variant_new_string (a->context_id));
      g_variant_builder_add (&j, "{sv}", "group_id",
                             g_variant_new_take_string (hex_of (a->group_id, ID_LEN)));
      g_variant_builder_add (&j, "{sv}", "state", g_variant_new_string (state));
      g_variant_builder_add (&j, "{sv}", "announcing",
                             g_variant_new_boolean (!admitted && a->timer != NULL));
      g_variant_builder_add (&j, "{sv}", "announces", g_variant_new_uint32 (a->attempt + 1));
      if (a->refused != MERO_GROUP_TEE_ADMIT_OK)
        {
          g_variant_builder_add (&j, "{sv}", "reason",
                                 g_variant_new_string (mero_group_tee_admit_reason (a->refused)));
          g_variant_builder_add (&j, "{sv}", "message",
                                 g_variant_new_string (a->refusal_message));
          g_variant_builder_add (&j, "{sv}", "refused_by", g_variant_new_string (a->refused_by));
          g_variant_builder_add (&j, "{sv}", "definitive",
                                 g_variant_new_boolean (mero_tee_refusal_is_definitive (a->refused)));
        }
      g_variant_builder_add_value (&joins, g_variant_builder_end (&j));
    }
  return g_variant_builder_end (&joins);
}

GVariant *
mero_contexts_tee_info (MeroContexts *self)
{
  GVariantBuilder b;
  gboolean tsm = mero_tee_quote_tsm_available (NULL);

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "configfs_tsm", g_variant_new_boolean (tsm));
  g_variant_builder_add (&b, "{sv}", "tsm_path", g_variant_new_string (MERO_TEE_TSM_REPORT_DIR));
  g_variant_builder_add (&b, "{sv}", "accept_mock", g_variant_new_boolean (self->tee_accept_mock));
  g_variant_builder_add (&b, "{sv}", "can_attest",
                         g_variant_new_boolean (tsm || self->tee_accept_mock));
  g_variant_builder_add (&b, "{sv}", "quote_source",
                         g_variant_new_string (tsm                     ? "configfs-tsm"
                                               : self->tee_accept_mock ? "mock"
                                                                       : "none"));
  g_variant_builder_add (&b, "{sv}", "can_verify", g_variant_new_boolean (self->tee_verify != NULL));
  g_variant_builder_add (&b, "{sv}", "member_key",
                         g_variant_new_take_string (hex_of (self->pk, ID_LEN)));
  g_variant_builder_add (&b, "{sv}", "fleet_joins", fleet_joins_variant (self));
  return g_variant_builder_end (&b);
}

GBytes *
mero_contexts_tee_attest (MeroContexts *self, const char *nonce_hex,
                          guint8 report_data[MERO_TEE_REPORT_DATA_LEN], GError **error)
{
  guint8 nonce[MERO_GROUP_TEE_NONCE_LEN];

  if (nonce_hex == NULL || nonce_hex[0] == '\0')
    randombytes_buf (nonce, sizeof nonce);
  else
    {
      if (strlen (nonce_hex) != 2 * sizeof nonce)
        goto bad;
      for (guint i = 0; i < sizeof nonce; i++)
        {
          int hi = g_ascii_xdigit_value (nonce_hex[2 * i]);
          int lo = g_ascii_xdigit_value (nonce_hex[2 * i + 1]);
          if (hi < 0 || lo < 0)
            goto bad;
          nonce[i] = (guint8) (hi << 4 | lo);
        }
    }
  mero_group_tee_report_data (nonce, self->pk, report_data);
  return own_quote (self, report_data, error);
bad:
  g_set_error (error, MERO_CONTEXTS_ERROR, MERO_CONTEXTS_ERROR_INVALID_ARGUMENT,
               _("The nonce must be %d hex digits"), (int) (2 * sizeof nonce));
  return NULL;
}
