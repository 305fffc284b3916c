/* Kubernetes protobuf bodies to JSON: the envelope (runtime.Unknown), the wire format, and the
 * mapping of k8s.io/api's generated messages onto the schema's JSON fields. See protobuf.h. */
#include "codec/protobuf.h"

#include "api/schema.h"
#include "base/alloc.h"
#include "base/jsonstr.h"
#include "base/timefmt.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum wire { WIRE_VARINT = 0, WIRE_FIXED64 = 1, WIRE_BYTES = 2, WIRE_FIXED32 = 5 };

static const char magic[4] = {'k', '8', 's', '\0'};

/* A message being read: [p, end) is what is left of it. */
struct msg {
    const uint8_t *p, *end;
};

struct dec {
    const uint8_t *base; /* the body, for offsets in error messages */
    size_t nodes;        /* JSON values produced so far */
    struct jp_err **err;
};

static void decref(json_t **v)
{
    json_decref(*v);
}
#define _cleanup_json_ _cleanup_(decref)

__attribute__((format(printf, 3, 4))) static int fail(struct dec *d, const uint8_t *at,
                                                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *what = jp_xvasprintf(fmt, ap);
    va_end(ap);
    return jp_err_set(d->err, JP_BAD_REQUEST, 0, "invalid protobuf body: %s (at byte %zu)", what,
                      (size_t)(at - d->base));
}

static int field_fail(struct dec *d, const uint8_t *at, const struct jp_type *t,
                      const struct jp_field *f, const char *what)
{
    return fail(d, at, "%s.%s: %s", t->go_name, f->name, what);
}

/* Every JSON value made counts against the cap, before it is made. */
static int count(struct dec *d, const uint8_t *at, size_t n)
{
    if (n > JP_PROTO_MAX_NODES - d->nodes)
        return fail(d, at, "more than %d values", JP_PROTO_MAX_NODES);
    d->nodes += n;
    return 0;
}

/* --- the wire format ------------------------------------------------------------------------ */

static int get_varint(struct dec *d, struct msg *m, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned shift = 0;; shift += 7) {
        if (m->p >= m->end) return fail(d, m->p, "truncated varint");
        uint8_t b = *m->p++;
        if (shift == 63 && b > 1) return fail(d, m->p - 1, "varint overflows 64 bits");
        v |= (uint64_t)(b & 0x7f) << shift;
        if (b < 0x80) break;
    }
    *out = v;
    return 0;
}

static int get_key(struct dec *d, struct msg *m, uint32_t *num, unsigned *wire)
{
    const uint8_t *at = m->p;
    uint64_t k;
    if (get_varint(d, m, &k) < 0) return -1;
    unsigned w = (unsigned)(k & 7);
    if (k >> 3 == 0 || k >> 3 > 0x1fffffff)
        return fail(d, at, "invalid field number %llu", (unsigned long long)(k >> 3));
    if (w == 3 || w == 4) return fail(d, at, "groups (wire type %u) are not supported", w);
    if (w > 5) return fail(d, at, "invalid wire type %u", w);
    *num = (uint32_t)(k >> 3);
    *wire = w;
    return 0;
}

static int get_fixed(struct dec *d, struct msg *m, unsigned size, uint64_t *out)
{
    if ((size_t)(m->end - m->p) < size) return fail(d, m->p, "truncated %u-byte value", size);
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)m->p[i] << (8 * i);
    m->p += size;
    *out = v;
    return 0;
}

/* A length-delimited value: its bytes, never past the end of the enclosing message. */
static int get_bytes(struct dec *d, struct msg *m, struct msg *sub)
{
    const uint8_t *at = m->p;
    uint64_t n;
    if (get_varint(d, m, &n) < 0) return -1;
    size_t left = (size_t)(m->end - m->p);
    if (n > left)
        return fail(d, at, "length %llu exceeds the %zu bytes left", (unsigned long long)n, left);
    sub->p = m->p;
    sub->end = m->p + n;
    m->p += n;
    return 0;
}

