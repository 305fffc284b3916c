/* Container capabilities, as containerd gives them on Kubernetes: a root container keeps the
 * runtime's default set (CHOWN, DAC_OVERRIDE, FSETID, FOWNER, MKNOD, NET_RAW, SETGID, SETUID,
 * SETFCAP, SETPCAP, NET_BIND_SERVICE, SYS_CHROOT, KILL, AUDIT_WRITE), changed by its
 * securityContext.capabilities; a privileged one keeps them all. Without NET_ADMIN a pod cannot
 * change its network namespace, which is what lets a finished pod's sandbox serve the next one. */
#include "agent/shim.h"

#include <ctype.h>
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* capability(7)'s numbering; a name this kernel does not know is still known here */
static const char *const names[] = {
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
};
enum { KNOWN = sizeof(names) / sizeof(names[0]) };

#define BIT(c) (UINT64_C(1) << (c))
#define ALL    ((UINT64_C(1) << KNOWN) - 1)

const uint64_t JP_CAPS_DEFAULT = BIT(0) | BIT(1) | BIT(3) | BIT(4) | BIT(5) | BIT(6) | BIT(7) |
                                 BIT(8) | BIT(10) | BIT(13) | BIT(18) | BIT(27) | BIT(29) | BIT(31);

/* "NET_ADMIN", "net_admin" or "CAP_NET_ADMIN": its number, or -1 (the runtime ignores a name it
 * does not know, and so do we) */
static int cap_number(const char *name)
{
    if (strncasecmp(name, "CAP_", 4) == 0) name += 4;
    for (int i = 0; i < KNOWN; i++)
        if (strcasecmp(name, names[i]) == 0) return i;
    return -1;
}

static bool has_all(const json_t *list)
{
    size_t i;
    const json_t *v;
    json_array_foreach(list, i, v) if (json_is_string(v) &&
                                       strcasecmp(json_string_value(v), "ALL") == 0) return true;
    return false;
}

static uint64_t named(const json_t *list)
{
    uint64_t m = 0;
    size_t i;
    const json_t *v;
    json_array_foreach(list, i, v)
    {
        int c = json_is_string(v) ? cap_number(json_string_value(v)) : -1;
        if (c >= 0) m |= BIT(c);
    }
    return m;
}

/* containerd's order: ALL added, ALL dropped, then the single names added, then dropped, so
 * that drop [ALL] with add [NET_BIND_SERVICE] leaves exactly that one */
uint64_t jp_caps_for(const json_t *security_context)
{
    if (json_is_true(json_object_get(security_context, "privileged"))) return ALL;
    const json_t *caps = json_object_get(security_context, "capabilities");
    const json_t *add = json_object_get(caps, "add"), *drop = json_object_get(caps, "drop");
    uint64_t m = JP_CAPS_DEFAULT;
    if (has_all(add)) m = ALL;
    if (has_all(drop)) m = 0;
    m |= named(add);
    m &= ~named(drop);
    return m;
}

static int capset_inheritable_none(void)
{
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    if (syscall(SYS_capget, &h, d) < 0) return errno;
    d[0].inheritable = d[1].inheritable = 0;
    return syscall(SYS_capset, &h, d) < 0 ? errno : 0;
}

int jp_caps_limit(uint64_t keep)
{
    /* the bounding set is what an exec'd root process can hold; the effective set stays whole
     * until then (setuid, mounts). Capabilities past this kernel's last end the loop */
    for (int c = 0; c < 64; c++) {
        if (keep & BIT(c)) continue;
        if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0) {
            if (errno == EINVAL) break;
            return errno;
        }
    }
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    return capset_inheritable_none();
}

uint64_t jp_caps_bounding_of(int pid)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    FILE *f = fopen(path, "re");
    uint64_t m = ALL;
    unsigned long long v;
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "CapBnd: %llx", &v) == 1) m = v;
    if (f) fclose(f);
    return m;
}
