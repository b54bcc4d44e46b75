/* mero-contexts-tee.h: TEE admission policy of a context's group, as the
 * node's control surfaces see it (issue 14 item 4). */
#pragma once

#include <glib.h>

#include "context/group/mero-group-tee-policy.h"
#include "node/mero-contexts.h"

G_BEGIN_DECLS

/* (admin) Authors a SET_TEE_POLICY op on @context_id's group: @mrtds hex
 * (48 bytes each), @tcb_statuses Intel's names ("UpToDate", ...), @rtmrs
 * empty or four hex strings ("" leaves that RTMR unchecked). */
gboolean mero_contexts_set_tee_policy (MeroContexts *self, const char *context_id,
                                       const char *const *mrtds, const char *const *tcb_statuses,
                                       const char *const *rtmrs, gboolean accept_mock,
                                       GError **error);

/* (transfer floating) a{sv}: mrtds (as, hex), tcb_statuses (as),
 * rtmrs (as: none, or four with "" unchecked), accept_mock (b). */
GVariant *mero_contexts_tee_policy_variant (const MeroGroupTeePolicy *policy);

/* A node that wants in by attestation: fetches the group's history from
 * the member at @address (a multiaddr ending in /p2p/PEERID), adds the
 * context, and announces its quote (configfs-tsm, or mock with
 * tee.accept_mock; or @quote when not NULL, made elsewhere, its nonce
 * taken from its report data) on the group topic, again on the back-off
 * of mero_tee_announce_next_delay_ms() until it is admitted or gives up. */
gboolean mero_contexts_tee_fleet_join (MeroContexts *self, const char *context_id,
                                       const char *group_id, const char *application,
                                       const char *address, GBytes *quote, GError **error);

/* (transfer floating) a{sv}: configfs_tsm (b), tsm_path (s), accept_mock
 * (b), can_attest (b), quote_source ("configfs-tsm", "mock", "none"),
 * can_verify (b), member_key (s, hex), fleet_joins (aa{sv}: context_id,
 * group_id, state "pending" | "admitted" | "refused: REASON" | "gave up",
 * announcing (b), announces (u), and after a refusal reason, message,
 * refused_by (the admin's peer id), definitive (b)). */
GVariant *mero_contexts_tee_info (MeroContexts *self);
/* (transfer full) this node's quote over nonce || sha256(member key), the
 * nonce from @nonce_hex (64 hex digits) or random when empty; the report
 * data goes to @report_data. */
GBytes *mero_contexts_tee_attest (MeroContexts *self, const char *nonce_hex,
                                  guint8 report_data[64], GError **error);

/* Private to the manager (mero-contexts-net.c, mero-contexts.c). */
GPtrArray *mero_contexts_tee_announcers_new (void);
/* A TeeAnnounce received on @topic: admins judge it and admit. */
void mero_contexts_tee_on_announce (MeroContexts *self, const char *topic, const char *from_peer,
                                    GBytes *payload);
/* A TeeRefusal received on @topic: the node it names checks the admin's
 * signature and role, shows the reason, stops on a definitive one. */
void mero_contexts_tee_on_refusal (MeroContexts *self, const char *topic, const char *from_peer,
                                   GBytes *payload);

G_END_DECLS
