/* test_probe_net.c: the `listening` rule, against sockets the test opens. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testutil.h"

static void has_evidence(struct tu_run *t, const char *id, const char *want)
{
	const char *ev = tu_evidence(t, id);

	if (!strstr(ev, want))
		fail_msg("%s: evidence lacks \"%s\": %s", id, want, ev);
}

/* A socket bound to addr (port chosen by the kernel); returns the port. */
static int open_sock(int family, int type, const char *addr, bool v6only, bool listen_,
		     int *fd)
{
	struct sockaddr_storage ss = {0};
	socklen_t len;
	int one = 1, off = 0;

	*fd = socket(family, type, 0);
	if (*fd < 0)
		fail_msg("socket: %s", strerror(errno));
	setsockopt(*fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		setsockopt(*fd, IPPROTO_IPV6, IPV6_V6ONLY, v6only ? &one : &off, sizeof(one));
		s6->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, addr, &s6->sin6_addr), 1);
		len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, addr, &s4->sin_addr), 1);
		len = sizeof(*s4);
	}
	if (bind(*fd, (struct sockaddr *)&ss, len) < 0)
		return -1;
	if (listen_ && listen(*fd, 4) < 0)
		fail_msg("listen: %s", strerror(errno));
	len = sizeof(ss);
	assert_int_equal(getsockname(*fd, (struct sockaddr *)&ss, &len), 0);
	return ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
					: ((struct sockaddr_in *)&ss)->sin_port);
}

#define RULE(id, body) "  - {id: " id ", title: t, all: [{listening: {" body "}}]}\n"

static void tcp_and_udp(void **state)
{
	int tfd, ufd, cfd, nfd;
	int tport = open_sock(AF_INET, SOCK_STREAM, "127.0.0.1", false, true, &tfd);
	int uport = open_sock(AF_INET, SOCK_DGRAM, "0.0.0.0", false, false, &ufd);
	int cport = open_sock(AF_INET, SOCK_DGRAM, "0.0.0.0", false, false, &cfd);
	int nport = open_sock(AF_INET, SOCK_STREAM, "0.0.0.0", false, false, &nfd);
	struct sockaddr_in peer = {.sin_family = AF_INET, .sin_port = htons(9)};
	struct tu_run t;
	char *yaml;

	(void)state;
	/* A connected UDP socket is a client, not a server. */
	peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(cfd, (struct sockaddr *)&peer, sizeof(peer)), 0);
	yaml = xasprintf(TU_HEAD
		RULE("t-lo-present", "port: %d, proto: tcp, address: loopback, expect: present")
		RULE("t-nonlo-absent", "port: %d")
		RULE("t-lo-absent", "port: %d, address: loopback")
		RULE("t-any-absent", "port: %d, address: any")
		RULE("t-udp-present", "port: %d, proto: udp, address: any, expect: present")
		RULE("u-absent", "port: %d, proto: udp")
		RULE("u-present", "port: %d, proto: any, expect: present")
		RULE("u-tcp-absent", "port: %d, proto: tcp, address: any")
		RULE("u-lo-absent", "port: %d, address: loopback")
		RULE("c-present", "port: %d, address: any, expect: present")
		RULE("n-present", "port: %d, address: any, expect: present"),
		tport, tport, tport, tport, tport, uport, uport, uport, uport, cport, nport);
	tu_run(&t, "/", yaml);
	assert_status(&t, "t-lo-present", VG_PASSED);
	{
		char want[64];

		snprintf(want, sizeof(want), "tcp 127.0.0.1:%d listening", tport);
		has_evidence(&t, "t-lo-present", want);
	}
	assert_status(&t, "t-nonlo-absent", VG_PASSED);
	has_evidence(&t, "t-nonlo-absent", "(non_loopback addresses)");
	assert_status(&t, "t-lo-absent", VG_FAILED);
	assert_status(&t, "t-any-absent", VG_FAILED);
	assert_status(&t, "t-udp-present", VG_FAILED);
	assert_status(&t, "u-absent", VG_FAILED);
	{
		char want[64];

		snprintf(want, sizeof(want), "udp 0.0.0.0:%d bound", uport);
		has_evidence(&t, "u-absent", want);
	}
	assert_status(&t, "u-present", VG_PASSED);
	assert_status(&t, "u-tcp-absent", VG_PASSED);
	assert_status(&t, "u-lo-absent", VG_PASSED);
	assert_status(&t, "c-present", VG_FAILED);
	/* Bound but not listening. */
	assert_status(&t, "n-present", VG_FAILED);
	tu_done(&t);
	free(yaml);
	close(tfd);
	close(ufd);
	close(cfd);
	close(nfd);
}

