/* Kubernetes protobuf bodies to JSON: hand-built bodies shaped like Go's marshaling (empty
 * strings and zeros included), the bodies kubectl 1.33 really sends (tests/fixtures, compared
 * with what kubectl 1.31 sent as JSON for the same command), and malformed input. */
#include "support/cm.h"
#include "codec/protobuf.h"

#include "api/schema_types_gen.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- a tiny protobuf writer ------------------------------------------------------------------ */

struct pbw {
    uint8_t *p;
    size_t n, cap;
};

static void w_raw(struct pbw *w, const void *b, size_t n)
{
    if (w->n + n > w->cap) {
        w->cap = (w->n + n) * 2 + 64;
        w->p = realloc(w->p, w->cap);
        assert_non_null(w->p);
    }
    if (n) memcpy(w->p + w->n, b, n);
    w->n += n;
}

static void w_varint(struct pbw *w, uint64_t v)
{
    do {
        uint8_t b = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v) b |= 0x80;
        w_raw(w, &b, 1);
    } while (v);
}

static void w_key(struct pbw *w, unsigned num, unsigned wire)
{
    w_varint(w, (uint64_t)num << 3 | wire);
}

static void w_int(struct pbw *w, unsigned num, uint64_t v)
{
    w_key(w, num, 0);
    w_varint(w, v);
}

static void w_bytes(struct pbw *w, unsigned num, const void *b, size_t n)
{
    w_key(w, num, 2);
    w_varint(w, n);
    w_raw(w, b, n);
}

static void w_str(struct pbw *w, unsigned num, const char *s)
{
    w_bytes(w, num, s, strlen(s));
}

/* Appends sub as an embedded message and releases it. */
static void w_msg(struct pbw *w, unsigned num, struct pbw sub)
{
    w_bytes(w, num, sub.p, sub.n);
    free(sub.p);
}

static struct pbw w_new(void)
{
    return (struct pbw){0};
}

/* A map<string,string> entry. */
static struct pbw entry(const char *k, const char *v)
{
    struct pbw e = w_new();
    w_str(&e, 1, k);
    w_str(&e, 2, v);
    return e;
}

/* ObjectMeta as Go marshals it: every non-pointer string and number, empty or not. */
static struct pbw object_meta(const char *name)
{
    struct pbw m = w_new();
    w_str(&m, 1, name);
    for (unsigned i = 2; i <= 6; i++)
        w_str(&m, i, "");
    w_int(&m, 7, 0);  /* generation */
    w_str(&m, 8, ""); /* creationTimestamp: the zero Time marshals as an empty message */
    return m;
}

/* The "k8s\0" + runtime.Unknown envelope around raw. */
static struct pbw envelope(const char *api_version, const char *kind, struct pbw raw)
{
    struct pbw b = w_new(), tm = w_new();
    w_raw(&b, "k8s", 4);
    w_str(&tm, 1, api_version);
    w_str(&tm, 2, kind);
    w_msg(&b, 1, tm);
    w_msg(&b, 2, raw);
    w_str(&b, 3, "");
    w_str(&b, 4, "");
    return b;
}

/* --- expectations ---------------------------------------------------------------------------- */

/* Explicit nulls, which the server's decoder drops (see api/decode.h). */
static void drop_nulls(json_t *v)
{
    const char *k;
    json_t *x;
    void *tmp;
    size_t i;
    if (json_is_object(v)) {
        json_object_foreach_safe(v, tmp, k, x)
        {
            if (json_is_null(x))
                assert_int_equal(json_object_del(v, k), 0);
            else
                drop_nulls(x);
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, x) drop_nulls(x);
    }
}

static void expect_json_equal(json_t *got, const char *want_text)
{
    json_error_t e;
    json_t *want = json_loads(want_text, 0, &e);
    if (want == NULL) fail_msg("bad expected JSON: %s: %s", e.text, want_text);
    drop_nulls(want);
    if (!json_equal(got, want)) {
        char *g = json_dumps(got, JSON_SORT_KEYS), *w = json_dumps(want, JSON_SORT_KEYS);
        print_error("got:  %s\nwant: %s\n", g, w);
        free(g);
        free(w);
        fail();
    }
    json_decref(want);
}

