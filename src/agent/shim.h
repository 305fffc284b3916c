/* The per-container monitor ("jobplane shim DIR"): started by the agent for every container
 * attempt, it starts the container from DIR/spec.json, writes its output to DIR/log in the CRI
 * log format, and records how it ended in DIR/exit.json. It outlives a crash or restart of the
 * server, which re-adopts running shims from their DIR/state.json. See docs/internals/agent.md
 * for the files. */
#ifndef JP_AGENT_SHIM_H
#define JP_AGENT_SHIM_H

#include "base/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define JP_SHIM_SPEC    "spec.json"
#define JP_SHIM_STATE   "state.json"
#define JP_SHIM_EXIT    "exit.json"
#define JP_SHIM_LOG     "log"
#define JP_SHIM_LOG_MAX (10u << 20) /* per file; one rotated file is kept */
/* The pod's hosts file in its run directory: hosts.c writes it, over /etc/hosts it goes */
#define JP_POD_HOSTS "hosts"

/* What the agent asks for. */
struct jp_shim_spec {
    char **argv; /* argv[0]: a path, or a name looked up in the container's PATH */
    char *path;  /* what to execute instead of argv[0] (a built-in image's binary), or NULL */
    char **env;  /* "K=V" */
    char *cwd;
    char *netns;    /* a path to join (e.g. /proc/PID/ns/net), or NULL */
    char *hostname; /* with netns: the name its UTS namespace (next to it) gets, or NULL */
    char *hosts;    /* a file to bind over /etc/hosts in a mount namespace of its own, or NULL */
    char *mntns;    /* instead: the sandbox's mount namespace to join (jp_shim_sandbox_mounts made
                       it, with the pod's /etc/hosts), e.g. /proc/PID/ns/mnt; NULL: none */
    const json_t *mounts; /* volumes: [{source, target, readOnly}] (jp_mounts_apply) */
    char *rootfs;     /* a stored image's root filesystem to run in (jp_rootfs_enter), or NULL */
    int64_t uid, gid; /* -1: keep */
    size_t log_max;
    char *log_root;       /* the log goes to LOG_ROOT/<attempt>/ (made on the first line); NULL: the
                             attempt directory itself */
    int64_t caps;         /* the capabilities a root container may hold (jp_caps_for); -1: all */
    bool privileged;      /* securityContext.privileged: /proc/sys stays writable */
    const json_t *groups; /* root: the supplementary groups (fsGroup, supplementalGroups), or
                             NULL for none beyond what runAsUser/runAsGroup imply */
};

/* The default capability set of a container (containerd's). */
extern const uint64_t JP_CAPS_DEFAULT;
/* The capabilities of a container with this securityContext (runtime/caps.c). */
uint64_t jp_caps_for(const json_t *security_context);
/* Before exec: what an exec'd process may hold shrinks to `keep` (bounding set; inheritable
 * and ambient emptied). 0 or errno. */
int jp_caps_limit(uint64_t keep);
/* The bounding set of process pid (all on failure). */
uint64_t jp_caps_bounding_of(int pid);

/* In the container's child, inside its own mount namespace: binds each volume's source at its
 * target. A target missing on the host filesystem is made in a copy-on-write layer (a tmpfs
 * overlay on its nearest existing ancestor, whose existing entries are bound back from the
 * host), so nothing is ever created on the host. 0, or errno with a message. */
int jp_mounts_apply(const json_t *mounts, const char *attempt_dir, char *msg, size_t n);
/* In the container's child, inside its own mount namespace, for a spec with a "rootfs": an
 * overlay of that root filesystem (upper layer in attempt_dir/rootfs), /proc, /dev, /sys, the
 * spec's hosts file and mounts inside it, its cwd made, then pivot_root into it
 * (runtime/rootfs.c). 0, or errno with a message. */
int jp_rootfs_enter(const json_t *spec, const char *attempt_dir, char *msg, size_t n);
/* The flags (MS_NOSUID, MS_NODEV, MS_NOEXEC, the atime ones) of the mount path is on: a
 * read-only remount of a bind must repeat them, as a user namespace locks them. */
unsigned long jp_mounts_locked_flags(const char *path);
/* Not root: whether the kernel refuses user namespaces, with the sysctl that says so in why
 * (runtime/userns.c). */
