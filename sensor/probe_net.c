/*
 * probe_net.c: the "listening" rule, over the running system's sockets.
 *
 * /proc/net/{tcp,tcp6,udp,udp6} are read once per run into ctx->sockets.
 * They describe the sensor's own network namespace, so the rule only means
 * something on the live host; against an image it is not_applicable.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil.h"

#define PROCNET_MAX_BYTES (64u << 20)
#define TCP_LISTEN	0x0a
#define UDP_UNCONN	0x07		/* TCP_CLOSE: bound, not connected */

enum net_proto { P_TCP, P_UDP, P_ANY };
enum net_addr { A_ANY, A_LOOPBACK, A_NON_LOOPBACK };
enum net_expect { E_ABSENT, E_PRESENT };

static const char *const proto_names[] = {"tcp", "udp", "any", NULL};
static const char *const addr_names[] = {"any", "loopback", "non_loopback", NULL};
static const char *const expect_names[] = {"absent", "present", NULL};

struct sock {
	unsigned char addr[16];		/* network order; 4 bytes used for AF_INET */
	int family;
	unsigned port;
	enum net_proto proto;
};

struct vg_sockets {
	struct sock *v;
	size_t n, cap;
	char *err;			/* a table that could not be read */
};

static const struct {
	const char *path;
	enum net_proto proto;
	int family;
} tables[] = {
	{"/proc/net/tcp", P_TCP, AF_INET},
	{"/proc/net/tcp6", P_TCP, AF_INET6},
	{"/proc/net/udp", P_UDP, AF_INET},
	{"/proc/net/udp6", P_UDP, AF_INET6},
};

/* The kernel prints each 32-bit word of the address with %08X in host
 * order, so the bytes of the parsed word in memory are the address. */
static bool parse_addr(const char *hex, int family, unsigned char *out)
{
	size_t words = family == AF_INET ? 1 : 4;

	if (strlen(hex) != words * 8)
		return false;
	for (size_t i = 0; i < words; i++) {
		char w[9];
		char *end;
		uint32_t v;

		memcpy(w, hex + i * 8, 8);
		w[8] = 0;
		v = (uint32_t)strtoul(w, &end, 16);
		if (*end)
			return false;
		memcpy(out + i * 4, &v, 4);
	}
	return true;
}

static bool all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* "  0: 0100007F:0CEA 00000000:0000 0A ..."; the header line and anything
 * else that does not parse is skipped. */
static void parse_line(struct vg_sockets *s, const char *line, enum net_proto proto,
		       int family)
{
	char lhex[33], rhex[33];
	unsigned lport, rport, state;
	unsigned char raddr[16];
	struct sock k = {.family = family, .proto = proto};

	if (sscanf(line, " %*u: %32[0-9A-Fa-f]:%4x %32[0-9A-Fa-f]:%4x %2x", lhex, &lport, rhex,
		   &rport, &state) != 5)
		return;
	if (!parse_addr(lhex, family, k.addr) || !parse_addr(rhex, family, raddr))
		return;
	if (proto == P_TCP && state != TCP_LISTEN)
		return;
	if (proto == P_UDP &&
	    (state != UDP_UNCONN || rport || !all_zero(raddr, family == AF_INET ? 4 : 16)))
		return;
	k.port = lport;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
	}
	s->v[s->n++] = k;
}

/* A missing table is a disabled protocol (IPv6 off), not an error. */
static int read_table(const struct vg_root *root, struct vg_sockets *s, size_t t)
{
	char *buf, *line, *save = NULL;
	size_t len;

	if (root_read(root, tables[t].path, PROCNET_MAX_BYTES, &buf, &len) < 0) {
		if (errno == ENOENT)
			return 0;
		s->err = xasprintf("%s: %s", tables[t].path, strerror(errno));
		return -1;
	}
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		parse_line(s, line, tables[t].proto, tables[t].family);
	free(buf);
	return 0;
}

static struct vg_sockets *sockets_get(struct vg_ctx *ctx)
{
	struct vg_sockets *s = ctx->sockets;