static int skip(struct dec *d, struct msg *m, unsigned wire)
{
    uint64_t v;
    struct msg sub;
    switch (wire) {
    case WIRE_VARINT:
        return get_varint(d, m, &v);
    case WIRE_FIXED64:
        return get_fixed(d, m, 8, &v);
    case WIRE_FIXED32:
        return get_fixed(d, m, 4, &v);
    default:
        return get_bytes(d, m, &sub);
    }
}

/* --- scalar values -------------------------------------------------------------------------- */

/* Strings must be UTF-8 without NUL, as the JSON path (jansson) requires. */
static int check_text(struct dec *d, const struct msg *s, const char *what)
{
    size_t n = (size_t)(s->end - s->p);
    for (size_t i = 0; i < n;) {
        if (s->p[i] == 0) return fail(d, s->p + i, "%s: NUL byte in a string", what);
        size_t l = jp_utf8_seq_len(s->p + i, n - i);
        if (l == 0) return fail(d, s->p + i, "%s: invalid UTF-8 in a string", what);
        i += l;
    }
    return 0;
}

static json_t *text(const struct msg *s)
{
    return json_stringn_nocheck((const char *)s->p, (size_t)(s->end - s->p));
}

static json_t *base64(const struct msg *s)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = (size_t)(s->end - s->p);
    _cleanup_free_ char *out = jp_xmalloc((n + 2) / 3 * 4 + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)s->p[i] << 16;
        if (i + 1 < n) v |= (uint32_t)s->p[i + 1] << 8;
        if (i + 2 < n) v |= s->p[i + 2];
        out[o++] = abc[v >> 18];
        out[o++] = abc[(v >> 12) & 63];
        out[o++] = i + 1 < n ? abc[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? abc[v & 63] : '=';
    }
    return json_stringn_nocheck(out, o);
}

/* metav1.Time and MicroTime: Timestamp {1: seconds, 2: nanos}. An empty message is the zero
 * time (JSON null, *v stays NULL). Time keeps whole seconds, as its Unmarshal does. */
static int read_time(struct dec *d, struct msg *s, bool micro, json_t **v)
{
    const uint8_t *at = s->p;
    int64_t sec = 0, nanos = 0;
    if (s->p == s->end) return 0;
    while (s->p < s->end) {
        uint32_t num;
        unsigned wire;
        uint64_t x;
        if (get_key(d, s, &num, &wire) < 0) return -1;
        if ((num == 1 || num == 2) && wire != WIRE_VARINT)
            return fail(d, at, "Time: wrong wire type %u for field %u", wire, num);
        if (num == 1 || num == 2) {
            if (get_varint(d, s, &x) < 0) return -1;
            if (num == 1)
                sec = (int64_t)x;
            else
                nanos = (int32_t)(uint32_t)x;
        } else if (skip(d, s, wire) < 0) {
            return -1;
        }
    }
    int64_t ns;
    /* Time.Unmarshal drops the nanoseconds; MicroTime.Unmarshal truncates them toward zero. */
    nanos = micro ? nanos - nanos % 1000 : 0;
    if (__builtin_mul_overflow(sec, JP_NS_PER_SEC, &ns) || __builtin_add_overflow(ns, nanos, &ns))
        return fail(d, at, "time %lld s is out of range", (long long)sec);
    char buf[JP_TIME_BUFLEN];
    size_t n = jp_time_format(buf, ns, micro ? JP_TIME_MICRO : JP_TIME_SECONDS);
    *v = json_stringn_nocheck(buf, n);
    return 0;
}

