/* YAML to JSON as kubectl does it: the chapter manifests, multi-document streams, mappings,
 * anchors and merges, and the errors (with positions) and caps. Scalars: test_yaml_scalar.c. */
#include "support/cm.h"
#include "codec/tests/expect.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- the chapter manifests, as our users apply them ------------------------------------------ */

static const char job_oneshot_yaml[] = "apiVersion: batch/v1\n"
                                       "kind: Job\n"
                                       "metadata:\n"
                                       "  name: oneshot\n"
                                       "spec:\n"
                                       "  template:\n"
                                       "    spec:\n"
                                       "      containers:\n"
                                       "      - name: kuard\n"
                                       "        image: gcr.io/kuar-demo/kuard-amd64:blue\n"
                                       "        imagePullPolicy: Always\n"
                                       "        command:\n"
                                       "        - \"/kuard\"\n"
                                       "        args:\n"
                                       "        - \"--keygen-enable\"\n"
                                       "        - \"--keygen-exit-on-complete\"\n"
                                       "        - \"--keygen-num-to-gen=10\"\n"
                                       "      restartPolicy: OnFailure\n";

static const char job_oneshot_json[] =
    "{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"oneshot\"},"
    "\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"kuard\","
    "\"image\":\"gcr.io/kuar-demo/kuard-amd64:blue\",\"imagePullPolicy\":\"Always\","
    "\"command\":[\"/kuard\"],\"args\":[\"--keygen-enable\",\"--keygen-exit-on-complete\","
    "\"--keygen-num-to-gen=10\"]}],\"restartPolicy\":\"OnFailure\"}}}}";

static const char job_parallel_yaml[] = "apiVersion: batch/v1\n"
                                        "kind: Job\n"
                                        "metadata:\n"
                                        "  name: parallel\n"
                                        "  labels:\n"
                                        "    chapter: jobs\n"
                                        "spec:\n"
                                        "  parallelism: 5\n"
                                        "  completions: 10\n"
                                        "  template:\n"
                                        "    metadata:\n"
                                        "      labels:\n"
                                        "        chapter: jobs\n"
                                        "    spec:\n"
                                        "      containers:\n"
                                        "      - name: kuard\n"
                                        "        image: gcr.io/kuar-demo/kuard-amd64:blue\n"
                                        "        imagePullPolicy: Always\n"
                                        "        command:\n"
                                        "        - \"/kuard\"\n"
                                        "        args:\n"
                                        "        - \"--keygen-enable\"\n"
                                        "        - \"--keygen-exit-on-complete\"\n"
                                        "        - \"--keygen-num-to-gen=10\"\n"
                                        "      restartPolicy: OnFailure\n";

static const char job_parallel_json[] =
    "{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"parallel\","
    "\"labels\":{\"chapter\":\"jobs\"}},\"spec\":{\"parallelism\":5,\"completions\":10,"
    "\"template\":{\"metadata\":{\"labels\":{\"chapter\":\"jobs\"}},\"spec\":{\"containers\":"
    "[{\"name\":\"kuard\",\"image\":\"gcr.io/kuar-demo/kuard-amd64:blue\","
    "\"imagePullPolicy\":\"Always\",\"command\":[\"/kuard\"],\"args\":[\"--keygen-enable\","
    "\"--keygen-exit-on-complete\",\"--keygen-num-to-gen=10\"]}],"
    "\"restartPolicy\":\"OnFailure\"}}}}";