/* ::1 and ::ffff:127.x are loopback; :: is not. */
static void ipv6(void **state)
{
	int lfd, mfd, afd;
	int lport = open_sock(AF_INET6, SOCK_STREAM, "::1", true, true, &lfd);
	int mport = open_sock(AF_INET6, SOCK_STREAM, "::ffff:127.0.0.1", false, true, &mfd);
	int aport = open_sock(AF_INET6, SOCK_DGRAM, "::", true, false, &afd);
	struct tu_run t;
	char *yaml;

	(void)state;
	if (lport < 0 || mport < 0 || aport < 0) {
		close(lfd);
		close(mfd);
		close(afd);
		skip();
	}
	yaml = xasprintf(TU_HEAD
		RULE("l-lo", "port: %d, address: loopback, expect: present")
		RULE("l-nonlo", "port: %d")
		RULE("m-lo", "port: %d, proto: tcp, address: loopback, expect: present")
		RULE("m-nonlo", "port: %d, address: non_loopback")
		RULE("a-nonlo", "port: %d, proto: udp"),
		lport, lport, mport, mport, aport);
	tu_run(&t, "/", yaml);
	assert_status(&t, "l-lo", VG_PASSED);
	has_evidence(&t, "l-lo", "tcp [::1]:");
	assert_status(&t, "l-nonlo", VG_PASSED);
	assert_status(&t, "m-lo", VG_PASSED);
	has_evidence(&t, "m-lo", "[::ffff:127.0.0.1]");
	assert_status(&t, "m-nonlo", VG_PASSED);
	assert_status(&t, "a-nonlo", VG_FAILED);
	has_evidence(&t, "a-nonlo", "udp [::]:");
	tu_done(&t);
	free(yaml);
	close(lfd);
	close(mfd);
	close(afd);
}

/* An image's sockets are not running: the rule cannot be judged. */
static void image_is_not_applicable(void **state)
{
	char *r = tu_mkroot();
	struct tu_run t;

	(void)state;
	tu_write(r, "/proc/net/tcp",
		 "  sl  local_address rem_address   st\n"
		 "   0: 00000000:0016 00000000:0000 0A\n", 0644);
	tu_run(&t, r, TU_HEAD RULE("x", "port: 22"));
	assert_status(&t, "x", VG_NA);
	has_evidence(&t, "x", "live host only");
	tu_done(&t);
	tu_rmroot(r);
}

static void load_errors(void **state)
{
	(void)state;
	assert_non_null(strstr(tu_load_error(TU_HEAD RULE("a", "port: 0")), "not 1-65535"));
	assert_non_null(strstr(tu_load_error(TU_HEAD RULE("a", "port: 65536")), "not 1-65535"));
	assert_non_null(strstr(tu_load_error(TU_HEAD RULE("a", "port: ssh")), "whole number"));
	assert_non_null(strstr(tu_load_error(TU_HEAD RULE("a", "proto: tcp")), "port"));
	assert_non_null(strstr(tu_load_error(TU_HEAD RULE("a", "port: 22, proto: sctp")), "sctp"));
	assert_non_null(strstr(tu_load_error(TU_HEAD RULE("a", "port: 22, address: lan")), "lan"));
	assert_non_null(strstr(tu_load_error(TU_HEAD RULE("a", "port: 22, expect: maybe")), "maybe"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tcp_and_udp),
		cmocka_unit_test(ipv6),
		cmocka_unit_test(image_is_not_applicable),
		cmocka_unit_test(load_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