/* resource.Quantity {1: string}; absent or empty is the zero quantity, "0" in JSON. */
static int read_quantity(struct dec *d, struct msg *s, json_t **v)
{
    struct msg str = {s->p, s->p};
    while (s->p < s->end) {
        uint32_t num;
        unsigned wire;
        const uint8_t *at = s->p;
        if (get_key(d, s, &num, &wire) < 0) return -1;
        if (num == 1 && wire != WIRE_BYTES)
            return fail(d, at, "Quantity: wrong wire type %u", wire);
        int rc = num == 1 ? get_bytes(d, s, &str) : skip(d, s, wire);
        if (rc < 0) return -1;
    }
    if (check_text(d, &str, "Quantity") < 0) return -1;
    *v = str.p == str.end ? json_string("0") : text(&str);
    return 0;
}

/* intstr.IntOrString {1: type (0 int, 1 string), 2: intVal, 3: strVal}. */
static int read_int_or_string(struct dec *d, struct msg *s, json_t **v)
{
    const uint8_t *at = s->p;
    uint64_t type = 0, ival = 0;
    struct msg str = {s->p, s->p};
    while (s->p < s->end) {
        uint32_t num;
        unsigned wire;
        if (get_key(d, s, &num, &wire) < 0) return -1;
        if (num >= 1 && num <= 3 && wire != (num == 3 ? WIRE_BYTES : WIRE_VARINT))
            return fail(d, at, "IntOrString: wrong wire type %u for field %u", wire, num);
        int rc = num == 1   ? get_varint(d, s, &type)
                 : num == 2 ? get_varint(d, s, &ival)
                 : num == 3 ? get_bytes(d, s, &str)
                            : skip(d, s, wire);
        if (rc < 0) return -1;
    }
    if (type > 1) return fail(d, at, "IntOrString: invalid type %llu", (unsigned long long)type);
    if (type == 0) {
        *v = json_integer((int32_t)(uint32_t)ival);
        return 0;
    }
    if (check_text(d, &str, "IntOrString") < 0) return -1;
    *v = text(&str);
    return 0;
}

static int count_json(struct dec *d, const uint8_t *at, json_t *v)
{
    if (count(d, at, 1) < 0) return -1;
    const char *k;
    json_t *x;
    size_t i;
    if (json_is_object(v)) {
        json_object_foreach(v, k, x)
        {
            if (count_json(d, at, x) < 0) return -1;
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, x)
        {
            if (count_json(d, at, x) < 0) return -1;
        }
    }
    return 0;
}

/* runtime.RawExtension and metav1.FieldsV1 {1: raw}: the raw JSON, or nothing (*v NULL) when it
 * is not JSON (Go would hold bytes that its JSON encoder then refuses). */
static int read_raw(struct dec *d, struct msg *s, json_t **v)
{
    const uint8_t *at = s->p;
    struct msg raw = {s->p, s->p};
    while (s->p < s->end) {
        uint32_t num;
        unsigned wire;
        if (get_key(d, s, &num, &wire) < 0) return -1;
        if (num == 1 && wire != WIRE_BYTES)
            return fail(d, at, "raw JSON: wrong wire type %u", wire);
        int rc = num == 1 ? get_bytes(d, s, &raw) : skip(d, s, wire);
        if (rc < 0) return -1;
    }
    json_error_t jerr;
    json_t *j = json_loadb((const char *)raw.p, (size_t)(raw.end - raw.p), JSON_DECODE_ANY, &jerr);
    if (j != NULL && count_json(d, at, j) < 0) {
        json_decref(j);
        return -1;
    }
    *v = j;
    return 0;
}

static unsigned wire_of(enum jp_ftype t)
{
    switch (t) {
    case JP_F_INT32:
    case JP_F_INT64:
    case JP_F_BOOL:
        return WIRE_VARINT;
    case JP_F_NUMBER:
        return WIRE_FIXED64;
    default:
        return WIRE_BYTES;
    }
}

/* One value of a scalar type (the wire type already checked) into *v; NULL means "no value" (an
 * empty Time, raw bytes that are not JSON). *zero: Go's json omitempty would drop it. */
