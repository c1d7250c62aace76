/*
 * tpfloor.c: attaches tpfloor.bpf.o's empty syscall programs and holds
 * them until SIGINT or SIGTERM. Prints "attached" once they are in place.
 *   tpfloor OBJECT
 */
#include <bpf/libbpf.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct bpf_link *links[2] = {0};
	int n = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: tpfloor OBJECT\n");
		return 2;
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "tpfloor: cannot load %s\n", argv[1]);
		return 1;
	}
	bpf_object__for_each_program(prog, obj) {
		if (n == 2 || !(links[n] = bpf_program__attach(prog))) {
			fprintf(stderr, "tpfloor: cannot attach %s\n", bpf_program__name(prog));
			return 1;
		}
		n++;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("attached\n");
	fflush(stdout);
	while (!stop)
		pause();
	for (int i = 0; i < n; i++)
		bpf_link__destroy(links[i]);
	bpf_object__close(obj);
	return 0;
}
