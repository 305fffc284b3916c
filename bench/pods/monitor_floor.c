/* The ceiling a per-container monitor puts on pod starts, with no API work at all.
 *
 * Issue 4 wants every container under its own monitor process that records how it ended on
 * disk. The least such a design can do per container is what this program does: fork a monitor
 * from a small process, spawn /bin/true from it with its output on a pipe, record the child's
 * pid (write + rename), drain the pipe, reap, record the exit (write + rename) and exit, reaped
 * by the parent. bench/pods runs it beside the raw spawn rate, so the table shows how much of
 * the raw rate is left for the API server, scheduler and agent once the monitor is paid for.
 *
 *   monitor_floor DIR COUNT WORKERS    prints the starts per second on stdout
 *
 * Built by bench/pods/run.py into a temp dir; not part of jobplane. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static void record(const char *dir, const char *name, const char *text)
{
    char tmp[4096], path[4096];
    snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) _exit(2);
    if (write(fd, text, strlen(text)) < 0) _exit(2);
    close(fd);
    if (rename(tmp, path) < 0) _exit(2);
}

/* one container's monitor, in the forked child; never returns */
static void monitor(const char *root, int n)
{
    char dir[4096], text[128];
    snprintf(dir, sizeof(dir), "%s/c%d-%d", root, (int)getppid(), n);
    if (mkdir(dir, 0700) < 0) _exit(2);
    int out[2];
    if (pipe2(out, O_CLOEXEC) < 0) _exit(2);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, out[1], 2);
    char *argv[] = {"true", NULL};
    pid_t child;
    if (posix_spawn(&child, "/bin/true", &fa, NULL, argv, environ) != 0) _exit(2);
    close(out[1]);
    snprintf(text, sizeof(text), "{\"shimPid\":%d,\"pid\":%d}\n", (int)getpid(), (int)child);
    record(dir, "state.json", text);
    char buf[4096];
    while (read(out[0], buf, sizeof(buf)) > 0) {
    }
    int status = 0;
    waitpid(child, &status, 0);
    snprintf(text, sizeof(text), "{\"exitCode\":%d}\n", WEXITSTATUS(status));
    record(dir, "exit.json", text);
    _exit(0);
}

static void worker(const char *root, int count)
{
    for (int i = 0; i < count; i++) {
        pid_t m = fork();
        if (m < 0) _exit(2);
        if (m == 0) monitor(root, i);
        int status;
        if (waitpid(m, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) _exit(2);
    }
    _exit(0);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: monitor_floor DIR COUNT WORKERS\n");
        return 2;
    }
    int count = atoi(argv[2]), workers = atoi(argv[3]);
    if (count < 1 || workers < 1) return 2;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int w = 0; w < workers; w++) {
        pid_t p = fork();
        if (p < 0) return 2;
        if (p == 0) worker(argv[1], count / workers);
    }
    int failed = 0, status;
    while (wait(&status) > 0)
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) failed = 1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (failed) {
        fprintf(stderr, "monitor_floor: a monitor failed\n");
        return 1;
    }
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("%.0f\n", (double)(count / workers * workers) / s);
    return 0;
}
