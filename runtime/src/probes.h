/*
 * probes.h - USDT probes (provider `tsmap`) where <sys/sdt.h> exists (Debian:
 * systemtap-sdt-dev), for bpftrace, perf and SystemTap. A probe nobody attached is one
 * `nop` in the code and a note in the ELF section .note.stapsdt (readelf -n lists them);
 * its arguments are operands the code already has in registers, never computed for it.
 * Without the header (or with TSMAP_NO_SDT defined) every probe compiles to nothing.
 *
 * The probes and their arguments (docs/observability.md shows bpftrace one-liners):
 *   op_start(map, op)                    every keyed operation, op as enum tsmap_op
 *   op_end(op, status)                   the same operation's end, with its tsmap_status
 *                                        (same thread; no map: it would cost a register)
 *   growth_start(map, shard, old_groups, new_groups)
 *   growth_step(map, shard, moved, old_groups)   after each write's share of a growth
 *   growth_end(map, shard, groups)       the old table is empty and retired
 *   evict(map, reason, key, key_len)     a value handed to on_entry_evicted
 *   reentered(map, key, key_len)         an operation refused with TSMAP_REENTERED
 *   wait_start(map, key, key_len)        compute_if_absent waits for the callback in flight
 *   wait_end(map, key, key_len)
 */
#ifndef TSMAP_PROBES_H
#define TSMAP_PROBES_H

#if !defined(TSMAP_NO_SDT) && defined(__has_include)
#if __has_include(<sys/sdt.h>)
/* Arguments in registers or immediates only: with sdt.h's default ("nor"), clang stores
 * arguments to the stack for the probe (measured: +12 instructions on the 8-byte put). */
#ifndef STAP_SDT_ARG_CONSTRAINT
#define STAP_SDT_ARG_CONSTRAINT nr
#endif
#include <sys/sdt.h>
#define TSMAP_HAVE_SDT 1
#endif
#endif

#ifdef TSMAP_HAVE_SDT
#define TSMAP_PROBE2(name, a, b) DTRACE_PROBE2(tsmap, name, a, b)
#define TSMAP_PROBE3(name, a, b, c) DTRACE_PROBE3(tsmap, name, a, b, c)
#define TSMAP_PROBE4(name, a, b, c, d) DTRACE_PROBE4(tsmap, name, a, b, c, d)
#else
#define TSMAP_HAVE_SDT 0
#define TSMAP_PROBE2(name, a, b) ((void)0)
#define TSMAP_PROBE3(name, a, b, c) ((void)0)
#define TSMAP_PROBE4(name, a, b, c, d) ((void)0)
#endif

#endif /* TSMAP_PROBES_H */
