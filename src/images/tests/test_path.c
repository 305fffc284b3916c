/* Path safety of the image store: cleaning of entry paths, whiteout names, and imports of
 * crafted tars that try to write outside the root filesystem (.., absolute paths, symlinks and
 * hard links pointing out) - plus docker save layers with whiteouts and opaque directories, and
 * an import that fails leaving nothing behind. */
#include "support/cm.h"
#include "images/images-internal.h"
#include "base/alloc.h"
#include "base/fsutil.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmp[64];

static int setup(void **state)
{
    (void)state;
    snprintf(tmp, sizeof(tmp), "/tmp/jp-images-test-XXXXXX");
    return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    jp_remove_tree(tmp);
    return 0;
}

static char *at(const char *rel)
{
    return jp_xasprintf("%s/%s", tmp, rel);
}

static void put_file(const char *rel, const char *text)
{
    char *p = at(rel);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    free(p);
}

static bool exists(const char *rel)
{
    char *p = at(rel);
    struct stat st;
    bool ok = lstat(p, &st) == 0;
    free(p);
    return ok;
}

static char *slurp(const char *rel)
{
    char *text = NULL;
    size_t len;
    if (jp_read_file(tmp, rel, 1 << 20, &text, &len, NULL) < 0) text = NULL;
    return text;
}

/* ---- pure rules ---- */

static void clean(const char *in, const char *want)
{
    char out[64];
    int rc = jp_images__clean_path(in, out, sizeof(out));
    if (want == NULL) {
        if (rc == 0) fail_msg("\"%s\" accepted as \"%s\"", in, out);
        return;
    }
    if (rc < 0) fail_msg("\"%s\" refused", in);
    if (strcmp(out, want) != 0) fail_msg("\"%s\": got \"%s\", want \"%s\"", in, out, want);
}

static void paths_are_cleaned_and_dotdot_refused(void **state)
{
    (void)state;
    clean("etc/passwd", "etc/passwd");
    clean("./etc//passwd", "etc/passwd");
    clean("/etc/./passwd/", "etc/passwd");
    clean("///", "");
    clean(".", "");
    clean("./", "");
    clean("a/.../b", "a/.../b"); /* only ".." itself climbs */
    clean("..a/b..", "..a/b..");
    clean("..", NULL);
    clean("../etc", NULL);
    clean("a/../../etc", NULL);
    clean("a/b/..", NULL);
    char longp[100];
    memset(longp, 'x', 99);
    longp[99] = '\0';
    clean(longp, NULL); /* does not fit: refused, never cut */
}

static void whiteout(const char *in, enum jp_whiteout want, const char *target)
{
    char out[64] = "";
    enum jp_whiteout got = jp_images__whiteout(in, out, sizeof(out));
    if (got != want) fail_msg("%s: kind %d, want %d", in, got, want);
    if (target && strcmp(out, target) != 0) fail_msg("%s: target %s, want %s", in, out, target);
}

static void whiteouts_are_recognized(void **state)
{
    (void)state;
    whiteout("etc/passwd", JP_WH_NONE, NULL);
    whiteout("etc/.wh.passwd", JP_WH_FILE, "etc/passwd");
    whiteout(".wh.top", JP_WH_FILE, "top");
    whiteout("a/b/.wh..wh..opq", JP_WH_OPAQUE, "a/b");
    whiteout(".wh..wh..opq", JP_WH_OPAQUE, "");
    whiteout("a/.wh..wh.plnk", JP_WH_META, NULL);
    whiteout("a/.wh.", JP_WH_META, NULL);
    whiteout("a/.wh..", JP_WH_META, NULL);
    whiteout("a/.wh...", JP_WH_META, NULL);     /* would hide ".." */
    whiteout("a/.wh....", JP_WH_FILE, "a/..."); /* "..." is a name like any other */
    whiteout("a/x.wh.y", JP_WH_NONE, NULL);
}

/* ---- crafted archives ---- */

struct ent {
    const char *path;
    mode_t type;      /* AE_IFREG, AE_IFDIR, AE_IFLNK, or 0 for a hard link */
    const char *data; /* contents, or the link target */
};

