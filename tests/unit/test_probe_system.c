/* test_probe_system.c: sysctl, kmod, mount, pam and command rules. */
#include <string.h>
#include <sys/utsname.h>

#include "testutil.h"

static void sysctl_persisted_order(void **state)
{
	char *r = tu_mkroot();
	struct tu_run t;

	(void)state;
	/* 99 sorts after 10; /etc hides /usr/lib's file of the same name;
	 * /etc/sysctl.conf is read last. */
	tu_write(r, "/usr/lib/sysctl.d/50-default.conf", "net.ipv4.ip_forward = 1\nkernel.x = 5\n", 0644);
	tu_write(r, "/etc/sysctl.d/50-default.conf", "kernel.x = 1\n", 0644);
	tu_write(r, "/etc/sysctl.d/10-a.conf", "net/ipv4/ip_forward=1\nnet.ipv4.tcp_rmem = 4096\t87380   6291456\n", 0644);
	tu_write(r, "/etc/sysctl.d/99-z.conf", "-net.ipv4.ip_forward = 0\n", 0644);
	tu_write(r, "/etc/sysctl.conf", "kernel.randomize_va_space = 1\n", 0644);
	tu_run(&t, r, TU_HEAD
	       "  - {id: forward, title: t, all: [{sysctl: {key: net.ipv4.ip_forward, expect: {equals: '0'}}}]}\n"
	       "  - {id: hidden, title: t, all: [{sysctl: {key: kernel.x, expect: {equals: '1'}}}]}\n"
	       "  - {id: aslr, title: t, all: [{sysctl: {key: kernel.randomize_va_space, expect: {equals: '2'}}}]}\n"
	       "  - {id: spaces, title: t, all: [{sysctl: {key: net.ipv4.tcp_rmem, expect: {equals: '4096 87380 6291456'}}}]}\n"
	       "  - {id: unset, title: t, all: [{sysctl: {key: net.ipv4.conf.all.log_martians, expect: {equals: '1'}}}]}\n"
	       "  - {id: runtime-offline, title: t, all: [{sysctl: {key: kernel.randomize_va_space, source: runtime, expect: {equals: '2'}}}]}\n");
	assert_status(&t, "forward", VG_PASSED);
	assert_non_null(strstr(tu_evidence(&t, "forward"), "99-z.conf:1"));
	assert_status(&t, "hidden", VG_PASSED);
	assert_status(&t, "aslr", VG_FAILED);
	assert_status(&t, "spaces", VG_PASSED);
	assert_status(&t, "unset", VG_FAILED);
	assert_status(&t, "runtime-offline", VG_NA);
	tu_done(&t);

	/* Globs apply where nothing names the key itself; "-key" opts out. */
	tu_write(r, "/usr/lib/sysctl.d/50-rp.conf",
		 "net.ipv4.conf.*.rp_filter = 2\nnet.ipv4.conf.all.accept_redirects = 0\n"
		 "net.ipv4.conf.*.accept_redirects = 1\n-net.ipv4.conf.lo.rp_filter\n", 0644);
	tu_write(r, "/etc/sysctl.d/60-rp.conf", "net.ipv4.conf.all.rp_filter = 1\n", 0644);
	tu_run(&t, r, TU_HEAD
	       "  - {id: glob, title: t, all: [{sysctl: {key: net.ipv4.conf.default.rp_filter, expect: {equals: '1'}}}]}\n"
	       "  - {id: explicit, title: t, all: [{sysctl: {key: net.ipv4.conf.all.rp_filter, expect: {equals: '1'}}}]}\n"
	       "  - {id: explicit-before-glob, title: t, all: [{sysctl: {key: net.ipv4.conf.all.accept_redirects, expect: {equals: '0'}}}]}\n"
	       "  - {id: excluded, title: t, all: [{sysctl: {key: net.ipv4.conf.lo.rp_filter, expect: {equals: '1', absent: passed}}}]}\n"
	       "  - {id: one-component, title: t, all: [{sysctl: {key: net.ipv4.conf.a.b.rp_filter, expect: {equals: '1', absent: passed}}}]}\n");
	assert_status(&t, "glob", VG_FAILED);
	assert_non_null(strstr(tu_evidence(&t, "glob"), "50-rp.conf:1: net.ipv4.conf.default.rp_filter (by net.ipv4.conf.*.rp_filter)"));
	assert_status(&t, "explicit", VG_PASSED);
	assert_status(&t, "explicit-before-glob", VG_PASSED);
	assert_status(&t, "excluded", VG_PASSED);
	assert_status(&t, "one-component", VG_PASSED);
	tu_done(&t);
	tu_rmroot(r);
}

