/* Kubernetes protobuf request bodies (application/vnd.kubernetes.protobuf, which kubectl >= 1.32
 * sends from typed clients, e.g. `kubectl create job`) into the JSON that client would have sent,
 * read field by field against the generated schema's protobuf numbers (src/api/schema.h). */
#ifndef JP_CODEC_PROTOBUF_H
#define JP_CODEC_PROTOBUF_H

#include "base/err.h"

#include <jansson.h>
#include <stddef.h>

#define JP_PROTO_MEDIA_TYPE "application/vnd.kubernetes.protobuf"

/* Caps per call: message nesting (the schema's own depth is under 20), and JSON values produced
 * (every scalar, array, object and map value; a packed list costs one per element, so a body of
 * n bytes stays near n values). The body's own size is the caller's to cap (JP_MAX_BODY). */
#define JP_PROTO_MAX_DEPTH 100
#define JP_PROTO_MAX_NODES 1000000

/* Decodes len bytes of body: the "k8s\0" magic, then a runtime.Unknown {1: typeMeta {1:
 * apiVersion, 2: kind}, 2: raw, 3: contentEncoding, 4: contentType} whose raw is the object,
 * decoded as the schema type expected_type (a JP_T_* of api/schema_types_gen.h, e.g. the kind's
 * schema_type). The result is what Go's json.Marshal of the same object gives, minus its nulls:
 *
 * - "kind" and "apiVersion" come first, from the envelope (absent when it has them empty);
 *   the caller checks them against the URL, as for JSON bodies.
 * - Protobuf carries every non-pointer scalar, zero or not; a zero string, number, bool or byte
 *   string is dropped when the Go field is `omitempty` and not a pointer, as json.Marshal would.
 *   Structs are always kept ("resources": {}); an empty Time is dropped (JSON null).
 * - Time is RFC 3339 in seconds (Go drops the nanoseconds), MicroTime has 6 fraction digits;
 *   []byte is base64; Quantity is its string; IntOrString a number or a string; RawExtension and
 *   FieldsV1 are their raw JSON (dropped when it does not parse).
 * - Field numbers the schema does not know are skipped, as Go skips them.
 *
 * Errors: JP_BAD_REQUEST "invalid protobuf body: ..." for malformed input (truncation, lengths
 * beyond the data, wrong wire types, invalid UTF-8 or NUL in strings, caps exceeded, a content
 * encoding or type other than protobuf); JP_INTERNAL for an expected_type out of range.
 * On success *out (OUT: caller decrefs) is a JSON object, and *api_version_out and *kind_out
 * (each optional; OUT: caller frees) the envelope's strings, possibly empty. On failure every
 * out-parameter is NULL. */
int jp_proto_decode_object(const void *body, size_t len, int expected_type, json_t **out,
                           char **api_version_out, char **kind_out, struct jp_err **err);

#endif