static void write_tar(const char *rel, const struct ent *e, size_t n)
{
    char *path = at(rel);
    struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
    for (size_t i = 0; i < n; i++) {
        struct archive_entry *ae = archive_entry_new();
        archive_entry_set_pathname(ae, e[i].path);
        archive_entry_set_perm(ae, e[i].type == AE_IFDIR ? 0755 : 0644);
        if (e[i].type == 0) {
            archive_entry_set_filetype(ae, AE_IFREG);
            archive_entry_set_hardlink(ae, e[i].data);
        } else {
            archive_entry_set_filetype(ae, e[i].type);
        }
        if (e[i].type == AE_IFLNK) archive_entry_set_symlink(ae, e[i].data);
        size_t len = e[i].type == AE_IFREG && e[i].data ? strlen(e[i].data) : 0;
        archive_entry_set_size(ae, (la_int64_t)len);
        assert_true(archive_write_header(a, ae) >= ARCHIVE_WARN);
        if (len) assert_int_equal(archive_write_data(a, e[i].data, len), (la_ssize_t)len);
        archive_entry_free(ae);
    }
    archive_write_close(a);
    archive_write_free(a);
    free(path);
}

static int import(const char *name, const char *src_rel, struct jp_err **err)
{
    char *data = at("data"), *src = at(src_rel);
    struct jp_image_import o = {.name = name, .source = src};
    int rc = jp_images_import(data, &o, NULL, err);
    free(data);
    free(src);
    return rc;
}

static size_t store_entries(void)
{
    char *top = at("data/images");
    DIR *d = opendir(top);
    size_t n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    if (d) closedir(d);
    free(top);
    return n;
}

#define ROOT "data/images/docker.io+library+t%3Alatest/rootfs/"

static void dotdot_fails_and_leaves_nothing(void **state)
{
    (void)state;
    const struct ent e[] = {{"ok", AE_IFREG, "fine\n"}, {"../escaped", AE_IFREG, "no\n"}};
    write_tar("bad.tar", e, 2);
    struct jp_err *err = NULL;
    assert_int_equal(import("t", "bad.tar", &err), -1);
    assert_non_null(strstr(err->msg, "would land outside the image"));
    jp_err_free(err);
    assert_false(exists("data/images/escaped"));
    assert_false(exists("escaped"));
    assert_int_equal(store_entries(), 0); /* not even the temporary directory */
}

static void links_never_lead_outside(void **state)
{
    (void)state;
    char *outside = at("outside");
    assert_int_equal(mkdir(outside, 0755), 0);
    const struct ent e[] = {
        {"/abs/file", AE_IFREG, "absolute\n"}, /* lands inside, as abs/file */
        {"out", AE_IFLNK, outside},            /* a link to the host's directory ... */
        {"out/through", AE_IFREG, "inside\n"}, /* ... is resolved inside the root */
        {"up", AE_IFLNK, "../../../../.."},    /* climbing stops at the root */
        {"up/climbed", AE_IFREG, "inside too\n"},
        {"hard", 0, "abs/file"},   /* a hard link inside */
        {"via", 0, "out/through"}, /* through the link, resolved inside */
    };
    write_tar("links.tar", e, sizeof(e) / sizeof(e[0]));
    struct jp_err *err = NULL;
    if (import("t", "links.tar", &err) < 0) fail_msg("%s", err->msg);
    DIR *d = opendir(outside);
    struct dirent *de;
    size_t n = 0;
    while ((de = readdir(d)))
        n += de->d_name[0] != '.';
    closedir(d);
    assert_int_equal(n, 0); /* nothing was written in the host's directory */
    char *s = slurp(ROOT "abs/file");
    assert_string_equal(s, "absolute\n");
    free(s);
    /* "out" names a path the root does not have: a real directory replaces the link */
    s = slurp(ROOT "out/through");
    assert_string_equal(s, "inside\n");
    free(s);
    s = slurp(ROOT "climbed"); /* up/ is the root itself */
    assert_string_equal(s, "inside too\n");
    free(s);
    s = slurp(ROOT "via");
    assert_string_equal(s, "inside\n");
    free(s);
    s = slurp(ROOT "hard");
    assert_string_equal(s, "absolute\n");
    free(s);
    free(outside);
}

static void hard_links_out_are_refused(void **state)
{
    (void)state;
    const struct ent e[] = {{"h", 0, "../../../etc/passwd"}};
    write_tar("hard.tar", e, 1);
    struct jp_err *err = NULL;
    assert_int_equal(import("t", "hard.tar", &err), -1);
    assert_non_null(strstr(err->msg, "leaves the image"));
    jp_err_free(err);
    assert_int_equal(store_entries(), 0);
}