static void sysctl_runtime_live(void **state)
{
	struct tu_run t;
	char *buf;
	struct vg_root r;
	struct vg_err err;

	(void)state;
	assert_int_equal(root_init(&r, "/", &err), 0);
	assert_true(r.live);
	assert_int_equal(root_read(&r, "/proc/sys/kernel/randomize_va_space", 64, &buf, NULL), 0);
	char *want = xasprintf(TU_HEAD
		"  - {id: same, title: t, all: [{sysctl: {key: kernel.randomize_va_space, source: runtime, expect: {equals: '%s'}}}]}\n"
		"  - {id: other, title: t, all: [{sysctl: {key: kernel.randomize_va_space, source: runtime, expect: {equals: '7'}}}]}\n"
		"  - {id: nokey, title: t, all: [{sysctl: {key: no.such.key, source: runtime, expect: {equals: '1'}}}]}\n",
		str_trim(buf));
	tu_run(&t, "/", want);
	assert_status(&t, "same", VG_PASSED);
	assert_status(&t, "other", VG_FAILED);
	assert_status(&t, "nokey", VG_NA);
	tu_done(&t);
	free(want);
	free(buf);
	root_fini(&r);
}

static void kmod_rules(void **state)
{
	char *r = tu_mkroot();
	struct tu_run t;

	(void)state;
	tu_write(r, "/lib/modules/6.1.0-test/kernel/fs/cramfs/cramfs.ko.xz", "", 0644);
	tu_write(r, "/lib/modules/6.1.0-test/kernel/fs/udf/udf.ko", "", 0644);
	tu_write(r, "/lib/modules/6.1.0-test/kernel/fs/hfs/hfs.ko", "", 0644);
	tu_write(r, "/lib/modules/6.1.0-test/kernel/drivers/usb/usb-storage.ko", "", 0644);
	tu_write(r, "/etc/modprobe.d/cramfs.conf", "install cramfs /bin/false\nblacklist cramfs\n", 0644);
	tu_write(r, "/etc/modprobe.d/udf.conf", "install udf /bin/true\n", 0644);
	tu_write(r, "/etc/modprobe.d/usb.conf", "install usb_storage /bin/false\nblacklist usb-storage\n", 0644);
	tu_run(&t, r, TU_HEAD
	       "  - {id: cramfs, title: t, all: [{kmod: {name: cramfs, loadable: false}}]}\n"
	       "  - {id: udf-needs-blacklist, title: t, all: [{kmod: {name: udf, loadable: false}}]}\n"
	       "  - {id: udf-install-only, title: t, all: [{kmod: {name: udf, loadable: false, blacklist: false}}]}\n"
	       "  - {id: hfs, title: t, all: [{kmod: {name: hfs, loadable: false}}]}\n"
	       "  - {id: absent-module, title: t, all: [{kmod: {name: jffs2, loadable: false}}]}\n"
	       "  - {id: dash-underscore, title: t, all: [{kmod: {name: usb-storage, loadable: false}}]}\n"
	       "  - {id: loaded-offline, title: t, all: [{kmod: {name: hfs, loaded: false}}]}\n");
	assert_status(&t, "cramfs", VG_PASSED);
	assert_status(&t, "udf-needs-blacklist", VG_FAILED);
	assert_status(&t, "udf-install-only", VG_PASSED);
	assert_status(&t, "hfs", VG_FAILED);
	assert_status(&t, "absent-module", VG_PASSED);
	assert_status(&t, "dash-underscore", VG_PASSED);
	assert_status(&t, "loaded-offline", VG_NA);
	tu_done(&t);

	/* modules.dep, when depmod wrote one, is the list; builtins are always loadable. */
	tu_write(r, "/lib/modules/6.1.0-test/modules.dep", "kernel/fs/squashfs/squashfs.ko.xz:\n", 0644);
	tu_write(r, "/lib/modules/6.1.0-test/modules.builtin", "kernel/fs/vfat/vfat.ko\n", 0644);
	tu_write(r, "/etc/modprobe.d/vfat.conf", "install vfat /bin/false\nblacklist vfat\n", 0644);
	tu_run(&t, r, TU_HEAD
	       "  - {id: squashfs, title: t, all: [{kmod: {name: squashfs, loadable: false}}]}\n"
	       "  - {id: builtin, title: t, all: [{kmod: {name: vfat, loadable: false}}]}\n");
	assert_status(&t, "squashfs", VG_FAILED);
	assert_status(&t, "builtin", VG_FAILED);
	assert_non_null(strstr(tu_evidence(&t, "builtin"), "built into"));
	tu_done(&t);
	tu_rmroot(r);
}

