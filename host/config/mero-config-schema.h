/* mero-config-schema.h: the one description of every merod.conf key
 * (internal to host/config). */
#pragma once

#include <glib.h>

#include "config/mero-config.h"

G_BEGIN_DECLS

typedef enum {
  MERO_CONFIG_TYPE_STRING,
  MERO_CONFIG_TYPE_UINT,
  MERO_CONFIG_TYPE_BOOLEAN,
  MERO_CONFIG_TYPE_ENUM,     /* one of choices; stored as its index */
  MERO_CONFIG_TYPE_LIST,     /* ;-separated strings */
} MeroConfigType;

typedef struct {
  const char *section;
  const char *key;
  MeroConfigType type;
  gboolean required;
  const char *default_value;         /* raw key-file text; NULL = computed */
  const char *comment;               /* written above the key (N_()-marked) */
  gsize offset;                      /* field in MeroConfig */
  guint min, max;                    /* UINT bounds */
  const char *const *choices;        /* ENUM */
  /* Extra check of a STRING value or of each LIST item; the message says
   * what was expected. */
  gboolean (*check) (const char *value, char **expected);
} MeroConfigKey;

/* Sections in file order; NULL-terminated. */
const char *const *mero_config_schema_sections (void);
const char *mero_config_schema_section_comment (const char *section);
const MeroConfigKey *mero_config_schema_keys (gsize *n_keys);
const MeroConfigKey *mero_config_schema_lookup (const char *section, const char *key);

G_END_DECLS
