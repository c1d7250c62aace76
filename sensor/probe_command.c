/*
 * probe_command.c: the `command` rule. A baseline is data, and running a
 * program from it is a privilege: the rule is off unless the configuration
 * turns it on, runs on the live host only, execs an absolute path with no
 * shell, with stdin and stderr on /dev/null, and is killed at its timeout.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vigil.h"

#define COMMAND_OUTPUT_MAX (64u << 10)

struct command_arg {
	struct vg_strv argv;
	long long timeout, exit;
	struct vg_expect out;
};

static const struct yp_field command_fields[] = {
	{"argv", YP_STRV, offsetof(struct command_arg, argv), true, NULL},
	{"timeout", YP_INT, offsetof(struct command_arg, timeout), false, NULL},
	{"exit", YP_INT, offsetof(struct command_arg, exit), false, NULL},
	{"stdout", YP_EXPECT, offsetof(struct command_arg, out), false, NULL},
	{0},
};

static void command_init(void *p)
{
	struct command_arg *a = p;

	a->timeout = 0;
	a->exit = 0;
}

static int command_check(void *p, struct vg_yctx *y, yaml_node_t *map, struct vg_err *err)
{
	struct command_arg *a = p;

	if (a->argv.v[0][0] != '/')
		return vg_errf(err, "%s:%d: command argv[0] must be an absolute path (no PATH "
			       "search, no shell)", y->file, yline(map));
	if (a->timeout < 0 || a->timeout > 3600)
		return vg_errf(err, "%s:%d: timeout must be 1..3600 seconds", y->file, yline(map));
	if (a->exit < 0 || a->exit > 255)
		return vg_errf(err, "%s:%d: exit must be 0..255", y->file, yline(map));
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void child(const struct command_arg *a, int out)
{
	int null = open("/dev/null", O_RDWR);
	char **argv = xcalloc(a->argv.n + 1, sizeof(*argv));

	if (null < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(null, 2) < 0)
		_exit(127);
	closefrom(3);
	/* `vigil run` blocks SIGTERM, SIGINT and SIGHUP in every thread (its
	 * loop reads them from a signalfd) and ignores SIGPIPE; the mask and
	 * an ignored signal survive exec. */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	for (size_t i = 0; i < a->argv.n; i++)
		argv[i] = a->argv.v[i];
	execv(argv[0], argv);
	_exit(127);
}

/* Reads the child's output until EOF or the deadline; false on timeout. */
static bool collect(int fd, long long deadline, struct vg_buf *out)
{
	char chunk[4096];

	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		long long left = deadline - now_ms();
		ssize_t n;

		if (left <= 0)
			return false;
		if (poll(&pfd, 1, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		if (!pfd.revents)
			continue;
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return true;
		if (out->len < COMMAND_OUTPUT_MAX)
			buf_put(out, chunk, (size_t)n);
	}
}

static enum vg_status command_eval(const void *p, struct vg_ctx *ctx, struct vg_ev *ev)
{
	const struct command_arg *a = p;
	long long limit = a->timeout ? a->timeout : ctx->cfg->command_timeout;
	struct vg_buf out = {0};
	enum vg_status st;
	int fds[2], status;
	pid_t pid;

	if (!ctx->cfg->allow_commands) {
		ev_add(ev, "%s: command rules are off (checks.allow_commands in vigil.yaml)",
		       a->argv.v[0]);
		return VG_NA;
	}
	if (!ctx->root.live) {
		ev_add(ev, "%s: command rules run on the live host only", a->argv.v[0]);
		return VG_NA;
	}
	if (limit > ctx->cfg->command_timeout)
		limit = ctx->cfg->command_timeout;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		ev_add(ev, "pipe: %s", strerror(errno));
		return VG_ERROR;
	}
	pid = fork();
	if (pid < 0) {
		ev_add(ev, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return VG_ERROR;
	}
	if (pid == 0)
		child(a, fds[1]);
	close(fds[1]);
	bool done = collect(fds[0], now_ms() + limit * 1000, &out);
	close(fds[0]);
	if (!done)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	buf_put(&out, "", 0);
	if (!done) {
		ev_add(ev, "%s: killed after %lld s", a->argv.v[0], limit);
		st = VG_ERROR;
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
		ev_add(ev, "%s: could not be run", a->argv.v[0]);
		st = VG_ERROR;
	} else if (!WIFEXITED(status) || WEXITSTATUS(status) != a->exit) {
		ev_add(ev, "%s: exit %d, expected %lld", a->argv.v[0],
		       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), a->exit);
		st = VG_FAILED;
	} else if (a->out.set) {
		st = expect_eval(&a->out, str_trim(out.p), "output", ev);
	} else {
		ev_add(ev, "%s: exit %lld", a->argv.v[0], a->exit);
		st = VG_PASSED;
	}
	buf_free(&out);
	return st;
}

const struct vg_probe probe_command = {
	.name = "command",
	.argsize = sizeof(struct command_arg),
	.fields = command_fields,
	.init = command_init,
	.check = command_check,
	.eval = command_eval,
};
