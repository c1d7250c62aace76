/*
 * ocsf-size.c: how many bytes a process exec record costs on the wire.
 *
 *   ocsf-size [N]     N exec records (default 10000)
 *
 * Simulates a server's exec stream (cron jobs, a monitoring agent running
 * its checks, a PHP application shelling out, an administrator's shell)
 * through the real path: fork and exec events go into a process table,
 * ship_event packs each exec as OCSF 1007 with its parents from the table,
 * into Forward batches that fwd_encode_compressed gzips. Prints bytes per
 * record before and after compression, for one batch of all records and
 * for batches cut as the outbox cuts them (1000 records or 512 KiB), and
 * the JSON line of `vigil watch --json` for the same events.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "forward.h"
#include "ship.h"

#define T0_NS 1767225600000000000ull
#define OB_RECORDS 1000			/* the outbox's defaults (outbox.h) */
#define OB_BYTES (512u << 10)

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static unsigned pick(unsigned n)
{
	return (unsigned)(next() % n);
}

struct sim {
	struct vg_proctab *t;
	struct ship_host h;
	uint64_t now;
	uint32_t pid;
	/* output */
	struct fwd_batch all, cut;
	msgpack_sbuffer frame;
	size_t raw_all, n, json_bytes;
	size_t cut_raw, cut_gz, cut_batches;
	struct vg_buf json;
};

static void flush_cut(struct sim *s)
{
	struct fwd_err err;

	if (!s->cut.n)
		return;
	msgpack_sbuffer_clear(&s->frame);
	if (fwd_encode_compressed(&s->frame, "vigil.events", &s->cut, "h-1-1", &err)) {
		fprintf(stderr, "ocsf-size: %s\n", err.msg);
		exit(1);
	}
	s->cut_raw += s->cut.buf.size;
	s->cut_gz += s->frame.size;
	s->cut_batches++;
	fwd_batch_clear(&s->cut);
}

static void feed(struct sim *s, const struct vg_event *ev, bool count)
{
	struct vg_err err;
	msgpack_packer *pk;

	proctab_apply(s->t, ev);
	if (!count)
		return;
	if (!(pk = fwd_batch_add(&s->all, ev->time_ns)) || ship_event(pk, &s->h, ev, s->t, &err)) {
		fprintf(stderr, "ocsf-size: %s\n", pk ? err.msg : "batch");
		exit(1);
	}
	if (!(pk = fwd_batch_add(&s->cut, ev->time_ns)) || ship_event(pk, &s->h, ev, s->t, &err))
		exit(1);
	s->json.len = 0;
	event_json(&s->json, ev, s->t);
	s->json_bytes += s->json.len + 1;
	s->n++;
	if (s->cut.n >= OB_RECORDS || s->cut.buf.size >= OB_BYTES)
		flush_cut(s);
}

static struct vg_event base(struct sim *s, enum ev_kind k, uint32_t pid, uint32_t ppid,
			    uint32_t uid, uint32_t auid, uint64_t cgroup, const char *comm)
{
	struct vg_event ev = {.kind = k, .time_ns = s->now, .pid = pid, .tgid = pid,
			      .ppid = ppid, .uid = uid, .gid = uid, .euid = uid, .auid = auid,
			      .cgroup_id = cgroup, .mntns = 4026531841u};

	snprintf(ev.comm, sizeof(ev.comm), "%s", comm);
	return ev;
}

/* parent forks a child that execs cmd (exe NULL: cmd's first word, looked
 * up in /usr/bin): the child's pid. */