static int read_value(struct dec *d, struct msg *m, enum jp_ftype t, const char *what, json_t **v,
                      bool *zero)
{
    const uint8_t *at = m->p;
    uint64_t x = 0;
    struct msg s = {NULL, NULL};
    *v = NULL;
    *zero = false;
    if (count(d, at, 1) < 0) return -1;
    if (wire_of(t) == WIRE_VARINT && get_varint(d, m, &x) < 0) return -1;
    if (t == JP_F_NUMBER && get_fixed(d, m, 8, &x) < 0) return -1;
    if (wire_of(t) == WIRE_BYTES && get_bytes(d, m, &s) < 0) return -1;
    switch (t) {
    case JP_F_STRING:
        if (check_text(d, &s, what) < 0) return -1;
        *zero = s.p == s.end;
        *v = text(&s);
        return 0;
    case JP_F_BYTES:
        *zero = s.p == s.end;
        *v = base64(&s);
        return 0;
    case JP_F_INT32:
        *zero = (uint32_t)x == 0;
        *v = json_integer((int32_t)(uint32_t)x);
        return 0;
    case JP_F_INT64:
        *zero = x == 0;
        *v = json_integer((json_int_t)x);
        return 0;
    case JP_F_BOOL:
        *zero = x == 0;
        *v = json_boolean(x != 0);
        return 0;
    case JP_F_NUMBER: {
        double f;
        memcpy(&f, &x, sizeof(f));
        if (!isfinite(f)) return fail(d, at, "%s: %g cannot be JSON", what, f);
        *zero = f == 0;
        /* json.Marshal prints integral floats without a fraction: keep them integers. */
        bool integral = f == floor(f) && fabs(f) < 9007199254740992.0;
        *v = integral ? json_integer((json_int_t)f) : json_real(f);
        return 0;
    }
    case JP_F_TIME:
        return read_time(d, &s, false, v);
    case JP_F_MICROTIME:
        return read_time(d, &s, true, v);
    case JP_F_QUANTITY:
        return read_quantity(d, &s, v);
    case JP_F_INT_OR_STRING:
        return read_int_or_string(d, &s, v);
    case JP_F_ANY:
        return read_raw(d, &s, v);
    default:
        return jp_err_set(d->err, JP_INTERNAL, 0, "%s: schema type %d is no scalar", what, t);
    }
}

/* --- messages ------------------------------------------------------------------------------- */

static int read_message(struct dec *d, struct msg m, int type, unsigned in, json_t *obj, int depth);

static int put(struct dec *d, json_t *obj, const char *key, json_t *v)
{
    if (json_object_set_new(obj, key, v) < 0)
        return jp_err_set(d->err, JP_INTERNAL, 0, "protobuf: out of memory");
    return 0;
}

/* The object at obj[key], made if absent: a message field given twice merges, as in Go. */
static int sub_object(struct dec *d, const uint8_t *at, json_t *obj, const char *key, json_t **o)
{
    *o = json_object_get(obj, key);
    if (json_is_object(*o)) return 0;
    if (count(d, at, 1) < 0) return -1;
    *o = json_object();
    return put(d, obj, key, *o);
}

static int sub_array(struct dec *d, const uint8_t *at, json_t *obj, const char *key, json_t **a)
{
    *a = json_object_get(obj, key);
    if (json_is_array(*a)) return 0;
    if (count(d, at, 1) < 0) return -1;
    *a = json_array();
    return put(d, obj, key, *a);
}

static int append(struct dec *d, json_t *a, json_t *v)
{
    if (json_array_append_new(a, v ? v : json_null()) < 0)
        return jp_err_set(d->err, JP_INTERNAL, 0, "protobuf: out of memory");
    return 0;
}

