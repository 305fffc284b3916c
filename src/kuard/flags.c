/* One table describes every flag: its name, type, where it lands in kuard_config, its default and
 * its help text. Parsing, usage and the config dump all walk that table. */
#include "kuard/flags.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "base/jsonstr.h"
#include "base/parse.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

enum flag_type { FT_BOOL, FT_INT, FT_STRING };

struct flag {
    const char *name;
    enum flag_type type;
    size_t offset;
    const char *def; /* default as text */
    const char *help;
};

#define KG(field) (offsetof(struct kuard_config, keygen) + offsetof(struct keygen_config, field))

static const struct flag flags[] = {
    {"address", FT_STRING, offsetof(struct kuard_config, address), ":8080",
     "The address to serve on"},
    {"debug", FT_BOOL, offsetof(struct kuard_config, debug), "false", "Debug/devel mode"},
    {"debug-sitedata-dir", FT_STRING, offsetof(struct kuard_config, debug_sitedata_dir),
     "./sitedata", "When in debug/dev mode, directory to find the static assets."},
    {"keygen-enable", FT_BOOL, KG(enable), "false", "Enable KeyGen workload"},
    {"keygen-exit-code", FT_INT, KG(exit_code), "0", "Exit code when workload complete"},
    {"keygen-exit-on-complete", FT_BOOL, KG(exit_on_complete), "false",
     "Exit after workload is complete"},
    {"keygen-memq-queue", FT_STRING, KG(memq_queue), "",
     "The MemQ server queue to use. If MemQ is used, other limits are ignored."},
    {"keygen-memq-server", FT_STRING, KG(memq_server), "",
     "The MemQ server to draw work items from.  If MemQ is used, other limits are ignored."},
    {"keygen-num-to-gen", FT_INT, KG(num_to_gen), "0",
     "The number of keys to generate. Set to 0 for infinite"},
    {"keygen-time-to-run", FT_INT, KG(time_to_run), "0",
     "The target run time in seconds. Set to 0 for infinite"},
    {"liveness-fail-next", FT_INT, offsetof(struct kuard_config, liveness_fail_next), "0",
     "Fail the next N probes. 0 is succeed forever. <0 is fail forever."},
    {"memq-max-bytes", FT_INT, offsetof(struct kuard_config, memq_max_bytes), "1073741824",
     "Memory the MemQ server may hold in queued messages (jobplane addition)"},
    {"readiness-fail-next", FT_INT, offsetof(struct kuard_config, readiness_fail_next), "0",
     "Fail the next N probes. 0 is succeed forever. <0 is fail forever."},
    {"tls-address", FT_STRING, offsetof(struct kuard_config, tls_address), ":8443",
     "Address to serve TLS on if certs found."},
    {"tls-dir", FT_STRING, offsetof(struct kuard_config, tls_dir), "/tls",
     "Directory to look to find TLS certs"},
};
#define NFLAGS (sizeof(flags) / sizeof(flags[0]))

static int set_value(struct kuard_config *c, const struct flag *f, const char *value,
                     struct jp_err **err)
{
    void *p = (char *)c + f->offset;
    struct jp_err *perr = NULL;
    int rc = 0;
    switch (f->type) {
    case FT_BOOL:
        rc = jp_parse_bool(value, p, &perr);
        break;
    case FT_INT:
        rc = jp_parse_int(value, 0, INT64_MIN, INT64_MAX, p, &perr);
        break;
    case FT_STRING:
        free(*(char **)p);
        *(char **)p = jp_xstrdup(value);
        break;
    }
    if (rc < 0) {
        jp_err_set(err, JP_BAD_REQUEST, 0, "invalid argument \"%s\" for \"--%s\" flag: %s", value,
                   f->name, perr->msg);
        jp_err_free(perr);
    }
    return rc;
}

static const struct flag *lookup(const char *name, size_t len)
{
    for (size_t i = 0; i < NFLAGS; i++)
        if (strlen(flags[i].name) == len && strncmp(flags[i].name, name, len) == 0)
            return &flags[i];
    return NULL;
}