static uint32_t spawn(struct sim *s, uint32_t parent, uint32_t uid, uint32_t auid,
		      uint64_t cgroup, const char *exe, const char *cwd, const char *cmd)
{
	char path[128];

	if (!exe) {
		int n = (int)strcspn(cmd, " ");
		snprintf(path, sizeof(path), "%s%.*s", cmd[0] == '/' ? "" : "/usr/bin/", n, cmd);
		exe = path;
	}
	const struct vg_proc *pp = proctab_get(s->t, parent);
	char pcomm[EV_COMM_LEN], args[EV_ARGS_LEN], comm[EV_COMM_LEN];
	const char *slash;
	size_t len = strlen(cmd);
	uint32_t pid;

	snprintf(pcomm, sizeof(pcomm), "%s", pp ? pp->comm : "?");
	s->pid += 1 + pick(3);		/* threads and short-lived helpers in between */
	pid = s->pid;
	s->now += 50000 + next() % 200000;	/* fork to exec: 50-250 us */
	struct vg_event f = base(s, EV_FORK, pid, parent, uid, auid, cgroup, pcomm);
	feed(s, &f, false);
	if (len >= sizeof(args))
		len = sizeof(args) - 1;
	memcpy(args, cmd, len);
	args[len] = 0;
	for (size_t i = 0; i < len; i++)	/* argv is NUL-separated */
		if (args[i] == ' ')
			args[i] = 0;
	slash = strrchr(exe, '/');
	snprintf(comm, sizeof(comm), "%.15s", slash ? slash + 1 : exe);
	struct vg_event e = base(s, EV_EXEC, pid, parent, uid, auid, cgroup, comm);
	e.exe = exe;
	e.cwd = cwd;
	e.args = args;
	e.args_len = len + 1;
	feed(s, &e, true);
	return pid;
}

static void rest(struct sim *s)
{
	s->now += (uint64_t)(1 + pick(400)) * 1000000ull;	/* 1-400 ms between */
}

static const char *const checks[] = {
	"df -P /", "cat /proc/loadavg", "uptime",
	"/usr/lib/nagios/plugins/check_load -w 5,4,3 -c 10,8,6",
	"systemctl is-active nginx", "systemctl is-active php8.2-fpm",
	"ss -tan state established", "free -m",
	"/usr/lib/nagios/plugins/check_disk -w 20% -c 10% -p /var",
};
static const char *const shell[] = {
	"ls -la /var/log/nginx", "tail -n 100 /var/log/nginx/access.log",
	"systemctl status nginx", "journalctl -u nginx --since -1h", "ps aux",
	"git -C /srv/app log --oneline -5", "cat /etc/nginx/sites-enabled/default", "htop",
};

/* The long-lived processes the execs come from. */
static void seed(struct sim *s)
{
	struct {
		uint32_t pid, ppid, uid, auid;
		const char *exe, *cmd;
	} p[] = {
		{1, 0, 0, -1u, "/usr/lib/systemd/systemd", "/sbin/init"},
		{600, 1, 0, -1u, "/usr/sbin/cron", "/usr/sbin/cron -f"},
		{812, 1, 0, -1u, "/usr/sbin/sshd", "sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups"},
		{900, 1, 0, -1u, "/usr/sbin/php-fpm8.2", "php-fpm: master process (/etc/php/8.2/fpm/php-fpm.conf)"},
		{901, 900, 33, -1u, "/usr/sbin/php-fpm8.2", "php-fpm: pool www"},
		{902, 900, 33, -1u, "/usr/sbin/php-fpm8.2", "php-fpm: pool www"},
		{950, 1, 998, -1u, "/usr/bin/telegraf", "/usr/bin/telegraf -config /etc/telegraf/telegraf.conf"},
		{4090, 812, 0, 1000, "/usr/sbin/sshd", "sshd: alice [priv]"},
		{4100, 4090, 0, 1000, "/usr/bin/bash", "-bash"},
	};

	for (size_t i = 0; i < sizeof(p) / sizeof(p[0]); i++) {
		const char *slash = strrchr(p[i].exe, '/');
		struct vg_event f = base(s, EV_FORK, p[i].pid, p[i].ppid, p[i].uid, p[i].auid, 1,
					 "init");
		struct vg_event e = base(s, EV_EXEC, p[i].pid, p[i].ppid, p[i].uid, p[i].auid, 1,
					 slash + 1);
		e.exe = p[i].exe;
		e.args = p[i].cmd;
		e.args_len = strlen(p[i].cmd) + 1;
		feed(s, &f, false);
		feed(s, &e, false);
	}
}

