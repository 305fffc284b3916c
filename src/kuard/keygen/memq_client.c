/* memq consumer requests over libcurl. A 2xx with a body must be a JSON message (kuard decodes
 * it); 204 means the queue is empty; anything >= 300 is an error the worker retries. */
#include "kuard/keygen/memq_client.h"
#include "base/alloc.h"
#include "base/buf.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REPLY (4u << 20)

struct memq_client {
    CURL *curl;
    char *url;
    char *noproxy;
    const atomic_bool *cancel;
    struct jp_buf body;
    char status_line[128]; /* "400 Bad Request" from the last response's status line */
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    struct memq_client *c = arg;
    return jp_buf_append(&c->body, p, size * n) < 0 ? 0 : size * n; /* 0 aborts: too large */
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    struct memq_client *c = arg;
    size_t len = size * n;
    if (len > 9 && strncmp(p, "HTTP/", 5) == 0) {
        const char *sp = memchr(p, ' ', len);
        if (sp) {
            size_t rest = len - (size_t)(sp + 1 - p);
            while (rest > 0 && (sp[rest] == '\r' || sp[rest] == '\n'))
                rest--;
            if (rest >= sizeof(c->status_line)) rest = sizeof(c->status_line) - 1;
            memcpy(c->status_line, sp + 1, rest);
            c->status_line[rest] = '\0';
        }
    }
    return len;
}

static int on_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t x, curl_off_t y)
{
    (void)a, (void)b, (void)x, (void)y;
    struct memq_client *c = arg;
    return c->cancel && atomic_load(c->cancel) ? 1 : 0;
}

struct memq_client *memq_client_new(const char *base_url, const char *queue,
                                    const atomic_bool *cancel)
{
    struct memq_client *c = jp_xcalloc(1, sizeof(*c));
    c->curl = curl_easy_init();
    if (c->curl == NULL) {
        free(c);
        return NULL;
    }
    c->cancel = cancel;
    char *q = curl_easy_escape(c->curl, queue, 0);
    c->url = jp_xasprintf("%s/queues/%s/dequeue", base_url, q ? q : "");
    curl_free(q);
    /* Like Go's ProxyFromEnvironment, never send loopback traffic through a proxy. */
    const char *np = getenv("no_proxy") ? getenv("no_proxy") : getenv("NO_PROXY");
    c->noproxy = jp_xasprintf("%s%slocalhost,127.0.0.1,::1", np ? np : "", np && *np ? "," : "");
    jp_buf_init(&c->body, MAX_REPLY);
    CURL *h = c->curl;
    curl_easy_setopt(h, CURLOPT_URL, c->url);
    curl_easy_setopt(h, CURLOPT_NOPROXY, c->noproxy);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, c);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "Go-http-client/1.1");
    return c;
}

void memq_client_free(struct memq_client *c)
{
    if (c == NULL) return;
    curl_easy_cleanup(c->curl);
    jp_buf_free(&c->body);
    free(c->url);
    free(c->noproxy);
    free(c);
}

enum memq_dequeue_result memq_client_dequeue(struct memq_client *c, struct jp_err **err)
{
    jp_buf_reset(&c->body);
    c->status_line[0] = '\0';
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, errbuf);
    CURLcode rc = curl_easy_perform(c->curl);
    curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, NULL);
    if (rc != CURLE_OK) {
        jp_err_set(err, JP_SERVICE_UNAVAILABLE, 0, "Post \"%s\": %s", c->url,
                   *errbuf ? errbuf : curl_easy_strerror(rc));
        return MEMQ_DQ_ERROR;
    }
    long code = 0;
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &code);
    if (code >= 300) {
        jp_err_set(err, JP_SERVICE_UNAVAILABLE, 0, "HTTP Error: %s",
                   *c->status_line ? c->status_line : "unknown status");
        return MEMQ_DQ_ERROR;
    }
    if (code == 204) return MEMQ_DQ_EMPTY;
    json_error_t jerr;
    json_t *msg = json_loadb(c->body.data ? c->body.data : "", c->body.len, 0, &jerr);
    if (!json_is_object(msg)) {
        json_decref(msg);
        jp_err_set(err, JP_SERVICE_UNAVAILABLE, 0, "invalid message from server: %s",
                   msg ? "not an object" : jerr.text);
        return MEMQ_DQ_ERROR;
    }
    json_decref(msg);
    return MEMQ_DQ_ITEM;
}
