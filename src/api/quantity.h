/* resource.Quantity as Kubernetes reads and prints it (k8s.io/apimachinery/pkg/api/resource):
 * for validation (podspec.c) and what the kubelet does with quantities (the agent's emptyDir
 * sizes and eviction messages). */
#ifndef JP_API_QUANTITY_H
#define JP_API_QUANTITY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A resource.Quantity, exactly: value = (neg ? -1 : 1) * m * 10^exp, binary suffixes multiplied in.
 */
struct jp_quantity {
    uint64_t m;
    int exp;
    bool neg;
    char format; /* 'd' DecimalSI, 'b' BinarySI, 'e' DecimalExponent */
    bool cached; /* Kubernetes keeps the parsed text as its String() (already canonical) */
};
bool jp_quantity_parse(const char *text, struct jp_quantity *q); /* false: not a quantity we hold */
/* A JSON quantity (string, or a number read from its text); text gets the text parsed. */
bool jp_quantity_json(const json_t *v, struct jp_quantity *q, char *text, size_t n);
int64_t jp_quantity_value(const struct jp_quantity *q); /* Value(): rounded away from zero */
int64_t jp_quantity_trunc(const struct jp_quantity *q); /* rounded toward zero */
void jp_quantity_format(const struct jp_quantity *q, char *buf, size_t n); /* canonical form */
/* Quantity.String() of a quantity's text; false when it is not one. */
bool jp_quantity_string(const char *text, char *buf, size_t n);
/* The value as a long double, for comparisons (requests against limits, signs). */
long double jp_quantity_approx(const struct jp_quantity *q);

#endif
