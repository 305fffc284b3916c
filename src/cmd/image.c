/* jobplane image import|ls|rm: the local image store (src/images) from the command line. Wiring
 * only: flags in, one store call, its answer or its error out. */
#include "base/alloc.h"
#include "base/fsutil.h"
#include "cmd/cmd.h"
#include "images/images.h"

#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KUARD_REPO "gcr.io/kuar-demo/kuard-"

static void usage(FILE *out)
{
    fprintf(
        out,
        "Usage: jobplane image import [FLAGS] NAME DIR|TAR|-\n"
        "       jobplane image ls [--data-dir DIR]\n"
        "       jobplane image rm [--data-dir DIR] NAME...\n\n"
        "import: DIR is a root filesystem (copied); TAR a tar of one, a `docker save` archive\n"
        "or an OCI image layout (gzip and others accepted); - reads the tar from stdin.\n"
        "  --entrypoint ARGS   the image's entrypoint: a JSON array, or words split at spaces;\n"
        "                      \"\" for none\n"
        "  --cmd ARGS          the image's default arguments (the same forms)\n"
        "  --env K=V           an environment variable of the image (repeatable)\n"
        "  --workdir DIR       its working directory\n"
        "  --user USER[:GROUP] who its processes run as (a name of its /etc/passwd or an id)\n"
        "  --data-dir DIR      the server's data directory (default: /var/lib/jobplane as\n"
        "                      root, else ~/.local/share/jobplane); images live in DIR/images\n");
}

/* ["a","b"] or "a b" (split at spaces); "" gives an empty vector. NULL when the JSON is bad. */
static char **words(const char *flag, const char *text)
{
    if (text[0] == '[') {
        json_t *a = json_loads(text, 0, NULL);
        size_t i, n = json_array_size(a);
        json_t *s;
        char **v = jp_xcalloc(n + 1, sizeof(char *));
        bool ok = json_is_array(a);
        json_array_foreach(a, i, s)
        {
            ok = ok && json_is_string(s);
            v[i] = jp_xstrdup(json_string_value(s) ? json_string_value(s) : "");
        }
        json_decref(a);
        if (ok) return v;
        for (i = 0; v[i]; i++)
            free(v[i]);
        free(v);
        fprintf(stderr, "jobplane image import: %s wants a JSON array of strings, got %s\n", flag,
                text);
        return NULL;
    }
    char **v = jp_xcalloc(strlen(text) / 2 + 2, sizeof(char *));
    size_t n = 0;
    for (const char *p = text; *p;) {
        p += strspn(p, " \t");
        size_t len = strcspn(p, " \t");
        if (len) v[n++] = jp_xstrndup(p, len);
        p += len;
    }
    return v;
}

static void strv_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

struct flags {
    char *data_dir;
    struct jp_image_import imp;
    size_t nenv;
};

