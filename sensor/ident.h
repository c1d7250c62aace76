/*
 * ident.h: the sensor's identity, as `vigil enroll` leaves it (prefix
 * ident_). STATE/identity/ holds host.key (0600), host.crt, ca.crt and
 * collector (the address enrolled with). The host id is host.crt's CN,
 * chosen by the collector; every record carries it as device.uid.
 *
 * Enrollment builds a new identity in identity.new/ and renames it into
 * place only once a TLS context loads from it, so a failed enrollment
 * leaves the previous identity whole.
 */
#ifndef VIGIL_IDENT_H
#define VIGIL_IDENT_H

#include <limits.h>
#include <stddef.h>

#include <openssl/ssl.h>

#include "tls.h"
#include "vigil.h"

#define VG_STATE_DIR "/var/lib/vigil"
#define IDENT_DIR "identity"
#define IDENT_PREV "identity.prev"	/* the identity before the last enrollment */

struct ident {
	char dir[PATH_MAX];
	char key[PATH_MAX], cert[PATH_MAX], ca[PATH_MAX];
	char collector[256];
	char host_id[PKI_HOSTID_MAX + 1];
};

/* 0; 1 when state_dir has no identity (not enrolled); -1 with err. */
int ident_load(struct ident *id, const char *state_dir, struct vg_err *err);
/* The same for state_dir/name (IDENT_DIR or IDENT_PREV). */
int ident_load_at(struct ident *id, const char *state_dir, const char *name,
		  struct vg_err *err);

/*
 * Re-enrollment (docs/outbox.md): records spooled under the old host id
 * are delivered as that host, with its certificate, so `vigil enroll`
 * keeps the old identity as STATE/identity.prev while the spool holds
 * anything made under it, and `vigil run` removes it once that is sent.
 */
/* Copies STATE/identity to STATE/identity.prev: each file written and
 * fsync'd in identity.prev.new (host.key 0600), then one rename, so a crash
 * leaves either no identity.prev or a whole one. An identity.prev already
 * there is an error: the caller decides what happens to it first. */
int ident_keep_prev(const char *state_dir, struct vg_err *err);
/* Removes STATE/identity.prev (and what a cut-short copy left); 0 also when
 * there is none. */
int ident_drop_prev(const char *state_dir, struct vg_err *err);
/* Removes an identity directory's files and the directory; -1 with err
 * when the directory stays. */
int ident_rmdir(const char *dir, struct vg_err *err);
/* A TLS 1.3 client context presenting the host's certificate. */
SSL_CTX *ident_ctx(const struct ident *id, struct vg_err *err);

/* out = dir/name; -1 when that is longer than PATH_MAX. */
int path_join(char out[PATH_MAX], const char *dir, const char *name);
/* Writes len bytes to path through path.tmp, fsync and rename; mode for a
 * new file. 0, or -1 with err. */
int file_put_atomic(const char *path, const void *data, size_t len, mode_t mode,
		    struct vg_err *err);
/* Reads a whole small file (at most max bytes) NUL-terminated; NULL with err. */
char *file_get(const char *path, size_t max, size_t *len, struct vg_err *err);

/* enroll.c: `vigil enroll --collector HOST:PORT --token TOKEN [--state-dir DIR]` */
int cmd_enroll(int argc, char **argv);

#endif
