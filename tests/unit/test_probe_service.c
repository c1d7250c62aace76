/* test_probe_service.c: the `service` rule over systemd's unit directories. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"

static void has_evidence(struct tu_run *t, const char *id, const char *want)
{
	const char *ev = tu_evidence(t, id);

	if (!strstr(ev, want))
		fail_msg("%s: evidence lacks \"%s\": %s", id, want, ev);
}

static void units(const char *r)
{
	tu_write(r, "/lib/systemd/system/ssh.service", "[Service]\n", 0644);
	tu_symlink(r, "/lib/systemd/system/ssh.service",
		   "/etc/systemd/system/multi-user.target.wants/ssh.service");
	tu_write(r, "/usr/lib/systemd/system/rsync.service", "[Service]\n", 0644);
	tu_write(r, "/lib/systemd/system/avahi-daemon.service", "[Service]\n", 0644);
	tu_symlink(r, "/dev/null", "/etc/systemd/system/avahi-daemon.service");
	tu_symlink(r, "/lib/systemd/system/avahi-daemon.service",
		   "/etc/systemd/system/multi-user.target.wants/avahi-daemon.service");
	tu_symlink(r, "/dev/null", "/run/systemd/system/cups.service");
	tu_write(r, "/lib/systemd/system/getty@.service", "[Service]\n", 0644);
	tu_symlink(r, "/lib/systemd/system/getty@.service",
		   "/etc/systemd/system/getty.target.wants/getty@tty1.service");
	tu_write(r, "/usr/local/lib/systemd/system/fetch.timer", "[Timer]\n", 0644);
	tu_symlink(r, "/usr/local/lib/systemd/system/fetch.timer",
		   "/etc/systemd/system/timers.target.requires/fetch.timer");
	tu_write(r, "/lib/systemd/system/serial@.service", "[Service]\n", 0644);
	tu_symlink(r, "/dev/null", "/etc/systemd/system/serial@.service");
}

static void states(void **state)
{
	char *r = tu_mkroot();
	struct tu_run t;

	(void)state;
	units(r);
	tu_run(&t, r, TU_HEAD
	       "  - {id: ssh-enabled, title: t, all: [{service: {name: ssh, state: enabled}}]}\n"
	       "  - {id: ssh-not-enabled, title: t, all: [{service: {name: ssh.service, state: not_enabled}}]}\n"
	       "  - {id: ssh-masked, title: t, all: [{service: {name: ssh, state: masked}}]}\n"
	       "  - {id: ssh-absent, title: t, all: [{service: {name: ssh, state: absent}}]}\n"
	       "  - {id: rsync-enabled, title: t, all: [{service: {name: rsync, state: enabled}}]}\n"
	       "  - {id: rsync-not-enabled, title: t, all: [{service: {name: rsync, state: not_enabled}}]}\n"
	       "  - {id: rsync-absent, title: t, all: [{service: {name: rsync, state: absent}}]}\n"
	       "  - {id: avahi-enabled, title: t, all: [{service: {name: avahi-daemon, state: enabled}}]}\n"
	       "  - {id: avahi-masked, title: t, all: [{service: {name: avahi-daemon, state: masked}}]}\n"
	       "  - {id: avahi-not-enabled, title: t, all: [{service: {name: avahi-daemon, state: not_enabled}}]}\n"
	       "  - {id: cups-masked, title: t, all: [{service: {name: cups, state: masked}}]}\n"
	       "  - {id: cups-absent, title: t, all: [{service: {name: cups, state: absent}}]}\n"
	       "  - {id: telnet-absent, title: t, all: [{service: {name: telnet.socket, state: absent}}]}\n"
	       "  - {id: telnet-enabled, title: t, all: [{service: {name: telnet.socket, state: enabled}}]}\n"
	       "  - {id: telnet-masked, title: t, all: [{service: {name: telnet.socket, state: masked}}]}\n"
	       "  - {id: telnet-not-enabled, title: t, all: [{service: {name: telnet.socket, state: not_enabled}}]}\n"
	       "  - {id: getty-enabled, title: t, all: [{service: {name: getty@tty1, state: enabled}}]}\n"
	       "  - {id: getty-absent, title: t, all: [{service: {name: getty@tty2.service, state: absent}}]}\n"
	       "  - {id: getty2-enabled, title: t, all: [{service: {name: getty@tty2.service, state: enabled}}]}\n"
	       "  - {id: timer-enabled, title: t, all: [{service: {name: fetch.timer, state: enabled}}]}\n"
	       "  - {id: dotted, title: t, all: [{service: {name: fetch.timer.d, state: absent}}]}\n"
	       "  - {id: serial-masked, title: t, all: [{service: {name: serial@ttyS0, state: masked}}]}\n");
	assert_status(&t, "ssh-enabled", VG_PASSED);
	has_evidence(&t, "ssh-enabled",
		     "/etc/systemd/system/multi-user.target.wants/ssh.service -> "
		     "/lib/systemd/system/ssh.service");
	assert_status(&t, "ssh-not-enabled", VG_FAILED);
	assert_status(&t, "ssh-masked", VG_FAILED);
	assert_status(&t, "ssh-absent", VG_FAILED);
	has_evidence(&t, "ssh-absent", "/lib/systemd/system/ssh.service: unit file");
	assert_status(&t, "rsync-enabled", VG_FAILED);
	has_evidence(&t, "rsync-enabled", "rsync.service: not linked");
	assert_status(&t, "rsync-not-enabled", VG_PASSED);
	assert_status(&t, "rsync-absent", VG_FAILED);
	assert_status(&t, "avahi-enabled", VG_FAILED);
	has_evidence(&t, "avahi-enabled", "avahi-daemon.service -> /dev/null (masked)");
	assert_status(&t, "avahi-masked", VG_PASSED);
	assert_status(&t, "avahi-not-enabled", VG_PASSED);
	assert_status(&t, "cups-masked", VG_PASSED);
	has_evidence(&t, "cups-masked", "/run/systemd/system/cups.service -> /dev/null");
	assert_status(&t, "cups-absent", VG_FAILED);
	assert_status(&t, "telnet-absent", VG_PASSED);
	has_evidence(&t, "telnet-absent", "telnet.socket: no unit file");
	assert_status(&t, "telnet-enabled", VG_FAILED);
	assert_status(&t, "telnet-masked", VG_FAILED);
	assert_status(&t, "telnet-not-enabled", VG_PASSED);
	assert_status(&t, "getty-enabled", VG_PASSED);
	assert_status(&t, "getty-absent", VG_FAILED);
	has_evidence(&t, "getty-absent", "getty@.service: unit file");
	assert_status(&t, "getty2-enabled", VG_FAILED);
	assert_status(&t, "timer-enabled", VG_PASSED);
	has_evidence(&t, "timer-enabled", "timers.target.requires/fetch.timer");
	assert_status(&t, "dotted", VG_PASSED);
	has_evidence(&t, "dotted", "fetch.timer.d.service");
	assert_status(&t, "serial-masked", VG_PASSED);
	tu_done(&t);
	tu_rmroot(r);
}

/* Links that lead out of the root, or nowhere, decide nothing. */
static void hostile_links(void **state)
{
	char *r = tu_mkroot(), *host = tu_mkroot(), target[PATH_MAX];
	struct tu_run t;

	(void)state;
	tu_write(host, "/wants/evil.service", "[Service]\n", 0644);
	tu_write(host, "/lib/systemd/system/evil.service", "[Service]\n", 0644);
	snprintf(target, sizeof(target), "%s/wants", host);
	tu_symlink(r, target, "/etc/systemd/system/multi-user.target.wants");
	snprintf(target, sizeof(target), "%s/lib", host);
	tu_symlink(r, target, "/lib");
	tu_symlink(r, "loop.wants", "/etc/systemd/system/loop.wants");
	tu_symlink(r, "a.requires", "/etc/systemd/system/b.requires");
	tu_symlink(r, "b.requires", "/etc/systemd/system/a.requires");
	tu_write(r, "/etc/systemd/system/file.wants", "not a directory", 0644);
	tu_symlink(r, "../../../../../../../../dev/null", "/run/systemd/system/dots.service");
	tu_run(&t, r, TU_HEAD
	       "  - {id: evil-enabled, title: t, all: [{service: {name: evil, state: enabled}}]}\n"
	       "  - {id: evil-absent, title: t, all: [{service: {name: evil, state: absent}}]}\n"
	       "  - {id: loop-not-enabled, title: t, all: [{service: {name: loop, state: not_enabled}}]}\n"
	       "  - {id: dots-masked, title: t, all: [{service: {name: dots, state: masked}}]}\n");
	assert_status(&t, "evil-enabled", VG_FAILED);
	assert_status(&t, "evil-absent", VG_PASSED);
	assert_status(&t, "loop-not-enabled", VG_PASSED);
	/* Only a link that says /dev/null is a mask. */
	assert_status(&t, "dots-masked", VG_FAILED);
	tu_done(&t);
	tu_rmroot(r);
	tu_rmroot(host);
}

static void load_errors(void **state)
{
	(void)state;
	assert_non_null(strstr(tu_load_error(TU_HEAD
		"  - {id: a, title: t, all: [{service: {name: ../../etc/passwd, state: absent}}]}\n"),
		"not a unit name"));
	assert_non_null(strstr(tu_load_error(TU_HEAD
		"  - {id: a, title: t, all: [{service: {name: 'ss*', state: absent}}]}\n"),
		"not a unit name"));
	assert_non_null(strstr(tu_load_error(TU_HEAD
		"  - {id: a, title: t, all: [{service: {name: '', state: absent}}]}\n"),
		"not a unit name"));
	assert_non_null(strstr(tu_load_error(TU_HEAD
		"  - {id: a, title: t, all: [{service: {name: ssh}}]}\n"), "state"));
	assert_non_null(strstr(tu_load_error(TU_HEAD
		"  - {id: a, title: t, all: [{service: {name: ssh, state: running}}]}\n"),
		"running"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(states),
		cmocka_unit_test(hostile_links),
		cmocka_unit_test(load_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