static int parse(int argc, char **argv, struct flags *f, bool import)
{
    static const struct option opts[] = {
        {"data-dir", required_argument, NULL, 'd'}, {"entrypoint", required_argument, NULL, 'e'},
        {"cmd", required_argument, NULL, 'c'},      {"env", required_argument, NULL, 'E'},
        {"workdir", required_argument, NULL, 'w'},  {"user", required_argument, NULL, 'u'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        if (ch != 'd' && ch != 'h' && ch != '?' && !import) ch = '?';
        switch (ch) {
        case 'd':
            free(f->data_dir);
            f->data_dir = jp_xstrdup(optarg);
            break;
        case 'e':
        case 'c': {
            char ***to = ch == 'e' ? &f->imp.entrypoint : &f->imp.cmd;
            strv_free(*to);
            if ((*to = words(ch == 'e' ? "--entrypoint" : "--cmd", optarg)) == NULL) return 2;
            if ((*to)[0] == NULL) { /* "" clears */
                strv_free(*to);
                *to = NULL;
                *(ch == 'e' ? &f->imp.clear_entrypoint : &f->imp.clear_cmd) = true;
            }
            break;
        }
        case 'E':
            if (strchr(optarg, '=') == NULL || optarg[0] == '=') {
                fprintf(stderr, "jobplane image import: --env wants K=V, got \"%s\"\n", optarg);
                return 2;
            }
            f->imp.env = jp_xrealloc(f->imp.env, (f->nenv + 2) * sizeof(char *));
            f->imp.env[f->nenv++] = optarg;
            f->imp.env[f->nenv] = NULL;
            break;
        case 'w':
            if (optarg[0] != '/') {
                fprintf(stderr, "jobplane image import: --workdir must be absolute, got \"%s\"\n",
                        optarg);
                return 2;
            }
            f->imp.workdir = optarg;
            break;
        case 'u':
            f->imp.user = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (f->data_dir == NULL) f->data_dir = jp_cmd_default_data_dir();
    return -1;
}

static int fail(struct jp_err *err, const char *verb)
{
    fprintf(stderr, "jobplane image %s: %s\n", verb, err->msg);
    jp_err_free(err);
    return 1;
}

static int do_import(struct flags *f, int argc, char **argv)
{
    if (argc != 2) {
        usage(stderr);
        return 2;
    }
    f->imp.name = argv[0];
    f->imp.source = argv[1];
    if (jp_images_builtin(argv[0])) {
        fprintf(stderr, "jobplane image import: %s is the built-in kuard image's name\n", argv[0]);
        return 1;
    }
    /* directories an archive implies get 0755, whatever the caller's umask: the container's
     * users must be able to enter them */
    umask(022);
    struct jp_err *err = NULL;
    struct jp_image *img = NULL;
    if (jp_images_import(f->data_dir, &f->imp, &img, &err) < 0) return fail(err, "import");
    char size[32];
    jp_images_human_size(size, sizeof(size), img->size);
    printf("imported %s (%s, %s)\n", img->name, img->digest, size);
    jp_image_free(img);
    return 0;
}

/* The kuard program beside this binary: its digest and size stand for the built-in image. */
static void kuard_row(char id[13], char size[32])
{
    snprintf(id, 13, "<none>");
    snprintf(size, 32, "0B");
    char *self = jp_self_exe(), *kuard = jp_sibling_exe(self, "kuard");
    int fd = open(kuard, O_RDONLY | O_CLOEXEC);
    free(self);
    free(kuard);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        if (fd >= 0) close(fd);
        return;
    }
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    char buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        EVP_DigestUpdate(md, buf, (size_t)n);
    close(fd);
    unsigned char d[32];
    EVP_DigestFinal_ex(md, d, NULL);
    EVP_MD_CTX_free(md);
    for (int i = 0; i < 6; i++)
        snprintf(id + 2 * i, 3, "%02x", d[i]);
    jp_images_human_size(size, 32, st.st_size);
}

struct row {
    char repo[300], tag[140], id[13], size[32];
};

static int do_ls(struct flags *f, int argc)
{
    if (argc != 0) {
        usage(stderr);
        return 2;
    }
    struct jp_err *err = NULL;
    struct jp_image **list;
    size_t n;
    if (jp_images_list(f->data_dir, &list, &n, &err) < 0) return fail(err, "ls");
    struct row *rows = jp_xcalloc(n + 2, sizeof(*rows));
    snprintf(rows[0].repo, sizeof(rows[0].repo), "IMAGE");
    snprintf(rows[0].tag, sizeof(rows[0].tag), "TAG");
    snprintf(rows[0].id, sizeof(rows[0].id), "IMAGE ID");
    snprintf(rows[0].size, sizeof(rows[0].size), "SIZE");
    snprintf(rows[1].repo, sizeof(rows[1].repo), KUARD_REPO "%s", jp_images_arch());
    snprintf(rows[1].tag, sizeof(rows[1].tag), "<any>"); /* every tag is the built-in program */
    kuard_row(rows[1].id, rows[1].size);
    for (size_t i = 0; i < n; i++) {
        struct row *r = &rows[i + 2];
        struct jp_image_ref ref;
        bool ok = jp_image_ref_parse(list[i]->name, &ref, NULL) == 0;
        snprintf(r->repo, sizeof(r->repo), "%s", ok ? ref.repo : list[i]->name);
        snprintf(r->tag, sizeof(r->tag), "%s", ok && ref.tag ? ref.tag : "<none>");
        const char *hex = strchr(list[i]->digest, ':') ? strchr(list[i]->digest, ':') + 1 : "";
        snprintf(r->id, sizeof(r->id), "%.12s", hex);
        jp_images_human_size(r->size, sizeof(r->size), list[i]->size);
        if (ok) jp_image_ref_free(&ref);
    }
    /* crictl's tabwriter: columns at least 20 wide, 3 spaces of padding */
    int w[3] = {20, 20, 20};
    for (size_t i = 0; i < n + 2; i++) {
        const char *cells[3] = {rows[i].repo, rows[i].tag, rows[i].id};
        for (int c = 0; c < 3; c++)
            if ((int)strlen(cells[c]) + 3 > w[c]) w[c] = (int)strlen(cells[c]) + 3;
    }
    for (size_t i = 0; i < n + 2; i++)
        printf("%-*s%-*s%-*s%s\n", w[0], rows[i].repo, w[1], rows[i].tag, w[2], rows[i].id,
               rows[i].size);
    free(rows);
    jp_images_list_free(list, n);
    return 0;
}

static int do_rm(struct flags *f, int argc, char **argv)
{
    if (argc == 0) {
        usage(stderr);
        return 2;
    }
    int rc = 0;
    for (int i = 0; i < argc; i++) {
        struct jp_err *err = NULL;
        if (jp_images_builtin(argv[i])) {
            fprintf(stderr, "jobplane image rm: %s is built in: it cannot be removed\n", argv[i]);
            rc = 1;
        } else if (jp_images_remove(f->data_dir, argv[i], &err) < 0) {
            rc = fail(err, "rm");
        } else {
            printf("deleted %s\n", argv[i]);
        }
    }
    return rc;
}

int jp_cmd_image(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *verb = argv[1];
    bool import = strcmp(verb, "import") == 0;
    if (!import && strcmp(verb, "ls") && strcmp(verb, "list") && strcmp(verb, "rm")) {
        fprintf(stderr, "jobplane image: unknown verb \"%s\"\n", verb);
        usage(stderr);
        return 2;
    }
    struct flags f = {0};
    argv[1] = jp_xasprintf("jobplane image %s", verb); /* how getopt names us */
    int rc = parse(argc - 1, argv + 1, &f, import);
    if (rc < 0) {
        int rest = argc - 1 - optind;
        char **args = argv + 1 + optind;
        rc = import           ? do_import(&f, rest, args)
             : verb[0] == 'r' ? do_rm(&f, rest, args)
                              : do_ls(&f, rest);
    }
    free(argv[1]);
    free(f.data_dir);
    strv_free(f.imp.entrypoint);
    strv_free(f.imp.cmd);
    free(f.imp.env);
    return rc;
}
