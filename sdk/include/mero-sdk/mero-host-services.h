/* mero-host-services.h: what the host gives every plugin at init.
 *
 * Plugins never link the host.  Everything they need from it (logging,
 * time, randomness, metrics, and for sync protocols access to a context's
 * state) reaches them through this table, which the host owns and keeps
 * alive until after the plugin's finalize.
 *
 * ABI rule: like every SDK struct, the table starts with its struct_size
 * and only grows at the end.  A plugin built against a newer minor must
 * check struct_size (MERO_HOST_SERVICES_HAS) before using a member the
 * running host may not have. */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

/* True if the table @s is large enough to contain @member. */
#define MERO_HOST_SERVICES_HAS(s, member) \
  ((s)->struct_size >= G_STRUCT_OFFSET (MeroHostServices, member) + sizeof ((s)->member))

/* Opaque handle to one context's state, passed to sync sessions. */
typedef struct _MeroStateHandle MeroStateHandle;

/* One entity as a sync protocol sees it (see DESIGN §8).
 * All pointers are owned by the host and valid until the next call
 * on the same MeroStateHandle. */
typedef struct {
  uint32_t struct_size;
  uint32_t crdt_type;
  uint8_t id[32];
  uint8_t parent_id[32];      /* all zero for the root */
  uint8_t own_hash[32];
  uint8_t full_hash[32];
  uint64_t created_at;        /* HLC, 64-bit packed */
  uint64_t updated_at;        /* HLC, 64-bit packed */
  uint64_t deleted_at;        /* 0 unless a tombstone */
  const uint8_t *data;
  size_t data_len;
  const uint8_t *child_ids;   /* n_children * 32 bytes, sorted by id */
  size_t n_children;
} MeroStateEntity;

/* State access for sync protocol sessions (ABI 1).  Every method returns
 * FALSE and sets @error on failure; "not found" is not a failure
 * (*found = FALSE).  Append-only. */
typedef struct {
  uint32_t struct_size;
  uint32_t reserved;
  gboolean (*get_root_hash) (MeroStateHandle *state, uint8_t out_hash[32], GError **error);
  gboolean (*get_entity) (MeroStateHandle *state, const uint8_t id[32],
                          MeroStateEntity *out, gboolean *found, GError **error);
  /* Merge a peer's entity with the CRDT rules (never a raw overwrite). */
  gboolean (*merge_entity) (MeroStateHandle *state, const MeroStateEntity *entity, GError **error);
  gboolean (*count_entities) (MeroStateHandle *state, uint64_t *out_count, GError **error);
} MeroStateAccess;

typedef enum {
  MERO_LOG_LEVEL_ERROR = 0,
  MERO_LOG_LEVEL_WARNING = 1,
  MERO_LOG_LEVEL_INFO = 2,
  MERO_LOG_LEVEL_DEBUG = 3,
} MeroLogLevel;

typedef struct _MeroHostServices MeroHostServices;

struct _MeroHostServices {
  uint32_t struct_size;
  uint32_t abi_major;          /* the running host's ABI */
  uint32_t abi_minor;
  uint32_t reserved;
  const char *host_version;    /* e.g. "0.1.0" */

  /* Structured log line; @domain is the plugin's name. */
  void (*log) (const MeroHostServices *host, MeroLogLevel level, const char *domain,
               const char *message);

  /* Monotonic and wall clock in microseconds.  Plugins take time only from
   * here so that tests can drive them with integer time. */
  int64_t (*now_monotonic_us) (const MeroHostServices *host);
  int64_t (*now_real_us) (const MeroHostServices *host);

  /* Cryptographically secure random bytes. */
  void (*random_bytes) (const MeroHostServices *host, uint8_t *buf, size_t len);

  /* Metrics: @name is a Prometheus metric name, @labels a pre-rendered
   * label set such as "protocol=\"hash\"" or NULL. */
  void (*counter_add) (const MeroHostServices *host, const char *name, const char *labels,
                       uint64_t delta);
  void (*gauge_set) (const MeroHostServices *host, const char *name, const char *labels,
                     double value);

  /* State access for sync protocols; NULL for other kinds. */
  const MeroStateAccess *state;

  /* Host-private; plugins must not touch it. */
  void *host_data;
};

G_END_DECLS