static const char job_consumers_yaml[] =
    "apiVersion: batch/v1\n"
    "kind: Job\n"
    "metadata:\n"
    "  labels:\n"
    "    app: message-queue\n"
    "    component: consumer\n"
    "    chapter: jobs\n"
    "  name: consumers\n"
    "spec:\n"
    "  parallelism: 5\n"
    "  template:\n"
    "    metadata:\n"
    "      labels:\n"
    "        app: message-queue\n"
    "        component: consumer\n"
    "        chapter: jobs\n"
    "    spec:\n"
    "      containers:\n"
    "      - name: worker\n"
    "        image: \"gcr.io/kuar-demo/kuard-amd64:blue\"\n"
    "        imagePullPolicy: Always\n"
    "        command:\n"
    "        - \"/kuard\"\n"
    "        args:\n"
    "        - \"--keygen-enable\"\n"
    "        - \"--keygen-exit-on-complete\"\n"
    "        - \"--keygen-memq-server=http://queue:8080/memq/server\"\n"
    "        - \"--keygen-memq-queue=keygen\"\n"
    "      restartPolicy: OnFailure\n";

static const char job_consumers_json[] =
    "{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"labels\":{\"app\":"
    "\"message-queue\",\"component\":\"consumer\",\"chapter\":\"jobs\"},\"name\":\"consumers\"},"
    "\"spec\":{\"parallelism\":5,\"template\":{\"metadata\":{\"labels\":{\"app\":"
    "\"message-queue\",\"component\":\"consumer\",\"chapter\":\"jobs\"}},\"spec\":"
    "{\"containers\":[{\"name\":\"worker\",\"image\":\"gcr.io/kuar-demo/kuard-amd64:blue\","
    "\"imagePullPolicy\":\"Always\",\"command\":[\"/kuard\"],\"args\":[\"--keygen-enable\","
    "\"--keygen-exit-on-complete\",\"--keygen-memq-server=http://queue:8080/memq/server\","
    "\"--keygen-memq-queue=keygen\"]}],\"restartPolicy\":\"OnFailure\"}}}}";

static const char rs_queue_yaml[] = "apiVersion: apps/v1\n"
                                    "kind: ReplicaSet\n"
                                    "metadata:\n"
                                    "  labels:\n"
                                    "    app: work-queue\n"
                                    "    component: queue\n"
                                    "    chapter: jobs\n"
                                    "  name: queue\n"
                                    "spec:\n"
                                    "  replicas: 1\n"
                                    "  selector:\n"
                                    "    matchLabels:\n"
                                    "      app: work-queue\n"
                                    "      component: queue\n"
                                    "      chapter: jobs\n"
                                    "  template:\n"
                                    "    metadata:\n"
                                    "      labels:\n"
                                    "        app: work-queue\n"
                                    "        component: queue\n"
                                    "        chapter: jobs\n"
                                    "    spec:\n"
                                    "      containers:\n"
                                    "      - name: queue\n"
                                    "        image: \"gcr.io/kuar-demo/kuard-amd64:blue\"\n"
                                    "        imagePullPolicy: Always\n";

static const char rs_queue_json[] =
    "{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"metadata\":{\"labels\":{\"app\":"
    "\"work-queue\",\"component\":\"queue\",\"chapter\":\"jobs\"},\"name\":\"queue\"},\"spec\":"
    "{\"replicas\":1,\"selector\":{\"matchLabels\":{\"app\":\"work-queue\",\"component\":"
    "\"queue\",\"chapter\":\"jobs\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":"
    "\"work-queue\",\"component\":\"queue\",\"chapter\":\"jobs\"}},\"spec\":{\"containers\":"
    "[{\"name\":\"queue\",\"image\":\"gcr.io/kuar-demo/kuard-amd64:blue\","
    "\"imagePullPolicy\":\"Always\"}]}}}}";

static const char service_queue_yaml[] = "apiVersion: v1\n"
                                         "kind: Service\n"
                                         "metadata:\n"
                                         "  labels:\n"
                                         "    app: work-queue\n"
                                         "    component: queue\n"
                                         "    chapter: jobs\n"
                                         "  name: queue\n"
                                         "spec:\n"
                                         "  ports:\n"
                                         "  - port: 8080\n"
                                         "    protocol: TCP\n"
                                         "    targetPort: 8080\n"
                                         "  selector:\n"
                                         "    app: work-queue\n"
                                         "    component: queue\n";

