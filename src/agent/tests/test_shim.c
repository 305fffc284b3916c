/* The per-container monitor, run for real in a child process: exit codes and reasons as
 * Kubernetes reports them, start failures, both output streams in CRI records, long lines,
 * rotation, and a container whose background child keeps the pipes open. */
#include "support/cm.h"
#include "agent/cri.h"
#include "agent/shim.h"
#include "base/alloc.h"
#include "base/fsutil.h"
#include "base/timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/jp-shim-test-XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static char *container_path = "PATH=/usr/bin:/bin"; /* the container's PATH in run() */

static void run(char **argv, size_t log_max, struct jp_shim_exit *ex)
{
    char *env[] = {container_path, NULL};
    struct jp_shim_spec spec = {.argv = argv, .env = env, .uid = -1, .gid = -1, .log_max = log_max};
    struct jp_err *err = NULL;
    assert_int_equal(jp_shim_spec_write(dir, &spec, &err), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) _exit(jp_shim_main(dir));
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(jp_shim_exit_read(dir, ex, &err), 0);
}

static char *read_log(const char *name)
{
    char *text;
    size_t len;
    struct jp_err *err = NULL;
    if (jp_read_file(dir, name, 1 << 24, &text, &len, &err) < 0) {
        jp_err_free(err);
        return jp_xstrdup("");
    }
    return text;
}

static char *output(void)
{
    char *raw = read_log(JP_SHIM_LOG);
    struct jp_log_opts o = {.tail_lines = -1};
    struct jp_cri_render r = {&o, false};
    struct jp_buf out;
    jp_buf_init(&out, SIZE_MAX);
    jp_cri_render(&r, raw, strlen(raw), &out);
    jp_buf_appendc(&out, '\0');
    free(raw);
    return jp_buf_steal(&out, NULL);
}

static void test_exit_codes_and_reasons(void **state)
{
    (void)state;
    struct jp_shim_exit ex;
    run((char *[]){"sh", "-c", "echo out; echo err >&2; exit 0", NULL}, 0, &ex);
    assert_int_equal(ex.exit_code, 0);
    assert_string_equal(ex.reason, "Completed");
    assert_true(ex.finished_ns >= ex.started_ns && ex.started_ns > 0);
    char *raw = read_log(JP_SHIM_LOG);
    assert_non_null(strstr(raw, " stdout F out\n"));
    assert_non_null(strstr(raw, " stderr F err\n"));
    free(raw);
    struct jp_shim_state st;
    assert_int_equal(jp_shim_state_read(dir, &st, NULL), 0);
    assert_true(st.pid > 0 && st.shim_pid > 0 && st.shim_start > 0);

    run((char *[]){"sh", "-c", "exit 3", NULL}, 0, &ex);
    assert_int_equal(ex.exit_code, 3);
    assert_string_equal(ex.reason, "Error");
    run((char *[]){"sh", "-c", "kill -TERM $$", NULL}, 0, &ex);
    assert_int_equal(ex.exit_code, 143);
    assert_int_equal(ex.signal, 15);
}

static void test_start_failures(void **state)
{
    (void)state;
    struct jp_shim_exit ex;
    run((char *[]){"no-such-program-here", NULL}, 0, &ex);
    assert_int_equal(ex.exit_code, 127);
    assert_string_equal(ex.reason, "StartError");
    assert_string_equal(ex.message,
                        "exec: \"no-such-program-here\": executable file not found in $PATH");
    char path[128];
    snprintf(path, sizeof(path), "%s/plain", dir);
    FILE *f = fopen(path, "w");
    fputs("echo hi\n", f);
    fclose(f);
    chmod(path, 0644);
    run((char *[]){path, NULL}, 0, &ex);
    assert_int_equal(ex.exit_code, 126);
    assert_non_null(strstr(ex.message, "permission denied"));
    /* executable but without #!: runc fails it, so no /bin/sh may run it (it would print hi) */
    chmod(path, 0755);
    run((char *[]){path, NULL}, 0, &ex);
    assert_int_equal(ex.exit_code, 126);
    assert_string_equal(ex.reason, "StartError");
    assert_non_null(strstr(ex.message, "exec format error"));
    /* found through PATH the same way */
    char *with_dir = jp_xasprintf("PATH=/usr/bin:%s:/bin", dir);
    container_path = with_dir;
    run((char *[]){"plain", NULL}, 0, &ex);
    container_path = "PATH=/usr/bin:/bin";
    free(with_dir);
    assert_int_equal(ex.exit_code, 126);
    assert_non_null(strstr(ex.message, "exec format error"));
    /* no PATH: runc's default, never the shim's own; an empty one: nowhere, as Go's LookPath */
    container_path = "NO_PATH=1";
    char *own = jp_xstrdup(getenv("PATH") ? getenv("PATH") : "");
    setenv("PATH", "/nonexistent", 1);
    run((char *[]){"true", NULL}, 0, &ex);
    assert_int_equal(ex.exit_code, 0);
    container_path = "PATH=";
    run((char *[]){"true", NULL}, 0, &ex);
    assert_int_equal(ex.exit_code, 127);
    container_path = "PATH=/usr/bin:/bin";
    setenv("PATH", own, 1);
    free(own);
}

static void test_long_lines_are_split_and_rejoined(void **state)
{
    (void)state;
    struct jp_shim_exit ex;
    run((char *[]){"sh", "-c", "head -c 40000 /dev/zero | tr '\\0' x; echo; echo end", NULL}, 0,
        &ex);
    char *raw = read_log(JP_SHIM_LOG);
    assert_non_null(strstr(raw, " stdout P "));
    free(raw);
    char *out = output();
    assert_int_equal(strlen(out), 40000 + 1 + 4);
    assert_string_equal(out + 40001, "end\n");
    free(out);
}

static void test_rotation_keeps_one_old_file(void **state)
{
    (void)state;
    struct jp_shim_exit ex;
    run((char *[]){"sh", "-c", "i=0; while [ $i -lt 200 ]; do echo line $i; i=$((i+1)); done",
                   NULL},
        2000, &ex);
    char *cur = read_log(JP_SHIM_LOG), *old = read_log(JP_SHIM_LOG ".1");
    assert_true(strlen(cur) <= 2000 && strlen(old) <= 2000 && strlen(old) > 0);
    assert_non_null(strstr(cur, " stdout F line 199\n"));
    free(cur);
    free(old);
}

static void test_background_child_does_not_hold_the_exit(void **state)
{
    (void)state;
    struct jp_shim_exit ex;
    int64_t t0 = jp_mono_ns();
    run((char *[]){"sh", "-c", "sleep 31.7 & echo started; exit 4", NULL}, 0, &ex);
    assert_true(jp_mono_ns() - t0 < 5 * 1000000000LL);
    assert_int_equal(ex.exit_code, 4);
    char *out = output();
    assert_string_equal(out, "started\n");
    free(out);
    assert_int_equal(system("pkill -f '^sleep 31.7$' || true"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_exit_codes_and_reasons, setup, teardown),
        cmocka_unit_test_setup_teardown(test_start_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_lines_are_split_and_rejoined, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotation_keeps_one_old_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_background_child_does_not_hold_the_exit, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
