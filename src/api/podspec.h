/* Pod spec defaulting and validation, shared by pods and by the pod templates of jobs and
 * replica sets (Kubernetes' SetDefaults_PodSpec and ValidatePodSpec, the parts we serve). */
#ifndef JP_API_PODSPEC_H
#define JP_API_PODSPEC_H

#include "api/status.h"

#include <jansson.h>

void jp_podspec_defaults(json_t *spec);
/* field is the path of the spec, e.g. "spec" or "spec.template.spec". */
void jp_podspec_validate(const json_t *spec, const char *field, struct jp_ferrs *fe);
void jp_podtemplate_validate(const json_t *tmpl, const char *field, struct jp_ferrs *fe);

/* A Go-like one-line rendering of a value for "Invalid value" messages on structs, e.g.
 * core.PodTemplateSpec{...}. OUT: caller frees. */
char *jp_go_dump(const char *go_type, const json_t *v);
/* Go's %#v of a slice of strings ("string": quoted) or integers ("int32" ...), as "Invalid value"
 * messages print one: []string{"a", "b"}, []int32{2, 1}. OUT: caller frees. */
char *jp_go_slice(const char *elem_type, const json_t *arr);

#endif