static void expect_decoded(const void *body, size_t len, int type, const char *want)
{
    json_t *got = NULL;
    struct jp_err *err = NULL;
    char *av = NULL, *kind = NULL;
    if (jp_proto_decode_object(body, len, type, &got, &av, &kind, &err) < 0)
        fail_msg("decode failed: %s", err->msg);
    assert_non_null(av);
    assert_non_null(kind);
    expect_json_equal(got, want);
    json_decref(got);
    free(av);
    free(kind);
}

/* Decodes w (and frees it). */
static void expect_body(struct pbw w, int type, const char *want)
{
    expect_decoded(w.p, w.n, type, want);
    free(w.p);
}

static void expect_fail_n(const void *body, size_t len, int type, const char *want_substr)
{
    json_t *got = (json_t *)1;
    char *av = (char *)1, *kind = (char *)1;
    struct jp_err *err = NULL;
    assert_int_equal(jp_proto_decode_object(body, len, type, &got, &av, &kind, &err), -1);
    assert_null(got);
    assert_null(av);
    assert_null(kind);
    assert_non_null(err);
    assert_int_equal(err->reason, JP_BAD_REQUEST);
    if (strstr(err->msg, want_substr) == NULL)
        fail_msg("error \"%s\" does not contain \"%s\"", err->msg, want_substr);
    jp_err_free(err);
}

static void expect_fail(struct pbw w, int type, const char *want_substr)
{
    expect_fail_n(w.p, w.n, type, want_substr);
    free(w.p);
}

/* --- hand-built bodies ------------------------------------------------------------------------ */

static const char job_json_1_31[] =
    "{\"kind\":\"Job\",\"apiVersion\":\"batch/v1\",\"metadata\":{\"name\":\"hello\","
    "\"creationTimestamp\":null},\"spec\":{\"template\":{\"metadata\":{\"creationTimestamp\":null},"
    "\"spec\":{\"containers\":[{\"name\":\"hello\",\"image\":\"busybox\",\"command\":[\"echo\","
    "\"hi\"],\"resources\":{}}],\"restartPolicy\":\"Never\"}}},\"status\":{}}";

/* `kubectl create job hello --image=busybox -- echo hi`, field by field as Go marshals it. */
static struct pbw hello_job(void)
{
    struct pbw c = w_new(), ps = w_new(), tmpl = w_new(), spec = w_new(), st = w_new(),
               job = w_new();
    w_str(&c, 1, "hello");
    w_str(&c, 2, "busybox");
    w_str(&c, 3, "echo");
    w_str(&c, 3, "hi");
    w_str(&c, 5, "");      /* workingDir */
    w_msg(&c, 8, w_new()); /* resources {} */
    w_str(&c, 13, "");     /* terminationMessagePath */
    w_str(&c, 14, "");     /* imagePullPolicy */
    w_int(&c, 16, 0);      /* stdin */
    w_int(&c, 17, 0);      /* stdinOnce */
    w_int(&c, 18, 0);      /* tty */
    w_str(&c, 20, "");     /* terminationMessagePolicy */
    w_msg(&ps, 2, c);
    w_str(&ps, 3, "Never");
    w_str(&ps, 6, "");  /* dnsPolicy */
    w_str(&ps, 8, "");  /* serviceAccountName (7 is nodeSelector, a map) */
    w_str(&ps, 9, "");  /* serviceAccount */
    w_str(&ps, 10, ""); /* nodeName */
    w_int(&ps, 11, 0);  /* hostNetwork */
    w_msg(&tmpl, 1, object_meta(""));
    w_msg(&tmpl, 2, ps);
    w_msg(&spec, 6, tmpl);
    w_int(&st, 4, 0); /* active, succeeded, failed: omitempty int32 */
    w_int(&st, 5, 0);
    w_int(&st, 6, 0);
    w_str(&st, 7, ""); /* completedIndexes */
    w_msg(&job, 1, object_meta("hello"));
    w_msg(&job, 2, spec);
    w_msg(&job, 3, st);
    return envelope("batch/v1", "Job", job);
}