static const char service_queue_json[] =
    "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"labels\":{\"app\":"
    "\"work-queue\",\"component\":\"queue\",\"chapter\":\"jobs\"},\"name\":\"queue\"},\"spec\":"
    "{\"ports\":[{\"port\":8080,\"protocol\":\"TCP\",\"targetPort\":8080}],\"selector\":"
    "{\"app\":\"work-queue\",\"component\":\"queue\"}}}";

static void chapter_manifests(void **state)
{
    (void)state;
    expect_json(job_oneshot_yaml, job_oneshot_json);
    expect_json(job_parallel_yaml, job_parallel_json);
    expect_json(job_consumers_yaml, job_consumers_json);
    expect_json(rs_queue_yaml, rs_queue_json);
    expect_json(service_queue_yaml, service_queue_json);
}

static void chapter_keys_keep_document_order(void **state)
{
    (void)state;
    json_t *doc = NULL;
    struct jp_err *err = NULL;
    assert_int_equal(jp_yaml_load_one(job_consumers_yaml, strlen(job_consumers_yaml), &doc, &err),
                     0);
    char *s = json_dumps(json_object_get(doc, "metadata"), JSON_COMPACT);
    assert_string_equal(s, "{\"labels\":{\"app\":\"message-queue\",\"component\":\"consumer\","
                           "\"chapter\":\"jobs\"},\"name\":\"consumers\"}");
    free(s);
    json_decref(doc);
}

static void chapter_all_in_one_stream(void **state)
{
    (void)state;
    char *all = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&all, &len);
    fprintf(f, "---\n%s---\n# the queue\n%s---\n%s...\n", rs_queue_yaml, service_queue_yaml,
            job_consumers_yaml);
    fclose(f);
    char *want = NULL;
    assert_true(
        asprintf(&want, "[%s,%s,%s]", rs_queue_json, service_queue_json, job_consumers_json) > 0);
    expect_docs(all, len, want);
    free(want);
    free(all);
}

/* --- streams ---------------------------------------------------------------------------------- */

static void streams(void **state)
{
    (void)state;
    static const struct {
        const char *yaml, *json;
    } cases[] = {
        {"", "[]"},
        {"# only a comment\n", "[]"},
        {"---\n", "[]"},
        {"---\n---\n# nothing\n---\n...\n", "[]"},
        {"a: 1\n", "[{\"a\":1}]"},
        {"---\na: 1\n", "[{\"a\":1}]"},
        {"a: 1\n---\nb: 2\n", "[{\"a\":1},{\"b\":2}]"},
        {"---\na: 1\n...\n---\nb: 2\n...\n", "[{\"a\":1},{\"b\":2}]"},
        {"a: 1\n---\n---\n# skipped\n---\nb: 2\n---\n", "[{\"a\":1},{\"b\":2}]"},
        {"--- ~\n--- null\n---\n", "[null,null]"}, /* explicit nulls stay */
        {"--- \"\"\n", "[\"\"]"},
        {"--- 3\n--- [a]\n--- text\n", "[3,[\"a\"],\"text\"]"},
        {"%YAML 1.1\n---\na: 1\n", "[{\"a\":1}]"},
        {"a: 1 # trailing comment\n", "[{\"a\":1}]"},
        {"\xEF\xBB\xBF"
         "a: 1\n",
         "[{\"a\":1}]"}, /* UTF-8 byte order mark */
    };
    for (size_t i = 0; i < N(cases); i++)
        expect_docs(cases[i].yaml, strlen(cases[i].yaml), cases[i].json);
    /* UTF-16 with a byte order mark is YAML too */
    static const char utf16[] = "\xFF\xFE"
                                "a\0:\0 \0\xE9\0\n\0";
    expect_docs(utf16, sizeof(utf16) - 1, "[{\"a\":\"\xC3\xA9\"}]");
    /* the length is what counts, not a NUL terminator */
    expect_docs("a: 1\nb: 2\n", 5, "[{\"a\":1}]");
    expect_docs(NULL, 0, "[]");
    /* numbers are read in the C locale, and the thread's own is left as it was */
    assert_true(uselocale((locale_t)0) == LC_GLOBAL_LOCALE);
}

