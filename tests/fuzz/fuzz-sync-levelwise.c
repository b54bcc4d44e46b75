/* Fuzz target: what a sync-levelwise peer sends (the sync-hash target's
 * checks, against the levelwise plugin). */
#define FUZZ_SYNC_LEVELWISE 1
#include "fuzz-sync-hash.c"