static void kmod_loaded_live(void **state)
{
	struct tu_run t;

	(void)state;
	tu_run(&t, "/", TU_HEAD
	       "  - {id: fake, title: t, all: [{kmod: {name: vigil_no_such_module, loaded: false}}]}\n");
	assert_status(&t, "fake", VG_PASSED);
	tu_done(&t);
}

static void mount_rules(void **state)
{
	char *r = tu_mkroot();
	struct tu_run t;

	(void)state;
	tu_write(r, "/etc/fstab",
		 "# <fs> <dir> <type> <options>\n"
		 "UUID=1 / ext4 errors=remount-ro 0 1\n"
		 "UUID=2 /home ext4 defaults,nodev 0 2\n"
		 "UUID=3 /var/tmp/ ext4 nodev,nosuid,noexec 0 2\n"
		 "UUID=4 none swap sw 0 0\n"
		 "UUID=5 /mnt/with\\040space ext4 nodev 0 2\n", 0644);
	tu_write(r, "/etc/systemd/system/tmp.mount",
		 "[Unit]\nDescription=Temporary Directory\n[Mount]\nWhat=tmpfs\nWhere=/tmp\n"
		 "Type=tmpfs\nOptions=mode=1777,strictatime,nosuid,nodev\n", 0644);
	tu_symlink(r, "../tmp.mount", "/etc/systemd/system/local-fs.target.wants/tmp.mount");
	tu_run(&t, r, TU_HEAD
	       "  - {id: home-sep, title: t, all: [{mount: {path: /home, mounted: true}}]}\n"
	       "  - {id: home-nodev, title: t, all: [{mount: {path: /home, options: [nodev]}}]}\n"
	       "  - {id: home-nosuid, title: t, all: [{mount: {path: /home, options: [nosuid]}}]}\n"
	       "  - {id: vartmp, title: t, all: [{mount: {path: /var/tmp, options: [nodev, nosuid, noexec]}}]}\n"
	       "  - {id: tmp-unit, title: t, all: [{mount: {path: /tmp, options: [nodev, nosuid]}}]}\n"
	       "  - {id: tmp-noexec, title: t, all: [{mount: {path: /tmp, options: [noexec]}}]}\n"
	       "  - {id: var-sep, title: t, all: [{mount: {path: /var, mounted: true}}]}\n"
	       "  - {id: var-opt-na, title: t, all: [{mount: {path: /var, options: [nodev], if_not_mounted: not_applicable}}]}\n"
	       "  - {id: space, title: t, all: [{mount: {path: '/mnt/with space', options: [nodev]}}]}\n");
	assert_status(&t, "home-sep", VG_PASSED);
	assert_status(&t, "home-nodev", VG_PASSED);
	assert_status(&t, "home-nosuid", VG_FAILED);
	assert_status(&t, "vartmp", VG_PASSED);
	assert_status(&t, "tmp-unit", VG_PASSED);
	assert_status(&t, "tmp-noexec", VG_FAILED);
	assert_status(&t, "var-sep", VG_FAILED);
	assert_status(&t, "var-opt-na", VG_NA);
	assert_status(&t, "space", VG_PASSED);
	tu_done(&t);
	tu_rmroot(r);
}

static void mount_live(void **state)
{
	struct tu_run t;

	(void)state;
	/* /proc is its own mount on every running Linux system. */
	tu_run(&t, "/", TU_HEAD
	       "  - {id: proc, title: t, all: [{mount: {path: /proc, mounted: true, source: runtime}}]}\n"
	       "  - {id: nomount, title: t, all: [{mount: {path: /vigil-not-a-mount, mounted: true, source: runtime}}]}\n");
	assert_status(&t, "proc", VG_PASSED);
	assert_status(&t, "nomount", VG_FAILED);
	tu_done(&t);
}

