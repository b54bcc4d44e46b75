/* mero-store-keys.h: typed keys.
 *
 * A MeroKey is a small value type: its column and its bytes.  Only the
 * builders below make keys, one per kind of record, so every record kind
 * has exactly one layout and one column.  Layouts are fixed-width
 * big-endian where they carry numbers, so byte order is the natural order.
 * Changing a layout is a storage format change (bump MERO_STORE_FORMAT). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Column families (DESIGN §10).  Append-only: the index is stored. */
typedef enum {
  MERO_COLUMN_META = 0,
  MERO_COLUMN_CONFIG,
  MERO_COLUMN_IDENTITY,
  MERO_COLUMN_STATE,
  MERO_COLUMN_DELTA,
  MERO_COLUMN_BLOBS,
  MERO_COLUMN_APPLICATION,
  MERO_COLUMN_ALIAS,
  MERO_COLUMN_GROUP,
  MERO_COLUMN_GENERIC,
  MERO_N_COLUMNS
} MeroColumn;

#define MERO_KEY_MAX 160

typedef struct {
  MeroColumn column;
  guint16 len;
  guint8 bytes[MERO_KEY_MAX];
} MeroKey;

const char *mero_column_name (MeroColumn column);
/* NULL-terminated list of all column names, index = MeroColumn. */
const char *const *mero_column_names (void);

G_END_DECLS
