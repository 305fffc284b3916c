/* Go-compatible JSON string encoder. Runs of bytes that need no escaping are copied at once. */
#include "base/jsonstr.h"

#include <stdbool.h>
#include <stdint.h>

size_t jp_utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80) return 1;
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0) lo = 0xA0; /* overlong */
        if (c == 0xED) hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0) lo = 0x90; /* overlong */
        if (c == 0xF4) hi = 0x8F; /* above U+10FFFF */
    } else {
        return 0;
    }
    if (n < len || s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF) return 0;
    return len;
}

static bool needs_escape(unsigned char c, unsigned flags)
{
    if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80) return true;
    return (flags & JP_JSON_HTML_ESCAPE) && (c == '<' || c == '>' || c == '&');
}

int jp_json_quote(struct jp_buf *b, const char *str, size_t n, unsigned flags)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    if (jp_buf_appendc(b, '"') < 0) return -1;
    size_t start = 0, i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (!needs_escape(c, flags)) {
            i++;
            continue;
        }
        size_t seq = c >= 0x80 ? jp_utf8_seq_len(s + i, n - i) : 0;
        /* Valid multi-byte UTF-8 passes through, except the two JavaScript line separators. */
        if (seq > 1 &&
            !(seq == 3 && s[i] == 0xE2 && s[i + 1] == 0x80 && (s[i + 2] & 0xFE) == 0xA8)) {
            i += seq;
            continue;
        }
        if (jp_buf_append(b, s + start, i - start) < 0) return -1;
        char esc[7];
        const char *out = esc;
        size_t outlen = 2;
        esc[0] = '\\';
        if (seq == 3) { /* U+2028 or U+2029 */
            out = s[i + 2] == 0xA8 ? "\\u2028" : "\\u2029";
            outlen = 6;
            i += 3;
        } else if (c >= 0x80) {
            out = "\\ufffd";
            outlen = 6;
            i++;
        } else {
            switch (c) {
            case '"':
                esc[1] = '"';
                break;
            case '\\':
                esc[1] = '\\';
                break;
            case '\n':
                esc[1] = 'n';
                break;
            case '\r':
                esc[1] = 'r';
                break;
            case '\t':
                esc[1] = 't';
                break;
            default:
                esc[1] = 'u', esc[2] = '0', esc[3] = '0';
                esc[4] = hex[c >> 4], esc[5] = hex[c & 15];
                outlen = 6;
            }
            i++;
        }
        if (jp_buf_append(b, out, outlen) < 0) return -1;
        start = i;
    }
    if (jp_buf_append(b, s + start, n - start) < 0) return -1;
    return jp_buf_appendc(b, '"');
}