static void one(struct sim *s)
{
	char cmd[256];
	uint32_t sh;

	switch (pick(10)) {
	case 0: case 1:			/* cron: sh -c JOB, then the job */
		sh = spawn(s, 600, 0, -1u, 11, "/usr/bin/dash", "/root",
			   "/bin/sh -c /usr/lib/sysstat/debian-sa1 1 1");
		spawn(s, sh, 0, -1u, 11, "/usr/lib/sysstat/debian-sa1", "/root",
		      "/usr/lib/sysstat/debian-sa1 1 1");
		break;
	case 2: case 3: case 4: case 5:	/* the monitoring agent's checks */
		snprintf(cmd, sizeof(cmd), "%s", checks[pick(sizeof(checks) / sizeof(*checks))]);
		sh = spawn(s, 950, 998, -1u, 12, "/usr/bin/dash", "/", "/bin/sh -c check");
		spawn(s, sh, 998, -1u, 12, NULL, "/", cmd);
		break;
	case 6: case 7:			/* the web application resizes an upload */
		snprintf(cmd, sizeof(cmd), "convert /var/www/uploads/IMG_%04u.jpg -resize 800x600 "
			 "/var/www/cache/%08llx.jpg", pick(10000), (unsigned long long)next() >> 32);
		spawn(s, 901 + pick(2), 33, -1u, 13, "/usr/bin/convert-im6.q16", "/var/www/app",
		      cmd);
		break;
	default:			/* an administrator at a shell */
		spawn(s, 4100, 0, 1000, 14, NULL, "/root",
		      shell[pick(sizeof(shell) / sizeof(*shell))]);
		break;
	}
	rest(s);
}

int main(int argc, char **argv)
{
	size_t want = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000;

	if (want < 1 || want > 20000) {
		fprintf(stderr, "usage: ocsf-size [N], 1 <= N <= 20000 (one batch holds them all)\n");
		return 2;
	}
	char empty[] = "/tmp/ocsf-size.XXXXXX";
	struct fwd_err err;
	struct sim s = {.now = T0_NS, .pid = 20000};

	if (!mkdtemp(empty))
		return 1;
	s.t = proctab_new(empty);	/* no /proc: the table knows what the events said */
	s.h.uid = "h-5f2c9e1a";
	s.h.src = (struct ocsf_src){.host_uid = "h-5f2c9e1a", .hostname = "web-01",
				    .os_name = "Debian GNU/Linux 12 (bookworm)",
				    .os_version = "12", .product_version = "0.1.0"};
	fwd_batch_init(&s.all);
	fwd_batch_init(&s.cut);
	msgpack_sbuffer_init(&s.frame);
	seed(&s);
	while (s.n < want)
		one(&s);
	flush_cut(&s);
	s.raw_all = s.all.buf.size;
	msgpack_sbuffer_clear(&s.frame);
	if (fwd_encode_compressed(&s.frame, "vigil.events", &s.all, "h-1-1", &err)) {
		fprintf(stderr, "ocsf-size: %s\n", err.msg);
		return 1;
	}
	printf("%zu exec records (OCSF 1007 with 4 parents, msgpack)\n", s.n);
	printf("  one batch:         %7.1f bytes/record packed, %6.1f after gzip (frame %zu bytes)\n",
	       (double)s.raw_all / (double)s.n, (double)s.frame.size / (double)s.n, s.frame.size);
	printf("  outbox batches:    %7.1f bytes/record packed, %6.1f after gzip (%zu batches)\n",
	       (double)s.cut_raw / (double)s.n, (double)s.cut_gz / (double)s.n, s.cut_batches);
	printf("  vigil watch --json %7.1f bytes/record, for comparison\n",
	       (double)s.json_bytes / (double)s.n);
	fwd_batch_free(&s.all);
	fwd_batch_free(&s.cut);
	msgpack_sbuffer_destroy(&s.frame);
	buf_free(&s.json);
	proctab_free(s.t);
	rmdir(empty);
	return 0;
}