bool jp_userns_refused(char *why, size_t n);
/* In the container's child, not root: a new user namespace mapping the effective uid and gid to
 * themselves (the container keeps its identity) and a mount namespace it owns, where those ids
 * may mount. 0, or errno with a message. */
int jp_userns_enter(char *msg, size_t n);

/* In a new mount namespace (a sandbox holder's): propagation from the host only, `hosts` bound
 * over /etc/hosts and /proc/sys read-only - what each plain container of the pod would otherwise
 * make in a mount namespace of its own. 0 or errno. */
int jp_shim_sandbox_mounts(const char *hosts);
int jp_shim_spec_write(const char *dir, const struct jp_shim_spec *spec, struct jp_err **err);
char *jp_shim_spec_render(const struct jp_shim_spec *spec); /* its JSON; caller frees */

/* The shim's record of a finished container. */
struct jp_shim_exit {
    int exit_code;
    int signal;      /* 0 unless killed by a signal */
    char reason[32]; /* Completed, Error, StartError */
    char message[512];
    int64_t started_ns, finished_ns;
};

/* Reads DIR/exit.json; JP_NOT_FOUND while the container runs (or the shim died before). */
int jp_shim_exit_read(const char *dir, struct jp_shim_exit *out, struct jp_err **err);
/* Reads DIR/state.json: the shim's pid and start time (for re-adoption) and the container's. */
struct jp_shim_state {
    int shim_pid;
    uint64_t shim_start; /* /proc/PID/stat starttime: tells a reused pid apart */
    int pid;
    int64_t started_ns;
};
int jp_shim_state_read(const char *dir, struct jp_shim_state *out, struct jp_err **err);
/* The starttime field of /proc/PID/stat, or 0 when the process does not exist. */
uint64_t jp_proc_starttime(int pid);

/* The "jobplane shim DIR" verb. */
int jp_shim_main(const char *dir);
/* Every signal back at its default, whatever the exec'ing process ignored: the first thing an
 * exec'd shim or launcher does, so that a container inherits no ignored signal. */
void jp_shim_signals_default(void);
/* The signals a shim ignores (the server's, a terminal's): what its container's child undoes. */
void jp_shim_signals_ignore(void);
/* "jobplane shim --hold DIR [HOSTNAME]": keeps a pod's network and UTS namespaces alive (the
 * latter named HOSTNAME), doing nothing else; the agent starts it inside the new namespaces and
 * kills it when the pod's sandbox goes. */
/* `shim --exec PID [--split-stderr] [--tty] -- CMD...`: runs CMD inside the namespaces (network,
 * UTS, mount) and the working directory of process PID, with its environment and user, stderr
 * joined to stdout: how exec probes run in a container. kubectl exec asks for stderr kept apart
 * (JP_SHIM_EXEC_SPLIT) or for stdin, a terminal in a session of its own, to become the
 * controlling terminal (JP_SHIM_EXEC_TTY; TERM=xterm unless the environment says otherwise).
 * Returns only on failure (exit code 126/127 as a shell's). */
enum { JP_SHIM_EXEC_SPLIT = 1, JP_SHIM_EXEC_TTY = 2 };
/* Executes file as runc starts a container's process: a name without '/' is looked up in env's
 * PATH (the container's; runc's default when it has none), never this process's, as Go's
 * exec.LookPath does (the first regular file with an execute bit: one execve, not one per PATH
 * entry), and a file the kernel will not execute - a script without #! among them - fails with
 * the kernel's error (ENOEXEC) instead of being run by /bin/sh as execvp would. Returns only on
 * failure, errno set (ENOENT for a name not found). Safe in a child sharing the caller's memory: it
 * allocates nothing. */
void jp_shim_exec_file(const char *file, char **argv, char **env);
int jp_shim_exec_main(const char *pid, unsigned flags, char **argv);
int jp_shim_hold_main(const char *dir, const char *hostname) __attribute__((noreturn));
/* "<exe> shim --launcher PADDING", fd SOCK from the agent: forks shims and namespace holders on
 * request (runtime/launcher.c). argv/argc: the process's own, whose strings are rewritten in
 * each child as its command line. */
int jp_shim_launcher_main(char **argv, int argc, int sock);

#endif