static void job(void **state)
{
    (void)state;
    struct pbw b = hello_job();
    json_t *got = NULL;
    char *av = NULL, *kind = NULL;
    struct jp_err *err = NULL;
    assert_int_equal(jp_proto_decode_object(b.p, b.n, JP_T_V1Job, &got, &av, &kind, &err), 0);
    assert_string_equal(av, "batch/v1");
    assert_string_equal(kind, "Job");
    expect_json_equal(got, job_json_1_31);
    /* kind and apiVersion come first, as json.Marshal writes them. */
    void *it = json_object_iter(got);
    assert_string_equal(json_object_iter_key(it), "kind");
    assert_string_equal(json_object_iter_key(json_object_iter_next(got, it)), "apiVersion");
    json_decref(got);
    free(av);
    free(kind);
    free(b.p);

    /* The out-parameters for the envelope are optional. */
    b = hello_job();
    assert_int_equal(jp_proto_decode_object(b.p, b.n, JP_T_V1Job, &got, NULL, NULL, &err), 0);
    json_decref(got);
    free(b.p);
}

static void namespace(void **state)
{
    (void)state;
    struct pbw ns = w_new(), st = w_new();
    w_msg(&ns, 1, object_meta("x"));
    w_msg(&ns, 2, w_new());
    w_str(&st, 1, ""); /* phase */
    w_msg(&ns, 3, st);
    expect_body(envelope("v1", "Namespace", ns), JP_T_V1Namespace,
                "{\"kind\":\"Namespace\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"x\"},"
                "\"spec\":{},\"status\":{}}");
}

static void configmap(void **state)
{
    (void)state;
    struct pbw cm = w_new();
    w_msg(&cm, 1, object_meta("c"));
    w_msg(&cm, 2, entry("a", "b"));
    w_msg(&cm, 2, entry("empty", ""));
    w_msg(&cm, 2, entry("a", "again")); /* a repeated key: the last one wins, as in Go */
    struct pbw no_value = w_new();
    w_str(&no_value, 1, "novalue");
    w_msg(&cm, 2, no_value);
    w_msg(&cm, 2, entry("ünï", "ok"));
    expect_body(envelope("v1", "ConfigMap", cm), JP_T_V1ConfigMap,
                "{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"c\"},"
                "\"data\":{\"a\":\"again\",\"empty\":\"\",\"novalue\":\"\",\"ünï\":\"ok\"}}");
}

static void secret(void **state)
{
    (void)state;
    struct pbw s = w_new(), e;
    w_msg(&s, 1, object_meta("s"));
    w_msg(&s, 2, entry("a", "b"));
    const char *vals[] = {"", "f", "fo", "foo", "foob"};
    const char *keys[] = {"k0", "k1", "k2", "k3", "k4"};
    for (unsigned i = 0; i < 5; i++)
        w_msg(&s, 2, entry(keys[i], vals[i]));
    e = w_new();
    w_str(&e, 1, "bin");
    w_bytes(&e, 2, "\x00\xff\xfe\x80", 4);
    w_msg(&s, 2, e);
    w_msg(&s, 4, entry("plain", "text")); /* stringData */
    w_str(&s, 3, "Opaque");
    expect_body(envelope("v1", "Secret", s), JP_T_V1Secret,
                "{\"kind\":\"Secret\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"s\"},"
                "\"data\":{\"a\":\"Yg==\",\"k0\":\"\",\"k1\":\"Zg==\",\"k2\":\"Zm8=\","
                "\"k3\":\"Zm9v\",\"k4\":\"Zm9vYg==\",\"bin\":\"AP/+gA==\"},"
                "\"stringData\":{\"plain\":\"text\"},\"type\":\"Opaque\"}");
}

static struct pbw service_with(struct pbw target_port)
{
    struct pbw port = w_new(), spec = w_new(), svc = w_new(), st = w_new();
    w_str(&port, 1, "80-8080");
    w_str(&port, 2, "TCP");
    w_int(&port, 3, 80);
    w_msg(&port, 4, target_port);
    w_int(&port, 5, 0); /* nodePort: omitempty */
    w_msg(&spec, 1, port);
    w_msg(&spec, 2, entry("app", "svc"));
    w_str(&spec, 3, "");
    w_str(&spec, 4, "ClusterIP");
    w_msg(&svc, 1, object_meta("svc"));
    w_msg(&svc, 2, spec);
    w_msg(&st, 1, w_new()); /* loadBalancer {} */
    w_msg(&svc, 3, st);
    return envelope("v1", "Service", svc);
}

