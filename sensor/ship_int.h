/* ship_int.h: what the ship_*.c files share beyond ship.h. */
#ifndef VIGIL_SHIP_INT_H
#define VIGIL_SHIP_INT_H

#include "ship.h"

/* A process and its parents as the JSON output names them (process_obj in
 * watchfmt.c): at most 4 levels above the depth the chain starts at. The
 * strings are copies: the process table may move its entries. A chain
 * points into itself, so it stays where it was filled. */
#define SHIP_ANCESTORS 4
#define SHIP_CHAIN (SHIP_ANCESTORS + 1)
struct ship_chain {
	struct ocsf_process p[SHIP_CHAIN];
	char comm[SHIP_CHAIN][EV_COMM_LEN + 1];
	char *own[2 * SHIP_CHAIN];
	size_t n, nown;
};
void ship_chain_fill(struct ship_chain *c, struct vg_proctab *t, const struct vg_event *ev,
		     uint32_t pid, int depth);
void ship_chain_free(struct ship_chain *c);

struct ship_actor {
	struct ship_chain chain;
	struct ocsf_actor a;		/* points into chain and the strings below */
	char *cgroup;
	char container[65];
};

/* A uid_t from an event: (uint32_t)-1 is "not known". */
static inline int64_t ship_id(uint32_t id)
{
	return id == (uint32_t)-1 ? OCSF_NOID : (int64_t)id;
}

int ship_ocsf_err(struct vg_err *err, const char *what, const struct ocsf_err *oe);

#endif