	if (s)
		return s;
	s = xcalloc(1, sizeof(*s));
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		if (read_table(&ctx->root, s, t) < 0)
			break;
	ctx->sockets = s;
	return s;
}

void sockets_free(struct vg_sockets *s)
{
	if (!s)
		return;
	free(s->v);
	free(s->err);
	free(s);
}

static bool is_loopback(const struct sock *k)
{
	static const unsigned char v6lo[16] = {[15] = 1};
	static const unsigned char v4mapped[12] = {[10] = 0xff, [11] = 0xff};

	if (k->family == AF_INET)
		return k->addr[0] == 127;
	return memcmp(k->addr, v6lo, 16) == 0 ||
	       (memcmp(k->addr, v4mapped, 12) == 0 && k->addr[12] == 127);
}

/* ---- the rule ---------------------------------------------------------- */

struct net_arg {
	long long port;
	int proto;			/* enum net_proto, -1 unset: any */
	int address;			/* enum net_addr, -1 unset: non_loopback */
	int expect;			/* enum net_expect, -1 unset: absent */
};

static const struct yp_field net_fields[] = {
	{"port", YP_INT, offsetof(struct net_arg, port), true, NULL},
	{"proto", YP_ENUM, offsetof(struct net_arg, proto), false, proto_names},
	{"address", YP_ENUM, offsetof(struct net_arg, address), false, addr_names},
	{"expect", YP_ENUM, offsetof(struct net_arg, expect), false, expect_names},
	{0},
};

static void net_init(void *p)
{
	struct net_arg *arg = p;

	arg->port = -1;
	arg->proto = arg->address = arg->expect = -1;
}

static int net_check(void *p, struct vg_yctx *y, yaml_node_t *map, struct vg_err *err)
{
	struct net_arg *arg = p;

	if (arg->port < 1 || arg->port > 65535) {
		vg_errf(err, "%s:%d: listening: port %lld is not 1-65535", y->file, yline(map),
			arg->port);
		return -1;
	}
	if (arg->proto < 0)
		arg->proto = P_ANY;
	if (arg->address < 0)
		arg->address = A_NON_LOOPBACK;
	if (arg->expect < 0)
		arg->expect = E_ABSENT;
	return 0;
}

static bool sock_matches(const struct net_arg *arg, const struct sock *k)
{
	if (k->port != (unsigned)arg->port)
		return false;
	if (arg->proto != P_ANY && (int)k->proto != arg->proto)
		return false;
	switch ((enum net_addr)arg->address) {
	case A_LOOPBACK:
		return is_loopback(k);
	case A_NON_LOOPBACK:
		return !is_loopback(k);
	case A_ANY:
		break;
	}
	return true;
}

static void sock_evidence(const struct sock *k, struct vg_ev *ev)
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(k->family, k->addr, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	ev_add(ev, k->family == AF_INET6 ? "%s [%s]:%u %s" : "%s %s:%u %s",
	       k->proto == P_TCP ? "tcp" : "udp", a, k->port,
	       k->proto == P_TCP ? "listening" : "bound");
}

static enum vg_status net_eval(const void *p, struct vg_ctx *ctx, struct vg_ev *ev)
{
	const struct net_arg *arg = p;
	const struct vg_sockets *s;
	size_t found = 0;

	if (!ctx->root.live) {
		ev_add(ev, "live host only");
		return VG_NA;
	}
	s = sockets_get(ctx);
	if (s->err) {
		ev_add(ev, "%s", s->err);
		return VG_ERROR;
	}
	for (size_t i = 0; i < s->n; i++) {
		if (sock_matches(arg, &s->v[i])) {
			sock_evidence(&s->v[i], ev);
			found++;
		}
	}
	if (!found)
		ev_add(ev, "no %s socket on port %lld (%s addresses)", proto_names[arg->proto],
		       arg->port, addr_names[arg->address]);
	return (found > 0) == (arg->expect == E_PRESENT) ? VG_PASSED : VG_FAILED;
}

const struct vg_probe probe_listening = {
	.name = "listening",
	.argsize = sizeof(struct net_arg),
	.fields = net_fields,
	.init = net_init,
	.check = net_check,
	.eval = net_eval,
};