static void service_int_or_string(void **state)
{
    (void)state;
    const char *head =
        "{\"kind\":\"Service\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"svc\"},"
        "\"spec\":{\"ports\":[{\"name\":\"80-8080\",\"protocol\":\"TCP\","
        "\"port\":80,\"targetPort\":";
    const char *tail = "}],\"selector\":{\"app\":\"svc\"},\"type\":\"ClusterIP\"},"
                       "\"status\":{\"loadBalancer\":{}}}";
    char want[512];

    struct pbw tp = w_new();
    w_int(&tp, 1, 0);
    w_int(&tp, 2, 8080);
    w_str(&tp, 3, "");
    snprintf(want, sizeof(want), "%s8080%s", head, tail);
    expect_body(service_with(tp), JP_T_V1Service, want);

    tp = w_new();
    w_int(&tp, 1, 1);
    w_int(&tp, 2, 0);
    w_str(&tp, 3, "web");
    snprintf(want, sizeof(want), "%s\"web\"%s", head, tail);
    expect_body(service_with(tp), JP_T_V1Service, want);

    tp = w_new(); /* negative int32: ten-byte varint, sign-extended */
    w_int(&tp, 2, (uint64_t)(int64_t)-5);
    snprintf(want, sizeof(want), "%s-5%s", head, tail);
    expect_body(service_with(tp), JP_T_V1Service, want);

    tp = w_new(); /* the zero IntOrString is still there: it is a struct */
    snprintf(want, sizeof(want), "%s0%s", head, tail);
    expect_body(service_with(tp), JP_T_V1Service, want);

    tp = w_new();
    w_int(&tp, 1, 2);
    expect_fail(service_with(tp), JP_T_V1Service, "IntOrString: invalid type 2");
}

/* Pointers keep their zero values, omitempty non-pointers lose them, the rest keep them. */
static void zero_values(void **state)
{
    (void)state;
    struct pbw spec = w_new(), job = w_new();
    w_int(&spec, 1, 0);  /* parallelism *int32 */
    w_int(&spec, 10, 0); /* suspend *bool */
    w_str(&spec, 9, ""); /* completionMode *string */
    w_int(&spec, 2, 3);  /* completions */
    w_msg(&job, 2, spec);
    expect_body(envelope("batch/v1", "Job", job), JP_T_V1Job,
                "{\"kind\":\"Job\",\"apiVersion\":\"batch/v1\",\"spec\":{\"parallelism\":0,"
                "\"suspend\":false,\"completionMode\":\"\",\"completions\":3}}");

    struct pbw port = w_new(), c = w_new(), ps = w_new(), pod = w_new();
    w_str(&port, 1, "");
    w_int(&port, 2, 0); /* hostPort: omitempty */
    w_int(&port, 3, 0); /* containerPort: no omitempty */
    w_msg(&c, 6, port);
    w_str(&c, 1, ""); /* name: no omitempty */
    w_int(&c, 18, 1); /* tty true */
    w_msg(&ps, 2, c);
    w_msg(&pod, 2, ps);
    expect_body(envelope("v1", "Pod", pod), JP_T_V1Pod,
                "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"spec\":{\"containers\":[{\"ports\":"
                "[{\"containerPort\":0}],\"name\":\"\",\"tty\":true}]}}");
}

static struct pbw time_msg(int64_t sec, int32_t nanos)
{
    struct pbw t = w_new();
    w_int(&t, 1, (uint64_t)sec);
    w_int(&t, 2, (uint64_t)(int64_t)nanos);
    return t;
}

