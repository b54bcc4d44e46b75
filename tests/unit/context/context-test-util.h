/* context-test-util.h: replicas of one context for the state engine tests. */
#pragma once

#include <glib.h>

#include "context/delta/mero-delta-store.h"
#include "context/kv/mero-kv.h"
#include "mero-test-fs.h"
#include "store/mero-store.h"

G_BEGIN_DECLS

typedef struct {
  guint64 now_ms;
} TestClock;

typedef struct {
  char *dir;                /* store path (rocksdb) or NULL (memory) */
  MeroStore *store;
  MeroDeltaStore *ds;
  guint8 pk[32];
  guint8 sk[64];
  MeroMetrics *metrics;
  MeroDeltaStoreConfig options;   /* max_pending, age, authorize: copied in */
} TestReplica;

/* The context every test uses, and its key. */
extern const guint8 test_context_id[32];
extern const guint8 test_context_key[32];

guint64 test_clock_now (gpointer clock);

/* @seed derives the author key, so runs are reproducible.  @rocksdb_dir:
 * NULL for the memory backend. */
TestReplica *test_replica_new (guint32 seed, TestClock *clock, const char *rocksdb_dir);
/* Same, with the bounds and authorize hook of @options (other fields are
 * the test's). */
TestReplica *test_replica_new_with (guint32 seed, TestClock *clock, const char *rocksdb_dir,
                                    const MeroDeltaStoreConfig *options);
/* Reopens the delta store (and store, for rocksdb) as after a restart. */
void test_replica_reopen (TestReplica *r, TestClock *clock);
void test_replica_free (TestReplica *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TestReplica, test_replica_free)

/* Receives @env, asserting no error; returns the outcome. */
MeroDeltaOutcome test_replica_receive (TestReplica *r, GBytes *env);

char *test_root_hex (TestReplica *r);
/* "k=v;k=v" of the kv app, for comparing replicas. */
char *test_kv_dump (TestReplica *r);

G_END_DECLS
