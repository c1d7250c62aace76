/*
 * fileloop.c: the load for the event benchmarks.
 *   fileloop write DIR N   open(O_WRONLY|O_CREAT|O_TRUNC) + write 64 B + close, N times
 *   fileloop chmod DIR N   chmod of one file, N times (one event each)
 * Prints "ns_per_op=X ops=N" on stdout.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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
	double t0;

	if (argc != 4 || (n = atol(argv[3])) <= 0) {
		fprintf(stderr, "usage: fileloop write|chmod DIR N\n");
		return 2;
	}
	memset(data, 'x', sizeof(data));
	if (!strcmp(argv[1], "write")) {
		t0 = now();
		for (long i = 0; i < n; i++) {
			snprintf(path, sizeof(path), "%s/f%ld", argv[2], i & 63);
			int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
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
		t0 = now();
		for (long i = 0; i < n; i++)
			if (chmod(path, (i & 1) ? 0600 : 0644) < 0)
				return perror(path), 1;
	} else {
		fprintf(stderr, "fileloop: unknown load '%s'\n", argv[1]);
		return 2;
	}
	printf("ns_per_op=%.1f ops=%ld\n", (now() - t0) / (double)n, n);
	return 0;
}
