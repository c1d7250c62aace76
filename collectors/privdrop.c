/*
 * privdrop.c: root at the door of someone else's state directory.
 *
 * The package runs the collector as its own user, and the operator runs
 * `vigil-collector token create` (or `cert revoke`, or `serve` by hand) as
 * root. Whatever root made there (the CA on a token made before the first
 * start, the store, its directories) would be root's 0600 files the service
 * can no longer read. So a command run by root on a state directory owned
 * by another user becomes that user first, before it creates anything.
 * SQLite's own -wal/-shm files need nothing from us: opened by root, SQLite
 * gives them the database's owner.
 */
#include <errno.h>
#include <grp.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collector.h"

int priv_become_owner(const char *dir, struct cerr *err)
{
	struct stat st;

	if (geteuid() != 0)
		return 0;
	if (stat(dir, &st)) {
		if (errno == ENOENT)
			return 0;	/* made below, as root: nobody else's yet */
		return cerrf(err, "%s: %s", dir, strerror(errno));
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid == 0)
		return 0;
	/* Groups first: after setuid() there is no right left to change them. */
	if (setgroups(0, NULL) || setgid(st.st_gid) || setuid(st.st_uid))
		return cerrf(err, "%s belongs to uid %u: cannot run as that user: %s", dir,
			     (unsigned)st.st_uid, strerror(errno));
	if (setuid(0) == 0)
		return cerrf(err, "%s belongs to uid %u: root could not be dropped", dir,
			     (unsigned)st.st_uid);
	clog_msg(CLOG_DEBUG, "running as uid %u gid %u, the owner of %s", (unsigned)st.st_uid,
		 (unsigned)st.st_gid, dir);
	return 1;
}