/* A repeated field: one element per occurrence; numbers may also come packed. */
static int read_repeated(struct dec *d, struct msg *m, const struct jp_type *t,
                         const struct jp_field *f, unsigned wire, json_t *obj, int depth)
{
    const uint8_t *at = m->p;
    unsigned want = wire_of(f->elem);
    json_t *arr, *v;
    bool zero;
    if (wire == WIRE_BYTES && want != WIRE_BYTES) {
        struct msg packed;
        if (get_bytes(d, m, &packed) < 0) return -1;
        if (packed.p < packed.end && sub_array(d, at, obj, f->name, &arr) < 0) return -1;
        while (packed.p < packed.end) {
            if (read_value(d, &packed, f->elem, f->name, &v, &zero) < 0) return -1;
            if (append(d, arr, v) < 0) return -1;
        }
        return 0;
    }
    if (wire != want) return field_fail(d, at, t, f, "wrong wire type for a list element");
    if (sub_array(d, at, obj, f->name, &arr) < 0) return -1;
    if (f->elem != JP_F_OBJECT) {
        if (read_value(d, m, f->elem, f->name, &v, &zero) < 0) return -1;
        return append(d, arr, v);
    }
    struct msg sub;
    if (get_bytes(d, m, &sub) < 0 || count(d, at, 1) < 0) return -1;
    json_t *o = json_object();
    if (append(d, arr, o) < 0) return -1;
    return read_message(d, sub, f->ref, 0, o, depth + 1);
}

/* The value a map entry without one decodes to: the Go zero value of the element type. */
static int zero_value(struct dec *d, const uint8_t *at, enum jp_ftype t, json_t **v)
{
    if (count(d, at, 1) < 0) return -1;
    switch (t) {
    case JP_F_STRING:
    case JP_F_BYTES:
        *v = json_string("");
        break;
    case JP_F_QUANTITY:
        *v = json_string("0");
        break;
    case JP_F_BOOL:
        *v = json_false();
        break;
    case JP_F_OBJECT:
        *v = json_object();
        break;
    case JP_F_TIME:
    case JP_F_MICROTIME:
    case JP_F_ANY:
        *v = json_null();
        break;
    default:
        *v = json_integer(0);
        break; /* numbers, IntOrString */
    }
    return 0;
}

/* A map field: each occurrence is one entry {1: key, 2: value}; a later key wins, as in Go. */
static int read_map_entry(struct dec *d, struct msg *m, const struct jp_type *t,
                          const struct jp_field *f, unsigned wire, json_t *obj, int depth)
{
    const uint8_t *at = m->p;
    struct msg e, key = {m->p, m->p};
    if (wire != WIRE_BYTES) return field_fail(d, at, t, f, "wrong wire type for a map entry");
    if (get_bytes(d, m, &e) < 0) return -1;
    _cleanup_json_ json_t *val = NULL;
    while (e.p < e.end) {
        uint32_t num;
        unsigned w;
        bool zero;
        if (get_key(d, &e, &num, &w) < 0) return -1;
        if (num == 1 && w != WIRE_BYTES)
            return field_fail(d, at, t, f, "wrong wire type for a key");
        if (num == 2 && w != wire_of(f->elem))
            return field_fail(d, at, t, f, "wrong wire type for a map value");
        if (num == 1) {
            if (get_bytes(d, &e, &key) < 0) return -1;
            continue;
        }
        if (num != 2) {
            if (skip(d, &e, w) < 0) return -1;
            continue;
        }
        json_decref(JP_STEAL(val)); /* a repeated value field: the last one counts */
        if (f->elem == JP_F_OBJECT) {
            struct msg sub;
            if (get_bytes(d, &e, &sub) < 0 || count(d, at, 1) < 0) return -1;
            val = json_object();
            if (read_message(d, sub, f->ref, 0, val, depth + 1) < 0) return -1;
        } else if (read_value(d, &e, f->elem, f->name, &val, &zero) < 0) {
            return -1;
        }
    }
    if (check_text(d, &key, f->name) < 0) return -1;
    if (val == NULL && zero_value(d, at, f->elem, &val) < 0) return -1;
    json_t *map;
    if (sub_object(d, at, obj, f->name, &map) < 0) return -1;
    if (json_object_setn_new_nocheck(map, (const char *)key.p, (size_t)(key.end - key.p),
                                     JP_STEAL(val)) < 0)
        return jp_err_set(d->err, JP_INTERNAL, 0, "protobuf: out of memory");
    return 0;
}

