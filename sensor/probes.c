/* probes.c: the rule types a baseline may use, by name. */
#include <string.h>

#include "vigil.h"

extern const struct vg_probe probe_file, probe_line, probe_conf, probe_sysctl, probe_kmod,
	probe_mount, probe_package, probe_service, probe_accounts, probe_fs_search,
	probe_listening, probe_pam, probe_command;

static const struct vg_probe *const probes[] = {
	&probe_file,	&probe_line,	 &probe_conf,	   &probe_sysctl,    &probe_kmod,
	&probe_mount,	&probe_package,	 &probe_service,   &probe_accounts,  &probe_fs_search,
	&probe_listening, &probe_pam,	 &probe_command,
};

const struct vg_probe *probe_find(const char *name)
{
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
		if (!strcmp(probes[i]->name, name))
			return probes[i];
	return NULL;
}
