/* mero-dbus-service-private.h: shared by the files of the D-Bus service. */
#pragma once

#include "dbus/mero-dbus-node1-generated.h"
#include "blob/mero-blob-meta.h"
#include "dbus/mero-dbus-service.h"

G_BEGIN_DECLS

MeroDBusNode1 *mero_dbus_service_get_skeleton (MeroDBusService *service);
MeroContexts *mero_dbus_service_get_contexts (MeroDBusService *service);
gboolean mero_dbus_service_get_test_hooks (MeroDBusService *service);
/* mero-dbus-contexts.c: connects the contexts method handlers. */
void mero_dbus_contexts_connect (MeroDBusService *service, MeroDBusNode1 *skeleton);

MeroBlobManager *mero_dbus_service_get_blobs (MeroDBusService *service);
/* mero-dbus-blobs.c: connects the blob method handlers. */
void mero_dbus_blobs_connect (MeroDBusService *service, MeroDBusNode1 *skeleton);
MeroBlobProviders *mero_dbus_service_get_blob_providers (MeroDBusService *service);
/* The providers are also object data of the skeleton under this key, for
 * callbacks that hold the skeleton but may outlive the service. */
#define MERO_DBUS_PROVIDERS_KEY "mero-blob-providers"
/* mero-dbus-blob-providers.c: connects FindBlobProviders. */
void mero_dbus_blob_providers_connect (MeroDBusService *service, MeroDBusNode1 *skeleton);
/* The network side of blobs (FetchBlob); NULL until the node set it. */
struct _MeroBlobNet *mero_dbus_service_get_blob_net (MeroDBusService *service);
/* (transfer floating) a{sv} of a blob record (GetBlobInfo). */
GVariant *mero_dbus_blob_info_to_variant (const MeroBlobMeta *meta);

G_END_DECLS