static int read_field(struct dec *d, struct msg *m, const struct jp_type *t,
                      const struct jp_field *f, unsigned wire, json_t *obj, int depth)
{
    const uint8_t *at = m->p;
    if (f->type == JP_F_ARRAY) return read_repeated(d, m, t, f, wire, obj, depth);
    if (f->type == JP_F_MAP) return read_map_entry(d, m, t, f, wire, obj, depth);
    if (wire != wire_of(f->type)) {
        char what[48];
        snprintf(what, sizeof(what), "wrong wire type %u (want %u)", wire, wire_of(f->type));
        return field_fail(d, at, t, f, what);
    }
    if (f->type == JP_F_OBJECT) {
        struct msg sub;
        json_t *o;
        if (get_bytes(d, m, &sub) < 0 || sub_object(d, at, obj, f->name, &o) < 0) return -1;
        return read_message(d, sub, f->ref, 0, o, depth + 1);
    }
    json_t *v;
    bool zero;
    if (read_value(d, m, f->type, f->name, &v, &zero) < 0) return -1;
    /* json.Marshal drops a zero omitempty value unless it sits behind a pointer. */
    if (v != NULL && zero && (f->go & (JP_GO_POINTER | JP_GO_OMITEMPTY)) == JP_GO_OMITEMPTY) {
        json_decref(v);
        v = NULL;
    }
    if (v == NULL) { /* a later occurrence wins, even an empty one */
        (void)json_object_del(obj, f->name);
        return 0;
    }
    return put(d, obj, f->name, v);
}

static const struct jp_field *by_number(const struct jp_type *t, unsigned in, uint32_t num)
{
    const struct jp_field *f = jp_schema_fields + t->first;
    for (unsigned i = 0; i < t->count; i++)
        if (f[i].proto == num && f[i].proto_in == in) return &f[i];
    return NULL;
}

static bool is_inline(const struct jp_type *t, uint32_t num)
{
    const struct jp_field *f = jp_schema_fields + t->first;
    for (unsigned i = 0; i < t->count; i++)
        if (f[i].proto_in == num) return true;
    return false;
}

/* Fields of type (those inside the inline struct numbered in, when in is not 0) into obj. */
static int read_message(struct dec *d, struct msg m, int type, unsigned in, json_t *obj, int depth)
{
    const struct jp_type *t = &jp_schema_types[type];
    if (depth > JP_PROTO_MAX_DEPTH)
        return fail(d, m.p, "%s: nested deeper than %d messages", t->go_name, JP_PROTO_MAX_DEPTH);
    while (m.p < m.end) {
        const uint8_t *at = m.p;
        uint32_t num;
        unsigned wire;
        if (get_key(d, &m, &num, &wire) < 0) return -1;
        const struct jp_field *f = by_number(t, in, num);
        if (f != NULL) {
            if (read_field(d, &m, t, f, wire, obj, depth) < 0) return -1;
        } else if (in == 0 && is_inline(t, num)) {
            /* An inline-embedded struct (Volume's VolumeSource): its own message on the wire,
             * its fields flattened into this object in JSON. */
            struct msg sub;
            if (wire != WIRE_BYTES)
                return fail(d, at, "%s: wrong wire type %u for inline field %u", t->go_name, wire,
                            num);
            if (get_bytes(d, &m, &sub) < 0) return -1;
            if (read_message(d, sub, type, num, obj, depth + 1) < 0) return -1;
        } else if (skip(d, &m, wire) < 0) {
            return -1;
        }
    }
    return 0;
}

/* --- the envelope --------------------------------------------------------------------------- */

struct unknown {
    struct msg api_version, kind, raw, encoding, type;
};

