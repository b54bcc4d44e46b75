/* mero-test-fs.h: temporary directories for tests and benchmarks.
 *
 * Every test that touches disk works in its own g_dir_make_tmp directory
 * and removes it afterwards; this is the one implementation of both. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A fresh temporary directory named @prefix plus a dash and six random
 * characters, in the temporary folder; aborts the test on failure.  (transfer full); remove it with mero_test_remove_tree. */
char *mero_test_make_tmpdir (const char *prefix);
/* Removes @path and everything below it, never following symlinks.
 * NULL-safe. */
void mero_test_remove_tree (const char *path);

G_END_DECLS