static void load_one_wants_one_document(void **state)
{
    (void)state;
    json_t *doc = (json_t *)1;
    _cleanup_(jp_err_freep) struct jp_err *err = NULL;
    assert_int_equal(jp_yaml_load_one("a: 1\n---\nb: 2\n", 14, &doc, &err), -1);
    assert_null(doc);
    assert_string_equal(err->msg, "yaml: 2 documents where one was expected");
    jp_err_free(err);
    err = NULL;
    assert_int_equal(jp_yaml_load_one("# nothing\n", 10, &doc, &err), -1);
    assert_string_equal(err->msg, "yaml: no document found");
    assert_int_equal(err->reason, JP_BAD_REQUEST);
}

static void duplicate_keys_fail(void **state)
{
    (void)state;
    expect_error("a: 1\nb: 2\na: 3\n", "yaml: line 3, column 1: mapping key \"a\" already defined "
                                       "at line 1");
    expect_error("x:\n  k: 1\n  k: 2\n", "yaml: line 3, column 3: mapping key \"k\" already "
                                         "defined at line 2");
    /* collisions after conversion to strings */
    expect_error("1: a\n\"1\": b\n", "yaml: line 2, column 1: mapping key \"1\" already defined "
                                     "at line 1");
    expect_error("yes: a\ntrue: b\n", "yaml: line 2, column 1: mapping key \"true\" already "
                                      "defined at line 1");
    expect_error("0x10: a\n16: b\n", "yaml: line 2, column 1: mapping key \"16\" already "
                                     "defined at line 1");
    expect_error("{a: 1, a: 2}", "yaml: line 1, column 8: mapping key \"a\" already defined at "
                                 "line 1");
    expect_error("<<: {a: 1}\n<<: {b: 1}\n", "yaml: line 2, column 1: mapping key \"<<\" already "
                                             "defined at line 1");
    /* the same key in different mappings is fine */
    expect_json("a: {k: 1}\nb: {k: 2}\n", "{\"a\":{\"k\":1},\"b\":{\"k\":2}}");
}

/* --- anchors, aliases, merges ----------------------------------------------------------------- */

