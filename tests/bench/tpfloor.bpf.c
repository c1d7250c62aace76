// SPDX-License-Identifier: GPL-2.0
/*
 * tpfloor.bpf.c: empty programs on the syscall tracepoints. What they
 * cost every syscall is the least any sys_enter/sys_exit design can cost
 * (the kernel takes the slow syscall path and calls into BPF twice); the
 * benchmark prints it beside vigil's own cost.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tp_btf/sys_enter")
int BPF_PROG(floor_enter, struct pt_regs *regs, long id)
{
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(floor_exit, struct pt_regs *regs, long ret)
{
	return 0;
}
