/* mero-home-lock.h: one node per home.
 *
 * `merod run` holds an exclusive flock(2) on <home>/merod.lock for its
 * whole life and writes its pid into it, so a second node on the same
 * home is refused with the pid of the holder.  The kernel drops the lock
 * when the process dies, so a crash never leaves a stale lock behind. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MERO_HOME_LOCK_FILE_NAME "merod.lock"

#define MERO_HOME_LOCK_ERROR (mero_home_lock_error_quark ())
GQuark mero_home_lock_error_quark (void);

typedef enum {
  MERO_HOME_LOCK_ERROR_BUSY = 1,  /* another process holds it */
  MERO_HOME_LOCK_ERROR_IO = 2,
} MeroHomeLockError;

typedef struct _MeroHomeLock MeroHomeLock;

MeroHomeLock *mero_home_lock_acquire (const char *home, GError **error);
/* Unlocks and closes; the file stays (removing it would race with a
 * process that just opened it).  NULL-safe. */
void mero_home_lock_release (MeroHomeLock *lock);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroHomeLock, mero_home_lock_release)

G_END_DECLS