static void anchors_and_aliases(void **state)
{
    (void)state;
    expect_json("a: &x 1\nb: *x\n", "{\"a\":1,\"b\":1}");
    expect_json("a: &x [1, {k: v}]\nb: *x\nc: [*x, *x]\n",
                "{\"a\":[1,{\"k\":\"v\"}],\"b\":[1,{\"k\":\"v\"}],"
                "\"c\":[[1,{\"k\":\"v\"}],[1,{\"k\":\"v\"}]]}");
    /* a scalar anchor is resolved where it is used: as a key it is a string */
    expect_json("a: &n 10\n*n : ten\nb: *n\n", "{\"a\":10,\"10\":\"ten\",\"b\":10}");
    expect_json("&k key: value\nother: *k\n", "{\"key\":\"value\",\"other\":\"key\"}");
    expect_json("a: &q \"10\"\nb: *q\n", "{\"a\":\"10\",\"b\":\"10\"}");
    expect_json("a: &t !!str 10\nb: *t\n", "{\"a\":\"10\",\"b\":\"10\"}");
    /* a later anchor of the same name wins, for the aliases after it */
    expect_json("a: &x 1\nb: *x\nc: &x 2\nd: *x\n", "{\"a\":1,\"b\":1,\"c\":2,\"d\":2}");
    expect_json("a: &x [&x 1, *x]\nb: *x\n", "{\"a\":[1,1],\"b\":1}");
    /* an alias is a copy: the two values are independent */
    json_t *doc = NULL;
    struct jp_err *err = NULL;
    assert_int_equal(jp_yaml_load_one("a: &x {k: 1}\nb: *x\n", 19, &doc, &err), 0);
    assert_ptr_not_equal(json_object_get(doc, "a"), json_object_get(doc, "b"));
    json_decref(doc);
    /* anchors belong to their document */
    expect_error("a: &x 1\n---\nb: *x\n", "yaml: line 3, column 4: unknown anchor 'x' referenced");
    expect_error("a: *nope\n", "yaml: line 1, column 4: unknown anchor 'nope' referenced");
    expect_error("a: &x [1, *x]\n", "yaml: line 1, column 11: anchor 'x' value contains itself");
    expect_error("&x {*x : 1}\n", "yaml: line 1, column 5: anchor 'x' value contains itself");
    expect_error("a: &x [1]\n*x : 2\n", "yaml: line 2, column 1: invalid map key: alias 'x' is "
                                        "a sequence");
    expect_error("a: &x {b: 1}\n*x : 2\n", "yaml: line 2, column 1: invalid map key: alias 'x' "
                                           "is a mapping");
    expect_error("a: &x ~\n*x : 2\n", "yaml: line 2, column 1: unsupported map key: null");
    expect_error("a: &x .inf\n", "yaml: line 1, column 4: .inf cannot be represented in JSON *");
    expect_json("&x .inf : a\n", "{\".inf\":\"a\"}"); /* fine as a key */
}

static void merge_keys(void **state)
{
    (void)state;
    static const char defs[] = "base: &base {name: base, image: kuard, port: 8080}\n"
                               "extra: &extra {port: 9090, debug: true}\n";
    static const char defs_json[] = "\"base\":{\"name\":\"base\",\"image\":\"kuard\","
                                    "\"port\":8080},\"extra\":{\"port\":9090,\"debug\":true}";
    static const struct {
        const char *yaml, *json;
    } cases[] = {
        /* merged keys sit where "<<" is, in the source's order */
        {"m:\n  <<: *base\n", "{\"name\":\"base\",\"image\":\"kuard\",\"port\":8080}"},
        /* the mapping's own keys win, before or after "<<" */
        {"m:\n  <<: *base\n  name: mine\n",
         "{\"name\":\"mine\",\"image\":\"kuard\",\"port\":8080}"},
        {"m:\n  name: mine\n  <<: *base\n",
         "{\"name\":\"mine\",\"image\":\"kuard\",\"port\":8080}"},
        /* in a list, earlier sources win */
        {"m:\n  <<: [*extra, *base]\n",
         "{\"port\":9090,\"debug\":true,\"name\":\"base\",\"image\":\"kuard\"}"},
        {"m:\n  <<: [*base, *extra]\n",
         "{\"name\":\"base\",\"image\":\"kuard\",\"port\":8080,\"debug\":true}"},
        {"m: {<<: [*base, *extra], port: 1, debug: false}\n",
         "{\"name\":\"base\",\"image\":\"kuard\",\"port\":1,\"debug\":false}"},
        /* inline mappings merge too */
        {"m:\n  <<: {a: 1, port: 2}\n  a: 3\n", "{\"a\":3,\"port\":2}"},
        {"m:\n  <<: [{a: 1}, *base]\n",
         "{\"a\":1,\"name\":\"base\",\"image\":\"kuard\",\"port\":8080}"},
        {"m:\n  <<: []\n  a: 1\n", "{\"a\":1}"},
        {"m:\n  !!merge <<: *extra\n", "{\"port\":9090,\"debug\":true}"},
        /* a quoted "<<" is an ordinary key */
        {"m:\n  \"<<\": *extra\n", "{\"<<\":{\"port\":9090,\"debug\":true}}"},
        {"m:\n  !!str <<: 1\n", "{\"<<\":1}"},
    };
    for (size_t i = 0; i < N(cases); i++) {
        char *yaml = NULL, *json = NULL;
        assert_true(asprintf(&yaml, "%s%s", defs, cases[i].yaml) > 0);
        assert_true(asprintf(&json, "{%s,\"m\":%s}", defs_json, cases[i].json) > 0);
        expect_json(yaml, json);
        free(yaml);
        free(json);
    }
    /* nested: a merged mapping that merged itself */
    expect_json("a: &a {p: 1}\nb: &b {<<: *a, q: 2}\nc: {<<: *b, r: 3}\n",
                "{\"a\":{\"p\":1},\"b\":{\"p\":1,\"q\":2},\"c\":{\"p\":1,\"q\":2,\"r\":3}}");
    /* the merged values are copies: overriding one does not touch the anchor */
    expect_json("a: &a {x: {k: 1}}\nb: {<<: *a, x: 2}\nc: *a\n",
                "{\"a\":{\"x\":{\"k\":1}},\"b\":{\"x\":2},\"c\":{\"x\":{\"k\":1}}}");
    /* a merged key overridden twice is a duplicate of the override */
    expect_error("a: &a {x: 1}\nb:\n  <<: *a\n  x: 2\n  x: 3\n",
                 "yaml: line 5, column 3: mapping key \"x\" already defined at line 4");
    expect_error("<<: 1\n", "yaml: line 1, column 5: map merge requires map or sequence of maps "
                            "as the value");
    expect_error("a: &s [1]\nb:\n  <<: *s\n", "yaml: line 3, column 7: map merge requires map or "
                                              "sequence of maps as the value");
    expect_error("a: &m {x: 1}\nb:\n  <<: [*m, [1]]\n", "yaml: line 3, column 7: map merge *");
    expect_error("b:\n  <<:\n", "yaml: line 2, column 6: map merge *");
}