static void special_types(void **state)
{
    (void)state;
    /* Times: Time keeps whole seconds, MicroTime microseconds. */
    struct pbw meta = w_new(), ev = w_new();
    w_str(&meta, 1, "e");
    w_msg(&meta, 8, time_msg(1700000000, 999999999));
    w_msg(&ev, 1, meta);
    w_msg(&ev, 10, time_msg(1700000000, 123456789));
    w_msg(&ev, 6, time_msg(-1, 0)); /* firstTimestamp before 1970 */
    w_msg(&ev, 7, w_new());         /* lastTimestamp: the zero time */
    expect_body(envelope("v1", "Event", ev), JP_T_CoreV1Event,
                "{\"kind\":\"Event\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"e\","
                "\"creationTimestamp\":\"2023-11-14T22:13:20Z\"},"
                "\"eventTime\":\"2023-11-14T22:13:20.123456Z\","
                "\"firstTimestamp\":\"1969-12-31T23:59:59Z\"}");

    /* Quantities (a ResourceList map), and managedFields' raw JSON. */
    struct pbw q = w_new(), lim = w_new(), res = w_new(), c = w_new(), ps = w_new(), pod = w_new(),
               mf = w_new(), mf2 = w_new(), raw = w_new(), bad = w_new();
    w_str(&q, 1, "500m");
    w_str(&lim, 1, "cpu");
    w_msg(&lim, 2, q);
    w_msg(&res, 1, lim);
    struct pbw zero_q = w_new();
    w_str(&zero_q, 1, "memory");
    w_msg(&zero_q, 2, w_new()); /* an empty Quantity is 0 */
    w_msg(&res, 2, zero_q);
    w_str(&c, 1, "c");
    w_msg(&c, 8, res);
    w_msg(&ps, 2, c);
    w_str(&raw, 1, "{\"f:metadata\":{\"f:name\":{}}}");
    w_str(&mf, 1, "kubectl");
    w_msg(&mf, 7, raw);
    w_str(&bad, 1, "not json");
    w_str(&mf2, 1, "other");
    w_msg(&mf2, 7, bad);
    meta = w_new();
    w_msg(&meta, 17, mf);
    w_msg(&meta, 17, mf2);
    w_msg(&pod, 1, meta);
    w_msg(&pod, 2, ps);
    expect_body(
        envelope("v1", "Pod", pod), JP_T_V1Pod,
        "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"managedFields\":["
        "{\"manager\":\"kubectl\",\"fieldsV1\":{\"f:metadata\":{\"f:name\":{}}}},"
        "{\"manager\":\"other\"}]},\"spec\":{\"containers\":[{\"name\":\"c\","
        "\"resources\":{\"limits\":{\"cpu\":\"500m\"},\"requests\":{\"memory\":\"0\"}}}]}}");
}

/* Inline-embedded structs are nested messages on the wire, flattened in JSON. */
static void inline_structs(void **state)
{
    (void)state;
    struct pbw hp = w_new(), vs = w_new(), vol = w_new(), exec = w_new(), handler = w_new(),
               probe = w_new(), c = w_new(), ps = w_new(), pod = w_new();
    w_str(&hp, 1, "/data");
    w_msg(&vs, 1, hp); /* VolumeSource.hostPath */
    w_str(&vol, 1, "data");
    w_msg(&vol, 2, vs); /* Volume.volumeSource (inline) */
    w_str(&exec, 1, "true");
    w_msg(&handler, 1, exec);  /* ProbeHandler.exec */
    w_msg(&probe, 1, handler); /* Probe.handler (inline) */
    w_int(&probe, 4, 10);
    w_str(&c, 1, "c");
    w_msg(&c, 10, probe);
    w_msg(&ps, 1, vol);
    w_msg(&ps, 2, c);
    w_msg(&pod, 2, ps);
    expect_body(envelope("v1", "Pod", pod), JP_T_V1Pod,
                "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"spec\":{\"volumes\":[{\"name\":"
                "\"data\",\"hostPath\":{\"path\":\"/data\"}}],\"containers\":[{\"name\":\"c\","
                "\"livenessProbe\":{\"exec\":{\"command\":[\"true\"]},\"periodSeconds\":10}}]}}");
}

/* Unknown fields of every wire type are skipped; packed and unpacked lists both decode; a
 * message field given twice merges. */
