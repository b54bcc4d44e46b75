/* mero-sdk.h: the merod plugin SDK, ABI 1.  Include only this header. */
#pragma once

#define MERO_SDK_INSIDE_ 1
#include <mero-sdk/mero-version.h>
#include <mero-sdk/mero-errors.h>
#include <mero-sdk/mero-host-services.h>
#include <mero-sdk/mero-plugin.h>
#include <mero-sdk/mero-storage-backend.h>
#include <mero-sdk/mero-sync-protocol.h>
#include <mero-sdk/mero-tee-verifier.h>
#undef MERO_SDK_INSIDE_
