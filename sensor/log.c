/* log.c: messages for a person, on stderr. */
#include <stdio.h>

#include "vigil.h"

static enum vg_loglevel log_level = VG_LOG_WARN;

void log_set_level(enum vg_loglevel lvl)
{
	log_level = lvl;
}

void log_msg(enum vg_loglevel lvl, const char *fmt, ...)
{
	static const char *const tag[] = {"error", "warning", "info", "debug"};
	va_list ap;

	if (lvl > log_level)
		return;
	fprintf(stderr, "vigil: %s: ", tag[lvl]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
