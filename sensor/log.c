/* log.c: messages for a person, on stderr, and for the journal under
 * systemd: when JOURNAL_STREAM names our stderr, each line starts with its
 * syslog priority ("<4>"), which journald takes as the line's level. */
#include <stdio.h>

#include "vigil.h"
#include "sdnotify.h"

static enum vg_loglevel log_level = VG_LOG_WARN;

void log_set_level(enum vg_loglevel lvl)
{
	log_level = lvl;
}

void log_msg(enum vg_loglevel lvl, const char *fmt, ...)
{
	static const char *const tag[] = {"error", "warning", "info", "debug"};
	static const int prio[] = {3, 4, 6, 7};
	char line[2048];
	int n = 0, m;
	va_list ap;

	if (lvl > log_level)
		return;
	if (sdn_journal_stderr())
		n = snprintf(line, sizeof(line), "<%d>", prio[lvl]);
	n += snprintf(line + n, sizeof(line) - (size_t)n, "vigil: %s: ", tag[lvl]);
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	/* One write per line: threads log too, and a line must not be split
	 * (the journal takes a level per line). A longer one is cut. */
	n = m < 0 ? n : n + m >= (int)sizeof(line) - 1 ? (int)sizeof(line) - 2 : n + m;
	line[n++] = '\n';
	fwrite(line, 1, (size_t)n, stderr);
}
