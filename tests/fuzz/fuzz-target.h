/* fuzz-target.h: the libFuzzer entry point every fuzz-<name>.c defines;
 * replay-main.c calls it for each seed when libFuzzer is not linked. */
#pragma once

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);