static void pam_rules(void **state)
{
	char *r = tu_mkroot();
	struct tu_run t;

	(void)state;
	tu_write(r, "/etc/pam.d/common-password",
		 "password requisite pam_pwquality.so retry=3 minlen=8\n"
		 "password [success=1 default=ignore] pam_unix.so obscure use_authtok try_first_pass yescrypt\n"
		 "password requisite pam_deny.so\n", 0644);
	tu_write(r, "/etc/pam.d/common-auth",
		 "auth [success=1 default=ignore] pam_unix.so nullok\nauth requisite pam_deny.so\n", 0644);
	tu_write(r, "/etc/pam.d/su", "auth sufficient pam_rootok.so\n@include common-auth\n", 0644);
	tu_write(r, "/etc/pam.d/sshd", "auth include common-auth\n-session optional pam_systemd.so\n", 0644);
	tu_run(&t, r, TU_HEAD
	       "  - {id: pwq, title: t, all: [{pam: {service: common-password, type: password, module: pam_pwquality.so, args: {retry: {max: 3}}}}]}\n"
	       "  - {id: unix-hash, title: t, all: [{pam: {service: common-password, type: password, module: pam_unix.so, args: {yescrypt: {equals: ''}}}}]}\n"
	       "  - {id: history, title: t, all: [{pam: {service: common-password, type: password, module: pam_pwhistory.so, args: {remember: {min: 24}}}}]}\n"
	       "  - {id: nullok, title: t, all: [{pam: {service: common-auth, type: auth, module: pam_unix.so, args_absent: [nullok]}}]}\n"
	       "  - {id: via-include, title: t, all: [{pam: {service: su, type: auth, module: pam_unix.so}}]}\n"
	       "  - {id: via-type-include, title: t, all: [{pam: {service: sshd, type: auth, module: pam_unix.so}}]}\n"
	       "  - {id: wheel, title: t, all: [{pam: {service: su, type: auth, module: pam_wheel.so}}]}\n"
	       "  - {id: no-wheel-ok, title: t, all: [{pam: {service: su, type: auth, module: pam_wheel.so, present: false}}]}\n"
	       "  - {id: dash-type, title: t, all: [{pam: {service: sshd, type: session, module: pam_systemd.so}}]}\n"
	       "  - {id: missing-arg, title: t, all: [{pam: {service: common-password, type: password, module: pam_pwquality.so, args: {enforce_for_root: {equals: ''}}}}]}\n");
	assert_status(&t, "pwq", VG_PASSED);
	assert_status(&t, "unix-hash", VG_PASSED);
	assert_status(&t, "history", VG_FAILED);
	assert_status(&t, "nullok", VG_FAILED);
	assert_status(&t, "via-include", VG_PASSED);
	assert_non_null(strstr(tu_evidence(&t, "via-include"), "common-auth:1"));
	assert_status(&t, "via-type-include", VG_PASSED);
	assert_status(&t, "wheel", VG_FAILED);
	assert_status(&t, "no-wheel-ok", VG_PASSED);
	assert_status(&t, "dash-type", VG_PASSED);
	assert_status(&t, "missing-arg", VG_FAILED);
	tu_done(&t);
	tu_rmroot(r);
}

static void command_rule(void **state)
{
	struct tu_run t;
	const char *y = TU_HEAD
		"  - {id: true, title: t, all: [{command: {argv: [/bin/true]}}]}\n"
		"  - {id: false, title: t, all: [{command: {argv: [/bin/false]}}]}\n"
		"  - {id: echo, title: t, all: [{command: {argv: [/bin/echo, 'a;b', '$(id)'], stdout: {equals: 'a;b $(id)'}}}]}\n"
		"  - {id: slow, title: t, all: [{command: {argv: [/bin/sleep, '30'], timeout: 1}}]}\n"
		"  - {id: missing, title: t, all: [{command: {argv: [/nonexistent/program]}}]}\n";

	(void)state;
	/* Off by default: nothing runs. */
	tu_run(&t, "/", y);
	assert_status(&t, "true", VG_NA);
	assert_non_null(strstr(tu_evidence(&t, "true"), "allow_commands"));
	tu_done(&t);

	memset(&t, 0, sizeof(t));
	struct vg_config cfg;
	struct vg_err err;
	struct vg_filter f = {.min_severity = -1};
	config_defaults(&cfg);
	cfg.allow_commands = true;
	assert_int_equal(baseline_load_mem(&t.b, "c.yaml", y, strlen(y), &err), 0);
	assert_int_equal(ctx_init(&t.ctx, "/", &cfg, &err), 0);
	t.res = xcalloc(t.b.nchecks, sizeof(*t.res));
	assert_int_equal(engine_run(&t.b, &t.ctx, &f, t.res, &t.sum, &err), 0);
	assert_status(&t, "true", VG_PASSED);
	assert_status(&t, "false", VG_FAILED);
	assert_status(&t, "echo", VG_PASSED);	/* no shell: metacharacters stay text */
	assert_status(&t, "slow", VG_ERROR);
	assert_non_null(strstr(tu_evidence(&t, "slow"), "killed after 1 s"));
	assert_status(&t, "missing", VG_ERROR);
	results_free(t.res, t.b.nchecks);
	free(t.res);
	ctx_fini(&t.ctx);
	baseline_free(&t.b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sysctl_persisted_order),
		cmocka_unit_test(sysctl_runtime_live),
		cmocka_unit_test(kmod_rules),
		cmocka_unit_test(kmod_loaded_live),
		cmocka_unit_test(mount_rules),
		cmocka_unit_test(mount_live),
		cmocka_unit_test(pam_rules),
		cmocka_unit_test(command_rule),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