static int read_type_meta(struct dec *d, struct msg m, struct unknown *u)
{
    while (m.p < m.end) {
        const uint8_t *at = m.p;
        uint32_t num;
        unsigned wire;
        if (get_key(d, &m, &num, &wire) < 0) return -1;
        struct msg *dst = num == 1 ? &u->api_version : num == 2 ? &u->kind : NULL;
        if (dst == NULL) {
            if (skip(d, &m, wire) < 0) return -1;
            continue;
        }
        if (wire != WIRE_BYTES) return fail(d, at, "TypeMeta: wrong wire type %u", wire);
        if (get_bytes(d, &m, dst) < 0) return -1;
    }
    return 0;
}

static int read_unknown(struct dec *d, struct msg m, struct unknown *u)
{
    while (m.p < m.end) {
        const uint8_t *at = m.p;
        uint32_t num;
        unsigned wire;
        if (get_key(d, &m, &num, &wire) < 0) return -1;
        if (num < 1 || num > 4) {
            if (skip(d, &m, wire) < 0) return -1;
            continue;
        }
        struct msg sub;
        if (wire != WIRE_BYTES) return fail(d, at, "Unknown: wrong wire type %u", wire);
        if (get_bytes(d, &m, &sub) < 0) return -1;
        if (num == 1 && read_type_meta(d, sub, u) < 0) return -1;
        if (num == 2) u->raw = sub;
        if (num == 3) u->encoding = sub;
        if (num == 4) u->type = sub;
    }
    /* Quoted at most 64 bytes of them: they are the client's, not ours. */
    size_t el = (size_t)(u->encoding.end - u->encoding.p), tl = (size_t)(u->type.end - u->type.p);
    if (el != 0)
        return fail(d, u->encoding.p, "content encoding \"%.*s\" is not supported",
                    (int)(el < 64 ? el : 64), (const char *)u->encoding.p);
    if (tl != 0 &&
        !(tl == strlen(JP_PROTO_MEDIA_TYPE) && !memcmp(u->type.p, JP_PROTO_MEDIA_TYPE, tl)))
        return fail(d, u->type.p, "content type \"%.*s\" is not supported",
                    (int)(tl < 64 ? tl : 64), (const char *)u->type.p);
    if (check_text(d, &u->api_version, "apiVersion") < 0) return -1;
    return check_text(d, &u->kind, "kind");
}

static char *dup_text(const struct msg *s)
{
    return jp_xstrndup((const char *)s->p, (size_t)(s->end - s->p));
}

int jp_proto_decode_object(const void *body, size_t len, int expected_type, json_t **out,
                           char **api_version_out, char **kind_out, struct jp_err **err)
{
    *out = NULL;
    if (api_version_out) *api_version_out = NULL;
    if (kind_out) *kind_out = NULL;
    if (expected_type < 0 || (unsigned)expected_type >= jp_schema_type_count)
        return jp_err_set(err, JP_INTERNAL, 0, "protobuf: no schema type %d", expected_type);
    const uint8_t *b = body ? body : (const uint8_t *)"";
    struct dec d = {.base = b, .err = err};
    if (len < sizeof(magic) || memcmp(b, magic, sizeof(magic)) != 0)
        return fail(&d, b, "missing the \"k8s\\x00\" prefix of Kubernetes protobuf");
    const uint8_t *end = b + len;
    struct unknown u = {{end, end}, {end, end}, {end, end}, {end, end}, {end, end}};
    if (read_unknown(&d, (struct msg){b + sizeof(magic), end}, &u) < 0) return -1;

    _cleanup_json_ json_t *obj = json_object();
    /* json.Marshal writes the inline TypeMeta first: kind, then apiVersion. */
    if (u.kind.p != u.kind.end && put(&d, obj, "kind", text(&u.kind)) < 0) return -1;
    if (u.api_version.p != u.api_version.end &&
        put(&d, obj, "apiVersion", text(&u.api_version)) < 0)
        return -1;
    if (read_message(&d, u.raw, expected_type, 0, obj, 1) < 0) return -1;
    if (api_version_out) *api_version_out = dup_text(&u.api_version);
    if (kind_out) *kind_out = dup_text(&u.kind);
    *out = JP_STEAL(obj);
    return 0;
}
