/*
 * sdnotify.c: the systemd notify protocol (run.h), by hand: one datagram
 * to $NOTIFY_SOCKET. Linking libsystemd for these forty lines would add a
 * dependency to every install, including those without systemd.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "run.h"

void sd_notifyf(const char *fmt, ...)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char msg[512];
	socklen_t salen;
	va_list ap;
	size_t n;
	int fd;

	if (!path || !path[0] || (path[0] != '/' && path[0] != '@') ||
	    (n = strlen(path)) >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, path, n);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';	/* an abstract socket */
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa, salen) < 0)
		log_debug("sd_notify: %s", strerror(errno));
	close(fd);
}

uint64_t sd_watchdog_ms(void)
{
	const char *us = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
	long long v;

	if (!us || !str_to_ll(us, &v) || v <= 0)
		return 0;
	if (pid) {
		long long p;

		if (!str_to_ll(pid, &p) || p != (long long)getpid())
			return 0;	/* meant for another process */
	}
	return (uint64_t)v / 1000;
}
