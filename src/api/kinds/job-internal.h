/* Shared by job.c and job_policy.c. */
#ifndef JP_API_KINDS_JOB_INTERNAL_H
#define JP_API_KINDS_JOB_INTERNAL_H

#include "api/status.h"

#include <jansson.h>

/* spec.podFailurePolicy and spec.successPolicy of a Job spec, errors added to fe. */
void jp_job__validate_pod_failure_policy(const json_t *spec, struct jp_ferrs *fe);
void jp_job__validate_success_policy(const json_t *spec, struct jp_ferrs *fe);

#endif