/* --- caps ------------------------------------------------------------------------------------- */

static char *nested(const char *open, const char *close, size_t depth)
{
    size_t lo = strlen(open), lc = strlen(close);
    char *s = malloc(depth * (lo + lc) + 1), *p = s;
    for (size_t i = 0; i < depth; i++, p += lo)
        memcpy(p, open, lo);
    for (size_t i = 0; i < depth; i++, p += lc)
        memcpy(p, close, lc);
    *p = '\0';
    return s;
}

static void alias_bomb_fails(void **state)
{
    (void)state;
    /* billion laughs: 9 levels of 9 aliases would be 387 million strings */
    static const char bomb[] = "a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n"
                               "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                               "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
                               "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
                               "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
                               "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
                               "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
                               "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
                               "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";
    expect_error(bomb, "yaml: line 7, column 8: document expands to more than 1000000 JSON values");
    /* merges of a big mapping count every copy */
    static const char merges[] = "a: &a {k0: 0, k1: 1, k2: 2, k3: 3, k4: 4, k5: 5, k6: 6, k7: 7}\n"
                                 "b: &b {<<: *a, x: [*a, *a, *a, *a, *a, *a, *a, *a]}\n"
                                 "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                                 "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                                 "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                                 "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                                 "g: &g [*f, *f]\n";
    expect_error(merges, "yaml: line 7, column 8: document expands to more than 1000000 JSON "
                         "values");
    /* the count spans documents */
    expect_error("a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n"
                 "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                 "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
                 "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
                 "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
                 "f: [*e,*e,*e,*e]\n"
                 "---\n"
                 "a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n"
                 "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                 "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
                 "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
                 "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
                 "f: [*e,*e,*e,*e]\n",
                 "yaml: line 13, column 14: document expands to more than 1000000 JSON values");
}