static void docker_save_layers_apply_whiteouts_in_order(void **state)
{
    (void)state;
    const struct ent l1[] = {{"bin/", AE_IFDIR, NULL},       {"bin/tool", AE_IFREG, "v1\n"},
                             {"etc/", AE_IFDIR, NULL},       {"etc/keep", AE_IFREG, "k\n"},
                             {"etc/gone", AE_IFREG, "g\n"},  {"opq/", AE_IFDIR, NULL},
                             {"opq/old", AE_IFREG, "old\n"}, {"dir/", AE_IFDIR, NULL},
                             {"dir/sub", AE_IFREG, "x\n"}};
    /* the opaque marker after the layer's own entry: that entry must survive */
    const struct ent l2[] = {{"bin/tool", AE_IFREG, "v2\n"},
                             {"etc/.wh.gone", AE_IFREG, ""},
                             {"opq/new", AE_IFREG, "new\n"},
                             {"opq/.wh..wh..opq", AE_IFREG, ""},
                             {"dir", AE_IFREG, "now a file\n"}};
    char *img_dir = at("img");
    assert_int_equal(mkdir(img_dir, 0755), 0);
    free(img_dir);
    write_tar("img/l1.tar", l1, sizeof(l1) / sizeof(l1[0]));
    write_tar("img/l2.tar", l2, sizeof(l2) / sizeof(l2[0]));
    const char *manifest = "[{\"Config\":\"cfg.json\",\"RepoTags\":[\"other:1\",\"t:latest\"],"
                           "\"Layers\":[\"l1.tar\",\"./l2.tar\"]}]";
    const char *config = "{\"config\":{\"Entrypoint\":[\"/bin/tool\"],\"Cmd\":[\"run\"],"
                         "\"Env\":[\"A=1\"],\"WorkingDir\":\"/etc\",\"User\":\"0\"}}";
    put_file("img/manifest.json", manifest);
    put_file("img/cfg.json", config);
    char cmd[512];
    snprintf(cmd, sizeof(cmd),
             "tar -C %s/img -czf %s/save.tar.gz manifest.json cfg.json l1.tar l2.tar", tmp, tmp);
    assert_int_equal(system(cmd), 0);
    struct jp_err *err = NULL;
    if (import("t", "save.tar.gz", &err) < 0) fail_msg("%s", err->msg);
    char *s = slurp(ROOT "bin/tool");
    assert_string_equal(s, "v2\n");
    free(s);
    assert_true(exists(ROOT "etc/keep"));
    assert_false(exists(ROOT "etc/gone"));
    assert_false(exists(ROOT "etc/.wh.gone"));
    assert_false(exists(ROOT "opq/old"));
    assert_true(exists(ROOT "opq/new"));
    assert_false(exists(ROOT "opq/.wh..wh..opq"));
    s = slurp(ROOT "dir");
    assert_string_equal(s, "now a file\n");
    free(s);
    assert_false(exists(ROOT "manifest.json")); /* the archive itself is not the image */
    struct jp_image *img = NULL;
    char *data = at("data");
    assert_int_equal(jp_images_get(data, "docker.io/library/t", &img, &err), 0);
    assert_string_equal(img->entrypoint[0], "/bin/tool");
    assert_string_equal(img->cmd[0], "run");
    assert_string_equal(img->env[0], "A=1");
    assert_string_equal(img->workdir, "/etc");
    assert_string_equal(img->source, "docker-archive");
    /* the ID is the config's digest, as docker shows it */
    assert_string_equal(img->digest,
                        "sha256:" /* sha256sum of the config text above */
                        "b63cb5eadc121f7ff9d3a8d5507e3d71045799043638a2a9a327ad153e2e3825");
    jp_image_free(img);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(paths_are_cleaned_and_dotdot_refused),
        cmocka_unit_test(whiteouts_are_recognized),
        cmocka_unit_test_setup_teardown(dotdot_fails_and_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(links_never_lead_outside, setup, teardown),
        cmocka_unit_test_setup_teardown(hard_links_out_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(docker_save_layers_apply_whiteouts_in_order, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
