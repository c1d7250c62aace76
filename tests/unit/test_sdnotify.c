/* test_sdnotify.c: both daemons' sd_notify (proto/sdnotify.c) against a
 * real datagram socket standing in for systemd's, and the watchdog
 * variables as systemd sets them (and as it does not). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "sdnotify.h"

/* A socket bound at path ("@name": abstract); NOTIFY_SOCKET names it. */
static int listener(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t n = strlen(path);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memcpy(sa.sun_path, path, n);
	if (path[0] == '@')
		sa.sun_path[0] = 0;
	else
		unlink(path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa,
			      (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)), 0);
	setenv("NOTIFY_SOCKET", path, 1);
	return fd;
}

static void receive(int fd, const char *want)
{
	char buf[600];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	assert_true(n >= 0);
	buf[n] = 0;
	assert_string_equal(buf, want);
}

static void notify_path_socket(void **state)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/vigil-csd-%d.sock", (int)getpid());
	fd = listener(path);
	assert_int_equal(sdn_notify("READY=1\nSTATUS=listening on %s", "127.0.0.1:24224"), 1);
	receive(fd, "READY=1\nSTATUS=listening on 127.0.0.1:24224");
	assert_int_equal(sdn_notify("WATCHDOG=1"), 1);
	receive(fd, "WATCHDOG=1");
	close(fd);
	unlink(path);
	/* Nobody listening any more: an error, not a crash or a hang. */
	assert_int_equal(sdn_notify("STOPPING=1"), -1);
	unsetenv("NOTIFY_SOCKET");
}

static void notify_abstract_socket(void **state)
{
	char name[64];
	int fd;

	snprintf(name, sizeof(name), "@vigil-csd-%d", (int)getpid());
	fd = listener(name);
	assert_int_equal(sdn_notify("STOPPING=1"), 1);
	receive(fd, "STOPPING=1");
	close(fd);
	unsetenv("NOTIFY_SOCKET");
}

static void notify_without_systemd(void **state)
{
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(sdn_notify("READY=1"), 0);
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	assert_int_equal(sdn_notify("READY=1"), 0);
	setenv("NOTIFY_SOCKET", "", 1);
	assert_int_equal(sdn_notify("READY=1"), 0);
	/* Longer than sun_path can hold. */
	char longp[200];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = 0;
	setenv("NOTIFY_SOCKET", longp, 1);
	assert_int_equal(sdn_notify("READY=1"), 0);
	unsetenv("NOTIFY_SOCKET");
}

static void watchdog(void **state)
{
	char pid[32];

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	assert_int_equal(sdn_watchdog_ms(), 0);
	setenv("WATCHDOG_USEC", "60000000", 1);
	assert_int_equal(sdn_watchdog_ms(), 60000);
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(sdn_watchdog_ms(), 60000);
	setenv("WATCHDOG_PID", "1", 1);		/* meant for another process */
	assert_int_equal(sdn_watchdog_ms(), 0);
	setenv("WATCHDOG_PID", pid, 1);
	setenv("WATCHDOG_USEC", "500", 1);	/* under a millisecond: still on */
	assert_int_equal(sdn_watchdog_ms(), 1);
	const char *bad[] = {"0", "-5", "", "12x", "x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("WATCHDOG_USEC", bad[i], 1);
		if (sdn_watchdog_ms() != 0)
			fail_msg("WATCHDOG_USEC=%s taken", bad[i]);
	}
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(notify_path_socket),
		cmocka_unit_test(notify_abstract_socket),
		cmocka_unit_test(notify_without_systemd),
		cmocka_unit_test(watchdog),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
