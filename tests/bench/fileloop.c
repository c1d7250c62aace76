/*
 * fileloop.c: the load for the event benchmarks.
 *   fileloop write DIR N   open(O_WRONLY|O_CREAT) + write 64 B + close, N times: a
 *                          file rewritten in place, as an editor or a daemon does
 *   fileloop trunc DIR N   the same with O_TRUNC (ext4 then starts writeback at
 *                          each close, so the disk sets the pace)
 *   fileloop spread DIR N  the same as write over N files, each written once
 *                          (a package upgrade, a configuration push): no file
 *                          is busy, so nothing is coalesced
 *   fileloop chmod DIR N   chmod of one file, N times (one event each)
 * Prints "ns_per_op=X cpu_ns_per_op=Y ops=N" on stdout: wall time, and the
 * CPU time (user + system) the loop's own thread spent, which is where
 * tracepoint programs run and which other load on the machine moves less.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double cpu_now(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec) * 1e9 +
	       ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) * 1e3;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	char path[4096], data[64];
	long n;
	double t0, c0 = 0;

	if (argc != 4 || (n = atol(argv[3])) <= 0) {
		fprintf(stderr, "usage: fileloop write|trunc|spread|chmod DIR N\n");
		return 2;
	}
	memset(data, 'x', sizeof(data));
	if (!strcmp(argv[1], "write") || !strcmp(argv[1], "trunc") || !strcmp(argv[1], "spread")) {
		int flags = O_WRONLY | O_CREAT | (argv[1][0] == 't' ? O_TRUNC : 0);
		long files = argv[1][0] == 's' ? n : 64;
		c0 = cpu_now();
		t0 = now();
		for (long i = 0; i < n; i++) {
			snprintf(path, sizeof(path), "%s/f%ld", argv[2], i % files);
			int fd = open(path, flags, 0644);
			if (fd < 0 || write(fd, data, sizeof(data)) != (ssize_t)sizeof(data)) {
				perror(path);
				return 1;
			}
			close(fd);
		}
	} else if (!strcmp(argv[1], "chmod")) {
		snprintf(path, sizeof(path), "%s/chmod-target", argv[2]);
		int fd = open(path, O_WRONLY | O_CREAT, 0644);
		if (fd < 0)
			return perror(path), 1;
		close(fd);
		c0 = cpu_now();
		t0 = now();
		for (long i = 0; i < n; i++)
			if (chmod(path, (i & 1) ? 0600 : 0644) < 0)
				return perror(path), 1;
	} else {
		fprintf(stderr, "fileloop: unknown load '%s'\n", argv[1]);
		return 2;
	}
	double wall = now() - t0, cpu = cpu_now() - c0;
	printf("ns_per_op=%.1f cpu_ns_per_op=%.1f ops=%ld\n", wall / (double)n, cpu / (double)n, n);
	return 0;
}