enum kuard_flags_result kuard_flags_parse(int argc, char **argv, struct kuard_config *c,
                                          struct jp_err **err)
{
    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < NFLAGS; i++)
        if (set_value(c, &flags[i], flags[i].def, err) < 0) return KUARD_FLAGS_ERROR;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) break;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) return KUARD_FLAGS_HELP;
        if (a[0] != '-' || a[1] == '\0') continue; /* positional: kuard ignores them */
        if (a[1] != '-') {
            jp_err_set(err, JP_BAD_REQUEST, 0, "unknown shorthand flag: '%c' in %s", a[1], a);
            return KUARD_FLAGS_ERROR;
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        if (len == 0 || name[0] == '-' || name[0] == '=') {
            jp_err_set(err, JP_BAD_REQUEST, 0, "bad flag syntax: %s", a);
            return KUARD_FLAGS_ERROR;
        }
        const struct flag *f = lookup(name, len);
        if (f == NULL) {
            jp_err_set(err, JP_BAD_REQUEST, 0, "unknown flag: --%.*s", (int)len, name);
            return KUARD_FLAGS_ERROR;
        }
        const char *value = eq ? eq + 1 : NULL;
        if (value == NULL && f->type == FT_BOOL) value = "true";
        if (value == NULL) {
            if (i + 1 >= argc) {
                jp_err_set(err, JP_BAD_REQUEST, 0, "flag needs an argument: --%s", f->name);
                return KUARD_FLAGS_ERROR;
            }
            value = argv[++i];
        }
        if (set_value(c, f, value, err) < 0) return KUARD_FLAGS_ERROR;
    }
    return KUARD_FLAGS_OK;
}

void kuard_flags_usage(FILE *out, const char *prog)
{
    static const char *const type_names[] = {"", "int", "string"};
    fprintf(out, "Usage of %s:\n", prog);
    for (size_t i = 0; i < NFLAGS; i++) {
        const struct flag *f = &flags[i];
        char left[64];
        snprintf(left, sizeof(left), "      --%s %s", f->name, type_names[f->type]);
        fprintf(out, "%-42s %s", left, f->help);
        if (f->type == FT_STRING && *f->def)
            fprintf(out, " (default \"%s\")", f->def);
        else if (f->type == FT_INT && strcmp(f->def, "0") != 0)
            fprintf(out, " (default %s)", f->def);
        fputc('\n', out);
    }
}

static void dump_value(struct jp_buf *b, const struct kuard_config *c, const struct flag *f)
{
    const void *p = (const char *)c + f->offset;
    if (f->type == FT_BOOL) {
        jp_buf_printf(b, "%s", *(const bool *)p ? "true" : "false");
    } else if (f->type == FT_INT) {
        jp_buf_printf(b, "%lld", (long long)*(const int64_t *)p);
    } else {
        const char *s = *(char *const *)p;
        jp_json_quote(b, s, strlen(s), JP_JSON_HTML_ESCAPE);
    }
}

/* The dump mirrors viper's AllSettings: "keygen-x" flags nest under "keygen", probe flags under
 * "liveness"/"readiness" with the remaining words as the key. The table is sorted by name, so a
 * nested group is contiguous. */
char *kuard_config_dump(const struct kuard_config *c)
{
    /* The input is our own command line, which the kernel bounds (ARG_MAX, 2 MiB by default);
     * even fully escaped (6 bytes per byte) it fits this cap, so no append can be dropped. */
    struct jp_buf b;
    jp_buf_init(&b, 64u << 20);
    jp_buf_printf(&b, "{");
    const char *open_group = NULL;
    size_t open_len = 0;
    bool first = true, first_in_group = true;
    for (size_t i = 0; i < NFLAGS; i++) {
        const char *name = flags[i].name, *dash = strchr(name, '-');
        bool nested =
            dash && (strncmp(name, "keygen-", 7) == 0 || strncmp(name, "liveness-", 9) == 0 ||
                     strncmp(name, "readiness-", 10) == 0);
        size_t glen = nested ? (size_t)(dash - name) : 0;
        if (open_group && (!nested || glen != open_len || strncmp(name, open_group, glen))) {
            jp_buf_printf(&b, "\n  }");
            open_group = NULL;
        }
        if (nested && open_group == NULL) {
            jp_buf_printf(&b, "%s\n  \"%.*s\": {", first ? "" : ",", (int)glen, name);
            open_group = name;
            open_len = glen;
            first = false;
            first_in_group = true;
        }
        if (nested) {
            jp_buf_printf(&b, "%s\n    \"%s\": ", first_in_group ? "" : ",", dash + 1);
            first_in_group = false;
        } else {
            jp_buf_printf(&b, "%s\n  \"%s\": ", first ? "" : ",", name);
            first = false;
        }
        dump_value(&b, c, &flags[i]);
    }
    if (open_group) jp_buf_printf(&b, "\n  }");
    jp_buf_printf(&b, "\n}");
    return jp_buf_steal(&b, NULL);
}

void kuard_config_free(struct kuard_config *c)
{
    for (size_t i = 0; i < NFLAGS; i++) {
        if (flags[i].type != FT_STRING) continue;
        char **p = (char **)((char *)c + flags[i].offset);
        free(*p);
        *p = NULL;
    }
}
