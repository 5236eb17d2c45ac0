/* river/uuid.h — UUIDs of VMs and VRs.
 *
 * An rvr_uuid is a plain 16-byte value: copy it with `=`, compare it with
 * rvr_uuid_eq().  All functions here are thread-safe. */
#ifndef RIVER_UUID_H
#define RIVER_UUID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <river/status.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rvr_uuid { uint8_t bytes[16]; } rvr_uuid;

#define RVR_UUID_STRLEN 37 /* 36 characters and the NUL */

/* A fresh random (version 4) UUID. */
rvr_uuid rvr_uuid_generate(void);
bool rvr_uuid_eq(const rvr_uuid *a, const rvr_uuid *b);
bool rvr_uuid_is_nil(const rvr_uuid *u);
/* Writes the canonical lower-case form into buf (RVR_UUID_STRLEN bytes); returns buf. */
char *rvr_uuid_str(const rvr_uuid *u, char buf[RVR_UUID_STRLEN]);
/* Parses the canonical form; RVR_EINVAL if `s` is not one. */
rvr_status rvr_uuid_parse(const char *s, rvr_uuid *out);

#ifdef __cplusplus
}
#endif
#endif
