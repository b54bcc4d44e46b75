/* test-identity.c: the identity file (format, mode 0600, refusals). */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "node/mero-home.h"
#include "node/mero-identity.h"

typedef struct {
  char *dir;
  char *path;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->dir = g_dir_make_tmp ("mero-identity-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->dir, MERO_IDENTITY_FILE_NAME, NULL);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_autoptr (GDir) dir = g_dir_open (f->dir, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *p = g_build_filename (f->dir, name, NULL);

      g_unlink (p);
    }
  g_rmdir (f->dir);
  g_free (f->path);
  g_free (f->dir);
}

static void
test_save_load (Fixture *f, gconstpointer data)
{
  g_autoptr (MeroIdentity) identity = mero_identity_generate ();
  g_autoptr (MeroIdentity) loaded = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize len;
  GStatBuf st;

  g_assert_true (mero_identity_save (identity, f->path, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_stat (f->path, &st), ==, 0);
  g_assert_cmpuint (st.st_mode & 0777, ==, 0600);

  /* libp2p PrivateKey protobuf: 08 01 12 40 seed pk */
  g_assert_true (g_file_get_contents (f->path, &contents, &len, NULL));
  g_assert_cmpuint (len, ==, 68);
  g_assert_cmpmem (contents, 4, "\x08\x01\x12\x40", 4);
  g_assert_cmpmem (contents + 36, 32, mero_identity_get_public_key (identity), 32);

  loaded = mero_identity_load (f->path, &error);
  g_assert_no_error (error);
  g_assert_true (mero_peer_id_equal (mero_identity_get_peer_id (identity),
                                     mero_identity_get_peer_id (loaded)));
}

static void
test_refuse_readable (Fixture *f, gconstpointer data)
{
  g_autoptr (MeroIdentity) identity = mero_identity_generate ();
  g_autoptr (MeroIdentity) loaded = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (mero_identity_save (identity, f->path, NULL));
  g_assert_cmpint (g_chmod (f->path, 0644), ==, 0);
  loaded = mero_identity_load (f->path, &error);
  g_assert_null (loaded);
  g_assert_error (error, MERO_IDENTITY_ERROR, MERO_IDENTITY_ERROR_PERMISSIONS);
  g_assert_nonnull (strstr (error->message, f->path));
  g_assert_nonnull (strstr (error->message, "0644"));
  g_assert_nonnull (strstr (error->message, "chmod 600"));
}

static void
test_refuse_malformed (Fixture *f, gconstpointer data)
{
  g_autoptr (MeroIdentity) loaded = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (g_file_set_contents_full (f->path, "not a key", -1,
                                           G_FILE_SET_CONTENTS_NONE, 0600, NULL));
  loaded = mero_identity_load (f->path, &error);
  g_assert_null (loaded);
  g_assert_error (error, MERO_IDENTITY_ERROR, MERO_IDENTITY_ERROR_MALFORMED);
}

static void
test_missing (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MeroIdentity) loaded = mero_identity_load (f->path, &error);

  g_assert_null (loaded);
  g_assert_error (error, MERO_IDENTITY_ERROR, MERO_IDENTITY_ERROR_IO);
}

static void
test_sign (Fixture *f, gconstpointer data)
{
  guint8 seed[32] = { 1 };
  g_autoptr (MeroIdentity) a = mero_identity_new_from_seed (seed);
  g_autoptr (MeroIdentity) b = mero_identity_new_from_seed (seed);
  guint8 sig_a[64], sig_b[64];

  /* Ed25519 is deterministic: same key, same message, same signature. */
  mero_identity_sign (a, (const guint8 *) "msg", 3, sig_a);
  mero_identity_sign (b, (const guint8 *) "msg", 3, sig_b);
  g_assert_cmpmem (sig_a, 64, sig_b, 64);
}

static void
test_home_init_keeps_identity (Fixture *f, gconstpointer data)
{
  g_autofree char *home = g_build_filename (f->dir, "home", NULL);
  g_autofree char *conf = g_build_filename (home, "merod.conf", NULL);
  g_autofree char *key = g_build_filename (home, MERO_IDENTITY_FILE_NAME, NULL);
  g_autofree char *lock = g_build_filename (home, "merod.lock", NULL);
  g_autoptr (MeroIdentity) first = NULL;
  g_autoptr (MeroIdentity) again = NULL;
  g_autoptr (MeroIdentity) forced = NULL;
  g_autoptr (GError) error = NULL;
  GStatBuf st;

  g_assert_true (mero_home_is_fresh (home));
  g_assert_cmpint (g_mkdir (home, 0700), ==, 0);
  g_assert_true (mero_home_is_fresh (home));
  g_assert_true (g_file_set_contents (lock, "", 0, NULL));
  g_assert_true (mero_home_is_fresh (home));
  first = mero_home_init (home, FALSE, &error);
  g_assert_no_error (error);
  g_assert_false (mero_home_is_fresh (home));
  g_assert_cmpint (g_stat (home, &st), ==, 0);
  g_assert_cmpuint (st.st_mode & 0777, ==, 0700);

  again = mero_home_init (home, FALSE, &error);
  g_assert_null (again);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS);
  g_clear_error (&error);

  forced = mero_home_init (home, TRUE, &error);
  g_assert_no_error (error);
  g_assert_true (mero_peer_id_equal (mero_identity_get_peer_id (first),
                                     mero_identity_get_peer_id (forced)));
  g_unlink (conf);
  g_unlink (key);
  g_unlink (lock);
  g_rmdir (home);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/identity/save-load", test_save_load);
  ADD ("/identity/refuse-readable", test_refuse_readable);
  ADD ("/identity/refuse-malformed", test_refuse_malformed);
  ADD ("/identity/missing", test_missing);
  ADD ("/identity/sign", test_sign);
  ADD ("/identity/home-init", test_home_init_keeps_identity);
#undef ADD
  return g_test_run ();
}
