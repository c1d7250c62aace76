/* log.c: one line per event on stderr, the journal's way under systemd. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "collector.h"
#include "sdnotify.h"

static enum clog_level level = CLOG_INFO;

int cerrf(struct cerr *err, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -1;
}

void clog_set_level(enum clog_level l)
{
	level = l;
}

enum clog_level clog_get_level(void)
{
	return level;
}

int clog_level_parse(const char *s, enum clog_level *l)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};

	for (int i = 0; i <= CLOG_DEBUG; i++)
		if (!strcmp(s, names[i])) {
			*l = (enum clog_level)i;
			return 0;
		}
	if (!strcmp(s, "warn")) {
		*l = CLOG_WARN;
		return 0;
	}
	return -1;
}

void clog_msg(enum clog_level l, const char *fmt, ...)
{
	static const char *const tag[] = {"error", "warning", "info", "debug"};
	static const int prio[] = {3, 4, 6, 7};
	char msg[1024], line[4200];
	size_t n = 0;
	va_list ap;

	if (l > level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (sdn_journal_stderr())
		n += (size_t)snprintf(line, sizeof(line), "<%d>", prio[l]);
	n += (size_t)snprintf(line + n, sizeof(line) - n, "vigil-collector: %s: ", tag[l]);
	/* A peer's bytes never break the line or the terminal. */
	for (const unsigned char *p = (const unsigned char *)msg; *p && n + 5 < sizeof(line); p++) {
		if (*p >= 0x20 && *p < 0x7f)
			line[n++] = (char)*p;
		else
			n += (size_t)snprintf(line + n, sizeof(line) - n, "\\x%02x", *p);
	}
	line[n++] = '\n';
	fwrite(line, 1, n, stderr);
	fflush(stderr);
}