/* An alias of a long string costs its length: few values, much memory. */
static void alias_text_bomb_fails(void **state)
{
    (void)state;
    enum { LONG = 64 << 10 };
    size_t n = 0;
    char *yaml = malloc(LONG + 1100 * 10 + 64);
    n += (size_t)sprintf(yaml, "a: &a \"");
    memset(yaml + n, 'x', LONG);
    n += LONG;
    n += (size_t)sprintf(yaml + n, "\"\nb: [");
    for (int i = 0; i < 1100; i++)
        n += (size_t)sprintf(yaml + n, "*a,");
    n += (size_t)sprintf(yaml + n, "*a]\n");
    expect_error_n(yaml, n, JP_BAD_REQUEST,
                   "yaml: line 2, column 3071: document expands to more than 67108864 bytes of "
                   "text");
    /* as mapping keys, aliases copy their text just the same */
    n = (size_t)sprintf(yaml, "a: &a ");
    memset(yaml + n, 'k', LONG);
    n += LONG;
    n += (size_t)sprintf(yaml + n, "\nb:\n");
    for (int i = 0; i < 1100; i++)
        n += (size_t)sprintf(yaml + n, "- *a : 1\n");
    expect_error_n(yaml, n, JP_BAD_REQUEST, "yaml: line 1025, column 3: document expands *");
    free(yaml);
}

static void deep_nesting_fails(void **state)
{
    (void)state;
    char *ok = nested("[", "]", JP_YAML_MAX_DEPTH);
    json_t *doc = NULL;
    struct jp_err *err = NULL;
    assert_int_equal(jp_yaml_load_one(ok, strlen(ok), &doc, &err), 0);
    /* what we accept, jansson can write and read back */
    char *dump = json_dumps(doc, 0);
    json_t *again = json_loads(dump, 0, NULL);
    assert_true(json_equal(doc, again));
    json_decref(again);
    free(dump);
    json_decref(doc);
    free(ok);

    char *deep = nested("[", "]", JP_YAML_MAX_DEPTH + 1);
    expect_error(deep, "yaml: line 1, column 1001: nesting deeper than 1000 levels");
    free(deep);
    deep = nested("{a: ", "}", 100000);
    expect_error(deep, "yaml: line 1, column 4001: nesting deeper than 1000 levels");
    free(deep);
    deep = nested("- ", "", 5000);
    expect_error(deep, "yaml: line 1, column 2001: nesting deeper than 1000 levels");
    free(deep);

    /* an alias may not carry its anchor's depth past the cap */
    char *inner = nested("[", "]", 600), *open = nested("[", "", 398),
         *close = nested("]", "", 398);
    char *yaml = NULL;
    /* root mapping, 398 + 1 sequences, then 600 levels from the alias: 999 */
    assert_true(asprintf(&yaml, "a: &a %s\nb: [%s*a%s]\n", inner, open, close) > 0);
    assert_int_equal(jp_yaml_load_one(yaml, strlen(yaml), &doc, &err), 0);
    json_decref(doc);
    free(yaml);
    assert_true(asprintf(&yaml, "a: &a %s\nb: [[[%s*a%s]]]\n", inner, open, close) > 0);
    expect_error(yaml, "yaml: line 2, column 405: alias 'a' nests deeper than 1000 levels");
    free(yaml);
    free(inner);
    free(open);
    free(close);
}

/* --- malformed input -------------------------------------------------------------------------- */

