/* store-memory-core.h: in-memory STORAGE_BACKEND (for tests).
 *
 * One ordered map (GTree) per column, guarded by a GRWLock.  Snapshots are
 * multi-version: every key keeps the versions that a live snapshot or
 * iterator can still see, each tagged with the sequence number of the
 * commit that wrote it, and a read at sequence S sees the newest version
 * at or below S.  A batch commits under one sequence number, so readers
 * see all of it or none.  The path given to open() is ignored: every open
 * is a new, empty database. */
#pragma once

#include <mero-sdk.h>

G_BEGIN_DECLS

extern const MeroStorageBackendVTable mero_store_memory_vtable;

G_END_DECLS
