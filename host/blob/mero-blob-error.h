/* mero-blob-error.h: errors of host/blob. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MERO_BLOB_ERROR (mero_blob_error_quark ())

typedef enum {
  MERO_BLOB_ERROR_NOT_FOUND,    /* no such blob */
  MERO_BLOB_ERROR_CORRUPT,      /* data or record fails its hash check */
  MERO_BLOB_ERROR_TOO_LARGE,    /* over blob.max_size_mb */
  MERO_BLOB_ERROR_RANGE,        /* byte range outside the blob */
  MERO_BLOB_ERROR_INVALID,      /* malformed id or argument */
  MERO_BLOB_ERROR_IO,           /* the file system failed */
  MERO_BLOB_ERROR_CLOSED,       /* the manager is shutting down */
  MERO_BLOB_ERROR_REFUSED,      /* every provider refused to serve it (fetch) */
  MERO_BLOB_ERROR_TIMED_OUT,    /* a fetch ran past its time */
} MeroBlobError;

GQuark mero_blob_error_quark (void);

/* Parses a blob id (base58, as ListBlobs prints it). */
gboolean mero_blob_id_parse (const char *text, guint8 id[32], GError **error);
/* (transfer full) base58 text of @id. */
char *mero_blob_id_to_string (const guint8 id[32]);

G_END_DECLS