static void wire_forms(void **state)
{
    (void)state;
    struct pbw meta = w_new(), sc = w_new(), ps = w_new(), pod = w_new(), packed = w_new();
    w_str(&meta, 1, "p");
    w_int(&meta, 999, 7);
    w_key(&meta, 998, 1);
    w_raw(&meta, "12345678", 8);
    w_key(&meta, 997, 5);
    w_raw(&meta, "1234", 4);
    w_str(&meta, 996, "skipped");
    w_int(&sc, 4, 1);
    w_varint(&packed, 2);
    w_varint(&packed, 3);
    w_varint(&packed, (uint64_t)(int64_t)-4);
    w_bytes(&sc, 4, packed.p, packed.n);
    free(packed.p);
    w_bytes(&sc, 4, "", 0); /* an empty packed run adds nothing */
    w_msg(&ps, 14, sc);
    sc = w_new();
    w_int(&sc, 2, 1000); /* runAsUser, merged into the same securityContext */
    w_msg(&ps, 14, sc);
    w_msg(&pod, 1, meta);
    w_msg(&pod, 2, ps);
    expect_body(envelope("v1", "Pod", pod), JP_T_V1Pod,
                "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"p\"},"
                "\"spec\":{\"securityContext\":{\"supplementalGroups\":[1,2,3,-4],"
                "\"runAsUser\":1000}}}");

    /* An envelope without typeMeta, or with an empty raw, is an empty object. */
    struct pbw b = w_new();
    w_raw(&b, "k8s", 4);
    expect_body(b, JP_T_V1Namespace, "{}");
}

/* --- the bodies kubectl 1.33 sends (tests/fixtures/README.md) --------------------------------- */

