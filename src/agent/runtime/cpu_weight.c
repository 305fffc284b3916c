/* A container's share of the CPU when the machine is busy, as the kubelet gives it: cpu.shares
 * from its CPU request (jp_cpu_shares, in spawn.c), and BestEffort's 2 without one.
 *
 * Without a cgroup per pod the weight goes to the container's session: with the kernel's
 * autogroups on (sched_autogroup_enabled), every new session is a scheduling group of its own,
 * weighted like a task of its autogroup's nice level. A container's setsid() would otherwise
 * give each pod the full weight of the server, and a hundred starting `true` pods left the
 * server's loop - which starts and finishes them - waiting for a CPU a third of the time
 * (bench/jobs). The weight is capped at the node's own (nice 0), as kubepods as a whole is
 * bounded by what the node reserves for itself. The nice level a process reports stays 0. */
#include "agent/shim.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

/* The scheduler's weight of nice levels 0..19 (kernel/sched/core.c sched_prio_to_weight). */
static const int nice_weight[20] = {1024, 820, 655, 526, 423, 335, 272, 215, 172, 137,
                                    110,  87,  70,  56,  45,  36,  29,  23,  18,  15};

void jp_cpu_weigh_session(int64_t shares)
{
    if (shares <= 0) return;
    int nice = 0;
    while (nice < 19 && shares * shares < (int64_t)nice_weight[nice] * nice_weight[nice + 1])
        nice++;            /* the nearest level on a log scale: below the geometric mean, go down */
    if (nice == 0) return; /* the weight a new session has anyway */
    int fd = open("/proc/self/autogroup", O_WRONLY | O_CLOEXEC);
    if (fd < 0) return; /* no autogroups: the session is not a group of its own either */
    char text[8];
    int n = snprintf(text, sizeof(text), "%d", nice);
    ssize_t w = write(fd, text, (size_t)n); /* EAGAIN when rate-limited (not root): let be */
    (void)w;
    close(fd);
}
