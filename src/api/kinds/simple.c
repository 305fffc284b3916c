/* Kinds with little behaviour of their own: ConfigMap, Secret, ServiceAccount, Endpoints.
 * Each validates its metadata and prints the columns kubectl shows for it. */
#include "api/kinds.h"
#include "api/meta.h"
#include "base/buf.h"

#include <gnutls/gnutls.h>
#include <stdio.h>
#include <string.h>

static void name_age(const json_t *obj, struct jp_cells *c)
{
    jp_cells_str(c, "%s", jp_json_str(obj, "metadata", "name", NULL));
}

static void age(const json_t *obj, struct jp_cells *c)
{
    jp_cells_time(c, JP_CELL_AGE, jp_json_time(obj, "metadata", "creationTimestamp", NULL), 0,
                  NULL);
}

static void validate_subdomain(const json_t *obj, const json_t *old, struct jp_ferrs *fe)
{
    (void)old;
    jp_validate_object_meta(json_object_get(obj, "metadata"), JP_NAME_SUBDOMAIN, true, "metadata",
                            fe);
}

static void nothing(json_t *obj)
{
    (void)obj;
}

/* ---- ConfigMap ---- */

static void configmap_row(const json_t *obj, struct jp_cells *c)
{
    name_age(obj, c);
    jp_cells_int(c, (int64_t)(json_object_size(json_object_get(obj, "data")) +
                              json_object_size(json_object_get(obj, "binaryData"))));
    age(obj, c);
}

static const struct jp_column configmap_columns[] = {
    JP_COLUMN_NAME,
    {"Data", "string", "", "Number of data items.", 0},
    JP_COLUMN_AGE,
    JP_COLUMN_END};

const struct jp_kind_ops jp_configmap_ops = {
    .defaults = nothing,
    .validate = validate_subdomain,
    .row = configmap_row,
    .columns = configmap_columns,
};

/* ---- Secret ---- */

/* stringData is write-only: it is merged into data, base64-encoded, as the API server does. */
static void secret_defaults(json_t *obj)
{
    if (!json_is_string(json_object_get(obj, "type")))
        json_object_set_new(obj, "type", json_string("Opaque"));
    json_t *sd = json_object_get(obj, "stringData");
    if (!json_is_object(sd)) return;
    json_t *data = json_object_get(obj, "data");
    if (!json_is_object(data)) {
        data = json_object();
        json_object_set_new(obj, "data", data);
    }
    const char *k;
    json_t *v;
    json_object_foreach(sd, k, v)
    {
        const char *text = json_string_value(v) ? json_string_value(v) : "";
        gnutls_datum_t in = {(unsigned char *)text, (unsigned)strlen(text)}, out = {NULL, 0};
        if (gnutls_base64_encode2(&in, &out) < 0) continue;
        json_object_set_new(data, k, json_stringn((const char *)out.data, out.size));
        gnutls_free(out.data);
    }
    json_object_del(obj, "stringData");
}

static void secret_row(const json_t *obj, struct jp_cells *c)
{
    name_age(obj, c);
    jp_cells_str(c, "%s", jp_json_str(obj, "type", NULL) ? jp_json_str(obj, "type", NULL) : "");
    jp_cells_int(c, (int64_t)json_object_size(json_object_get(obj, "data")));
    age(obj, c);
}

static const struct jp_column secret_columns[] = {
    JP_COLUMN_NAME,
    {"Type", "string", "", "The type of the secret.", 0},
    {"Data", "string", "", "Number of data items.", 0},
    JP_COLUMN_AGE,
    JP_COLUMN_END};

static const char *const secret_fields[] = {"type", NULL};

static const char *secret_field(const json_t *obj, const char *label, char *buf, size_t n)
{
    (void)label, (void)buf, (void)n;
    return jp_json_str(obj, "type", NULL);
}

const struct jp_kind_ops jp_secret_ops = {
    .defaults = secret_defaults,
    .validate = validate_subdomain,
    .row = secret_row,
    .columns = secret_columns,
    .field_labels = secret_fields,
    .field_value = secret_field,
};

/* ---- ServiceAccount ---- */

static void serviceaccount_row(const json_t *obj, struct jp_cells *c)
{
    name_age(obj, c);
    jp_cells_int(c, (int64_t)json_array_size(json_object_get(obj, "secrets")));
    age(obj, c);
}

static const struct jp_column serviceaccount_columns[] = {
    JP_COLUMN_NAME,
    {"Secrets", "string", "", "Number of secrets.", 0},
    JP_COLUMN_AGE,
    JP_COLUMN_END};

const struct jp_kind_ops jp_serviceaccount_ops = {
    .defaults = nothing,
    .validate = validate_subdomain,
    .row = serviceaccount_row,
    .columns = serviceaccount_columns,
};

/* ---- Endpoints ---- */

/* "10.1.0.5:8080,10.1.0.6:8080", at most three then " + N more...", or "<none>" */
static void endpoints_row(const json_t *obj, struct jp_cells *c)
{
    name_age(obj, c);
    struct jp_buf b;
    jp_buf_init(&b, 1 << 16);
    size_t shown = 0, total = 0, i, j, k;
    json_t *subset, *addr, *port;
    json_array_foreach(json_object_get(obj, "subsets"), i, subset)
    {
        json_t *ports = json_object_get(subset, "ports");
        json_array_foreach(json_object_get(subset, "addresses"), j, addr)
        {
            const char *ip = jp_json_str(addr, "ip", NULL);
            if (json_array_size(ports) == 0) {
                total++;
                if (shown < 3) jp_buf_printf(&b, "%s%s", shown++ ? "," : "", ip ? ip : "");
            }
            json_array_foreach(ports, k, port)
            {
                total++;
                if (shown < 3)
                    jp_buf_printf(&b, "%s%s:%lld", shown++ ? "," : "", ip ? ip : "",
                                  (long long)jp_json_int(port, 0, "port", NULL));
            }
        }
    }
    if (total > shown) jp_buf_printf(&b, " + %zu more...", total - shown);
    jp_cells_str(c, "%s", total ? b.data : "<none>");
    jp_buf_free(&b);
    age(obj, c);
}

static const struct jp_column endpoints_columns[] = {
    JP_COLUMN_NAME,
    {"Endpoints", "string", "", "Endpoints of the service.", 0},
    JP_COLUMN_AGE,
    JP_COLUMN_END};

const struct jp_kind_ops jp_endpoints_ops = {
    .defaults = nothing,
    .validate = validate_subdomain,
    .row = endpoints_row,
    .columns = endpoints_columns,
};
