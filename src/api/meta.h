/* Object metadata rules from apimachinery's validation: names (DNS-1123 subdomain and label,
 * DNS-1035 label, path segment), label keys and values, annotation size, generateName. The
 * messages are Kubernetes' own texts, since users compare them. */
#ifndef JP_API_META_H
#define JP_API_META_H

#include "api/status.h"

#include <jansson.h>

enum jp_name_rule {
    JP_NAME_SUBDOMAIN = 0, /* most kinds */
    JP_NAME_DNS_LABEL,     /* namespaces */
    JP_NAME_DNS1035,       /* services */
    JP_NAME_PATH_SEGMENT,  /* events */
};

/* Each returns NULL when valid, else the first message (static text). */
const char *jp_check_dns1123_subdomain(const char *s);
const char *jp_check_dns1123_label(const char *s);
const char *jp_check_dns1035_label(const char *s);
/* A name that is one segment of a URL path (events, roles and bindings). */
const char *jp_check_path_segment(const char *s);

void jp_validate_label_key(const char *key, const char *field, struct jp_ferrs *fe);
void jp_validate_label_value(const char *value, const char *field, struct jp_ferrs *fe);
void jp_validate_labels(const json_t *labels, const char *field, struct jp_ferrs *fe);
void jp_validate_annotations(const json_t *annotations, const char *field, struct jp_ferrs *fe);
/* Validates metadata of an object (name by rule, namespace presence, labels, annotations). */
void jp_validate_object_meta(const json_t *meta, enum jp_name_rule rule, bool namespaced,
                             const char *field, struct jp_ferrs *fe);

#endif
