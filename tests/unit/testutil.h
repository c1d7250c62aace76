/* testutil.h: fixture roots and one-call baseline runs for unit tests. */
#ifndef VIGIL_TESTUTIL_H
#define VIGIL_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "vigil.h"

/* The head of a baseline; tests append "  - id: ...". */
#define TU_HEAD "id: t\nname: test\nversion: '1'\nchecks:\n"

char *tu_mkroot(void);					/* a fresh temporary root */
void tu_rmroot(char *root);				/* removes and frees it */
void tu_write(const char *root, const char *path, const char *text, mode_t mode);
void tu_mkdir(const char *root, const char *path, mode_t mode);
void tu_symlink(const char *root, const char *target, const char *path);
void tu_chown(const char *root, const char *path, uid_t uid, gid_t gid);

struct tu_run {
	struct vg_config cfg;
	struct vg_baseline b;
	struct vg_ctx ctx;
	struct vg_result *res;
	struct vg_summary sum;
	char evbuf[4096];
};
/* Loads yaml (which must load) and runs it against root ("/" for live). */
void tu_run(struct tu_run *t, const char *root, const char *yaml);
enum vg_status tu_status(struct tu_run *t, const char *id);
const char *tu_evidence(struct tu_run *t, const char *id);	/* items joined by " | " */
void tu_done(struct tu_run *t);
/* Loads yaml that must fail; returns the error message (static storage). */
const char *tu_load_error(const char *yaml);

#define assert_status(t, id, want)                                                    \
	do {                                                                          \
		enum vg_status got_ = tu_status((t), (id));                           \
		if (got_ != (want))                                                   \
			fail_msg("%s: want %s, got %s (evidence: %s)", (id),          \
				 status_name(want), status_name(got_),                \
				 tu_evidence((t), (id)));                             \
	} while (0)

#endif