static void syntax_errors_name_the_line(void **state)
{
    (void)state;
    expect_error("a: 1\nb: c: d\n",
                 "yaml: line 2, column 5: mapping values are not allowed in this context");
    expect_error("a:\n  b: c\n   d: e\n",
                 "yaml: line 3, column 5: mapping values are not allowed in this context");
    expect_error("a:\n  - b\n  c: d\n", "yaml: line 3, column 3: did not find expected '-' "
                                        "indicator (while parsing a block collection at line 2, "
                                        "column 3)");
    expect_error("a: [1, 2\nb: 3\n", "yaml: line 2, column 2: did not find expected ',' or ']' "
                                     "(while parsing a flow sequence at line 1, column 4)");
    expect_error("a: \"open\n", "yaml: line 2, column 1: found unexpected end of stream (while "
                                "scanning a quoted scalar at line 1, column 4)");
    expect_error("a:\n\tb: 2\n", "yaml: line 2, column 1: found character that cannot start "
                                 "any token (while scanning for the next token at line 2, "
                                 "column 1)");
    expect_error("a: 1\n\tb: 2\n", "yaml: line 2, column 1: found a tab character that violates "
                                   "indentation (while scanning a plain scalar at line 1, column "
                                   "4)");
    expect_error("a: @x\n", "yaml: line 1, column 4: found character that cannot start any "
                            "token (while scanning for the next token at line 1, column 4)");
    expect_error("a: *\n", "yaml: line 1, column 5: did not find expected alphabetic or numeric "
                           "character (while scanning an alias at line 1, column 4)");
    expect_error("a: 1\n- b\n", "yaml: line 2, column 1: did not find expected key (while "
                                "parsing a block mapping at line 1, column 1)");
    expect_error("a: 1\n---\n  b: 1\n c: 2\n", "yaml: line 4, column 2: *");
    expect_error("%YAML 2.0\n---\na\n", "yaml: line 1, column 1: found incompatible YAML document");
    expect_error("a: !<> x\n", "yaml: line 1, column 6: did not find expected tag URI (while "
                               "parsing a tag at line 1, column 4)");
    expect_error("\"\\q\"\n", "yaml: line 1, column 2: found unknown escape character (while "
                              "parsing a quoted scalar at line 1, column 1)");
}

static void bad_encoding_fails(void **state)
{
    (void)state;
    expect_error("a: \xff\n", "yaml: byte offset 3: invalid leading UTF-8 octet #xFF");
    expect_error("a: caf\xc3\n", "yaml: byte offset 7: invalid trailing UTF-8 octet #xA");
    expect_error("a: \xc0\xaf\n", "yaml: byte offset 3: invalid length of a UTF-8 sequence*");
    expect_error("a: \xed\xa0\x80\n", "yaml: byte offset 3: invalid Unicode character #xD800");
    expect_error("a: b\x01\n", "yaml: byte offset 4: control characters are not allowed #x1");
    expect_error("a: caf\xc3", "yaml: byte offset 6: incomplete UTF-8 octet sequence");
    /* a NUL byte, wherever it is, even after the last document */
    expect_error_n("a: b\0c\n", 7, JP_BAD_REQUEST,
                   "yaml: byte offset 4: control characters are not allowed #x0");
    expect_error_n("\0", 1, JP_BAD_REQUEST,
                   "yaml: byte offset 0: control characters are not allowed #x0");
    expect_error_n("a: 1\n\0", 6, JP_BAD_REQUEST,
                   "yaml: byte offset 5: control characters are not allowed #x0");
    /* a "\0" escape is a NUL character in a string value, which JSON can carry */
    expect_json("a: \"x\\0y\"\n", "{\"a\":\"x\\u0000y\"}");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(chapter_manifests),
        cmocka_unit_test(chapter_keys_keep_document_order),
        cmocka_unit_test(chapter_all_in_one_stream),
        cmocka_unit_test(streams),
        cmocka_unit_test(load_one_wants_one_document),
        cmocka_unit_test(duplicate_keys_fail),
        cmocka_unit_test(anchors_and_aliases),
        cmocka_unit_test(merge_keys),
        cmocka_unit_test(alias_bomb_fails),
        cmocka_unit_test(alias_text_bomb_fails),
        cmocka_unit_test(deep_nesting_fails),
        cmocka_unit_test(syntax_errors_name_the_line),
        cmocka_unit_test(bad_encoding_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