static char *slurp(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", JP_PROTO_FIXTURES, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL) fail_msg("cannot open %s", path);
    char *buf = malloc(1 << 16);
    assert_non_null(buf);
    *len = fread(buf, 1, (1 << 16) - 1, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static const struct {
    const char *name;
    int type;
} fixtures[] = {
    {"namespace", JP_T_V1Namespace},
    {"job", JP_T_V1Job},
    {"configmap", JP_T_V1ConfigMap},
    {"secret", JP_T_V1Secret},
    {"service", JP_T_V1Service},
    {"service-named", JP_T_V1Service},
    {"serviceaccount", JP_T_V1ServiceAccount},
    {"deployment", JP_T_V1Deployment},
    {"cronjob", JP_T_V1CronJob},
};

static void kubectl_bodies(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
        char name[64];
        size_t pb_len, json_len;
        snprintf(name, sizeof(name), "%s.pb", fixtures[i].name);
        char *pb = slurp(name, &pb_len);
        snprintf(name, sizeof(name), "%s.json", fixtures[i].name);
        char *json = slurp(name, &json_len);
        print_message("fixture %s\n", fixtures[i].name);
        expect_decoded(pb, pb_len, fixtures[i].type, json);
        free(pb);
        free(json);
    }
}

/* Every prefix of a real body either decodes or fails cleanly; the prefix ending inside the
 * object fails for its length. */
static void truncated(void **state)
{
    (void)state;
    size_t len;
    char *pb = slurp("job.pb", &len);
    for (size_t n = 0; n < len; n++) {
        json_t *got = NULL;
        struct jp_err *err = NULL;
        if (jp_proto_decode_object(pb, n, JP_T_V1Job, &got, NULL, NULL, &err) < 0) {
            assert_int_equal(err->reason, JP_BAD_REQUEST);
            jp_err_free(err);
        } else {
            json_decref(got);
        }
    }
    expect_fail_n(pb, len / 2, JP_T_V1Job, "exceeds the");
    expect_fail_n(pb, 3, JP_T_V1Job, "missing the \"k8s\\x00\" prefix");
    free(pb);
}

static void malformed(void **state)
{
    (void)state;
    expect_fail_n("", 0, JP_T_V1Job, "prefix");
    expect_fail_n("{\"kind\":\"Job\"}", 14, JP_T_V1Job, "prefix");
    expect_fail_n("k8x\0", 4, JP_T_V1Job, "prefix");
    expect_fail_n(NULL, 0, JP_T_V1Job, "prefix");

    struct pbw m = w_new(), job;
    w_int(&m, 1, 5); /* ObjectMeta.name as a varint */
    job = w_new();
    w_msg(&job, 1, m);
    expect_fail(envelope("batch/v1", "Job", job), JP_T_V1Job, "ObjectMeta.name: wrong wire type 0");

    job = w_new();
    w_key(&job, 1, 3); /* a group */
    expect_fail(envelope("batch/v1", "Job", job), JP_T_V1Job, "groups");
    job = w_new();
    w_key(&job, 1, 7);
    expect_fail(envelope("batch/v1", "Job", job), JP_T_V1Job, "invalid wire type 7");
    job = w_new();
    w_key(&job, 0, 0);
    w_varint(&job, 1);
    expect_fail(envelope("batch/v1", "Job", job), JP_T_V1Job, "invalid field number 0");

    job = w_new(); /* huge length */
    w_key(&job, 1, 2);
    w_varint(&job, 0xffffffffffULL);
    expect_fail(envelope("batch/v1", "Job", job), JP_T_V1Job, "length 1099511627775 exceeds");
    job = w_new(); /* an 11-byte varint */
    w_key(&job, 999, 0);
    w_raw(&job, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11);
    expect_fail(envelope("batch/v1", "Job", job), JP_T_V1Job, "varint overflows");
    job = w_new();
    w_key(&job, 999, 1);
    w_raw(&job, "1234", 4);
    expect_fail(envelope("batch/v1", "Job", job), JP_T_V1Job, "truncated 8-byte value");

    m = w_new(); /* strings must be UTF-8 without NUL */
    w_bytes(&m, 1, "a\xc3", 2);
    job = w_new();
    w_msg(&job, 1, m);
    expect_fail(envelope("batch/v1", "Job", job), JP_T_V1Job, "name: invalid UTF-8");
    m = w_new();
    w_bytes(&m, 1, "a\0b", 3);
    job = w_new();
    w_msg(&job, 1, m);
    expect_fail(envelope("batch/v1", "Job", job), JP_T_V1Job, "name: NUL byte");
    m = w_new();
    w_msg(&m, 11, entry("k\xff", "v"));
    job = w_new();
    w_msg(&job, 1, m);
    expect_fail(envelope("batch/v1", "Job", job), JP_T_V1Job, "labels: invalid UTF-8");

    /* Envelopes this decoder cannot read. */
    struct pbw b = w_new();
    w_raw(&b, "k8s", 4);
    w_str(&b, 3, "gzip");
    expect_fail(b, JP_T_V1Job, "content encoding \"gzip\" is not supported");
    b = w_new();
    w_raw(&b, "k8s", 4);
    w_str(&b, 4, "application/json");
    expect_fail(b, JP_T_V1Job, "content type \"application/json\"");
    b = w_new();
    w_raw(&b, "k8s", 4);
    w_int(&b, 2, 1);
    expect_fail(b, JP_T_V1Job, "Unknown: wrong wire type 0");

    struct jp_err *err = NULL;
    json_t *got = NULL;
    assert_int_equal(jp_proto_decode_object("k8s", 4, JP_T_COUNT, &got, NULL, NULL, &err), -1);
    assert_int_equal(err->reason, JP_INTERNAL);
    jp_err_free(err);
}

/* A packed list costs a value per element: a million of them exceeds the cap. */
static void node_cap(void **state)
{
    (void)state;
    size_t n = JP_PROTO_MAX_NODES + 1;
    uint8_t *zeros = calloc(n, 1);
    assert_non_null(zeros);
    struct pbw sc = w_new(), ps = w_new(), pod = w_new();
    w_bytes(&sc, 4, zeros, n);
    free(zeros);
    w_msg(&ps, 14, sc);
    w_msg(&pod, 2, ps);
    expect_fail(envelope("v1", "Pod", pod), JP_T_V1Pod, "more than 1000000 values");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(job),
        cmocka_unit_test(namespace),
        cmocka_unit_test(configmap),
        cmocka_unit_test(secret),
        cmocka_unit_test(service_int_or_string),
        cmocka_unit_test(zero_values),
        cmocka_unit_test(special_types),
        cmocka_unit_test(inline_structs),
        cmocka_unit_test(wire_forms),
        cmocka_unit_test(kubectl_bodies),
        cmocka_unit_test(truncated),
        cmocka_unit_test(malformed),
        cmocka_unit_test(node_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
