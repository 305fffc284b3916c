/* The agent's directories: where pods' runtime records go (a tmpfs when there is one), and
 * what pods deleted while no server ran left behind in them. */
#include "agent/agent-internal.h"
#include "base/alloc.h"
#include "base/fsutil.h"
#include "base/log.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <linux/magic.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

/* What a pod directory left by a deleted pod still runs is stopped, then the directory goes. */
/* The shim goes first and is waited for (briefly): one left running would write its record
 * into the directory being removed. */
static void stop_shim(const struct jp_shim_state *st)
{
    if (st->shim_pid <= 0 || jp_proc_starttime(st->shim_pid) != st->shim_start) return;
    int fd = (int)syscall(SYS_pidfd_open, st->shim_pid, 0);
    kill(st->shim_pid, SIGKILL);
    if (fd >= 0) {
        struct pollfd p = {fd, POLLIN, 0};
        poll(&p, 1, 2000);
        close(fd);
    }
}

/* Pods' directories under `pods` whose pod is gone: their shims and holders are stopped, a
 * Memory emptyDir unmounted, then the directory removed. */
static void reap_orphans_in(struct jp_agent *a, const char *pods)
{
    DIR *d = opendir(pods);
    if (d == NULL) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || agent__find_uid(a, e->d_name)) continue;
        char *dir = jp_xasprintf("%s/%s", pods, e->d_name);
        DIR *cd = opendir(dir);
        struct dirent *ce;
        while (cd && (ce = readdir(cd)) != NULL) {
            if (ce->d_name[0] == '.') continue;
            for (int attempt = 0; attempt < 100000; attempt++) {
                char *adir = jp_xasprintf("%s/%s/%d", dir, ce->d_name, attempt);
                struct jp_shim_state st;
                bool more = access(adir, F_OK) == 0;
                if (more && jp_shim_state_read(adir, &st, NULL) == 0) {
                    if (st.pid > 0 && getpgid(st.pid) == st.pid) kill(-st.pid, SIGKILL);
                    stop_shim(&st);
                }
                free(adir);
                if (!more) break;
            }
        }
        if (cd) closedir(cd);
        uint32_t ip;
        int holder = spawn__holder_recorded(dir, &ip);
        if (holder > 0) kill(holder, SIGKILL);
        jp_log(JP_INFO, "agent", "removing %s: its pod no longer exists", dir);
        volumes__unmount(dir); /* a Memory emptyDir's tmpfs: never left, never emptied live */
        jp_remove_tree(dir);
        free(dir);
    }
    closedir(d);
}

void agent__reap_orphans(struct jp_agent *a)
{
    reap_orphans_in(a, a->run_pods_dir);
    if (agent__records_apart(a)) reap_orphans_in(a, a->pods_dir);
}

/* The runtime records' directory: /dev/shm/jobplane-UID/<the data dir's path>. Records
 * are written and replaced with every container start; on a tmpfs that costs no disk inode
 * (whose allocation on ext4 without a journal scans past every recently deleted one: 40% of
 * the server's CPU in bench/jobs), as containerd keeps its in /run. The path mirrors the data
 * dir's, so what runs for a data dir still names it. They survive the server, not the machine:
 * after a reboot the containers are gone too (spawn__lost). The data dir itself when not root,
 * when /dev/shm is no tmpfs or when its jobplane directory is not ours alone. */
char *agent__choose_run_dir(const char *data_dir)
{
    struct statfs fs;
    char real[PATH_MAX];
    /* root only: systemd-logind's RemoveIPC empties a user's files in /dev/shm at logout */
    if (geteuid() != 0 || statfs("/dev/shm", &fs) < 0 || fs.f_type != TMPFS_MAGIC ||
        realpath(data_dir, real) == NULL)
        return jp_xstrdup(data_dir);
    char *base = jp_xasprintf("/dev/shm/jobplane-%u", (unsigned)geteuid());
    struct stat st;
    if ((mkdir(base, 0700) < 0 && errno != EEXIST) || lstat(base, &st) < 0 ||
        !S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077)) {
        jp_log(JP_WARN, "agent", "%s is not this user's alone: runtime records stay in %s", base,
               data_dir);
        free(base);
        return jp_xstrdup(data_dir);
    }
    char *dir = jp_xasprintf("%s%s", base, real);
    free(base);
    struct jp_err *err = NULL;
    if (jp_mkdir_private(dir, &err) < 0) {
        jp_log(JP_WARN, "agent", "%s: runtime records stay in %s", err->msg, data_dir);
        jp_err_free(err);
        free(dir);
        return jp_xstrdup(data_dir);
    }
    return dir;
}

/* The runtime directory and its parents up to /dev/shm/jobplane-UID, as far as they are empty:
 * what still runs keeps its records. */
void agent__tidy_run_dir(const char *dir)
{
    char *sub = jp_xasprintf("%s/pods", dir);
    rmdir(sub);
    free(sub);
    sub = jp_xasprintf("%s/sandboxes", dir);
    rmdir(sub);
    free(sub);
    char *path = jp_xstrdup(dir);
    size_t keep = strlen("/dev/shm/jobplane-");
    while (strlen(path) > keep && strncmp(path, "/dev/shm/jobplane-", keep) == 0 &&
           strchr(path + keep, '/') && rmdir(path) == 0)
        *strrchr(path, '/') = '\0';
    free(path);
}
