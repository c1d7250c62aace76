/*
 * sdnotify.h: what both daemons say to systemd, and whether their stderr
 * is the journal (prefix sdn_, library vigilproto).
 *
 * By hand, not libsystemd: one datagram to $NOTIFY_SOCKET is a few lines,
 * and libsystemd would be one more dependency on every install, including
 * those without systemd. No state: every call reads the environment.
 */
#ifndef VIGIL_SDNOTIFY_H
#define VIGIL_SDNOTIFY_H

#include <stdbool.h>
#include <stdint.h>

/* Sends "READY=1", "WATCHDOG=1", "STATUS=..." (printf-formatted, at most
 * 511 bytes) to $NOTIFY_SOCKET (a path, or "@name" for an abstract
 * socket). 1 sent; 0 no usable $NOTIFY_SOCKET (not under Type=notify);
 * -1 the send failed (errno says). */
int sdn_notify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The watchdog interval systemd asked of this process, in ms (at least 1
 * when one was asked); 0 when none, or when $WATCHDOG_PID names another
 * process, or $WATCHDOG_USEC is not a positive whole number. */
uint64_t sdn_watchdog_ms(void);

/* Whether stderr is still the stream systemd connected to the journal
 * ($JOURNAL_STREAM is its "dev:ino"): then each line may begin with its
 * syslog priority ("<4>"), which journald takes as the line's level. */
bool sdn_journal_stderr(void);

#endif
