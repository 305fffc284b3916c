/* Timestamp formatting/parsing and HumanDuration, with the exact rounding Kubernetes uses:
 * every step of HumanDuration truncates toward zero. */
#include "base/timefmt.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t jp_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * JP_NS_PER_SEC + ts.tv_nsec;
}

int64_t jp_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * JP_NS_PER_SEC + ts.tv_nsec;
}

size_t jp_time_format(char buf[JP_TIME_BUFLEN], int64_t unix_ns, enum jp_time_frac frac)
{
    /* Floor division so instants before 1970 keep a non-negative fraction. */
    int64_t sec = unix_ns / JP_NS_PER_SEC;
    int64_t nsec = unix_ns % JP_NS_PER_SEC;
    if (nsec < 0) {
        nsec += JP_NS_PER_SEC;
        sec--;
    }
    const int64_t min_sec = -62167219200LL, max_sec = 253402300799LL; /* 0000-01-01 .. 9999 */
    if (sec < min_sec) sec = min_sec, nsec = 0;
    if (sec > max_sec) sec = max_sec, nsec = 999999999;
    time_t t = (time_t)sec;
    struct tm tm;
    gmtime_r(&t, &tm);
    int n = snprintf(buf, JP_TIME_BUFLEN, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (frac == JP_TIME_MICRO) {
        n += snprintf(buf + n, JP_TIME_BUFLEN - (size_t)n, ".%06d", (int)(nsec / 1000));
    } else if (frac == JP_TIME_NANO_TRIM && nsec != 0) {
        n += snprintf(buf + n, JP_TIME_BUFLEN - (size_t)n, ".%09d", (int)nsec);
        while (buf[n - 1] == '0')
            n--;
    }
    buf[n++] = 'Z';
    buf[n] = '\0';
    return (size_t)n;
}

static int digits(const char **p, int count, int *out)
{
    int v = 0;
    for (int i = 0; i < count; i++) {
        if (!isdigit((unsigned char)(*p)[i])) return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += count;
    *out = v;
    return 0;
}

static int expect(const char **p, char c)
{
    if (**p != c) return -1;
    (*p)++;
    return 0;
}

static int days_in_month(int year, int month)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : d[month - 1];
}

int jp_time_parse(const char *s, int64_t *unix_ns, struct jp_err **err)
{
    const char *p = s;
    int Y, M, D, h, m, sec, nsec = 0, off = 0;
    if (digits(&p, 4, &Y) || expect(&p, '-') || digits(&p, 2, &M) || expect(&p, '-') ||
        digits(&p, 2, &D))
        goto bad;
    if (*p != 'T' && *p != 't') goto bad;
    p++;
    if (digits(&p, 2, &h) || expect(&p, ':') || digits(&p, 2, &m) || expect(&p, ':') ||
        digits(&p, 2, &sec))
        goto bad;
    if (M < 1 || M > 12 || D < 1 || D > days_in_month(Y, M) || h > 23 || m > 59 || sec > 59)
        goto bad;
    if (*p == '.') {
        p++;
        int n = 0, scale = 100000000;
        while (isdigit((unsigned char)*p)) {
            if (n < 9) nsec += (*p - '0') * scale, scale /= 10;
            n++, p++;
        }
        if (n == 0) goto bad;
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, oh, om;
        p++;
        if (digits(&p, 2, &oh) || expect(&p, ':') || digits(&p, 2, &om) || oh > 23 || om > 59)
            goto bad;
        off = sign * (oh * 3600 + om * 60);
    } else {
        goto bad;
    }
    if (*p != '\0') goto bad;
    struct tm tm = {.tm_year = Y - 1900,
                    .tm_mon = M - 1,
                    .tm_mday = D,
                    .tm_hour = h,
                    .tm_min = m,
                    .tm_sec = sec};
    int64_t t = (int64_t)timegm(&tm) - off;
    /* nanoseconds since 1970 fit in int64 from 1677 to 2262 */
    if (t > INT64_MAX / JP_NS_PER_SEC - 1 || t < INT64_MIN / JP_NS_PER_SEC + 1)
        return jp_err_set(err, JP_BAD_REQUEST, 0, "time \"%s\" is out of range", s);
    *unix_ns = t * JP_NS_PER_SEC + nsec;
    return 0;
bad:
    return jp_err_set(err, JP_BAD_REQUEST, 0, "invalid RFC 3339 time \"%s\"", s);
}

size_t jp_human_duration(char *buf, size_t n, int64_t ns)
{
    int64_t s = ns / JP_NS_PER_SEC;
    int r;
    if (s < -1) {
        r = snprintf(buf, n, "<invalid>");
    } else if (s < 0) {
        r = snprintf(buf, n, "0s");
    } else if (s < 120) {
        r = snprintf(buf, n, "%llds", (long long)s);
    } else if (s / 60 < 10) {
        int64_t mm = s / 60, ss = s % 60;
        r = ss ? snprintf(buf, n, "%lldm%llds", (long long)mm, (long long)ss)
               : snprintf(buf, n, "%lldm", (long long)mm);
    } else if (s / 60 < 180) {
        r = snprintf(buf, n, "%lldm", (long long)(s / 60));
    } else {
        int64_t hours = s / 3600;
        if (hours < 8) {
            int64_t mm = (s / 60) % 60;
            r = mm ? snprintf(buf, n, "%lldh%lldm", (long long)hours, (long long)mm)
                   : snprintf(buf, n, "%lldh", (long long)hours);
        } else if (hours < 48) {
            r = snprintf(buf, n, "%lldh", (long long)hours);
        } else if (hours < 24 * 8) {
            int64_t hh = hours % 24;
            r = hh ? snprintf(buf, n, "%lldd%lldh", (long long)(hours / 24), (long long)hh)
                   : snprintf(buf, n, "%lldd", (long long)(hours / 24));
        } else if (hours < 24 * 365 * 2) {
            r = snprintf(buf, n, "%lldd", (long long)(hours / 24));
        } else if (hours < 24 * 365 * 8) {
            int64_t years = hours / 24 / 365, dd = (hours / 24) % 365;
            r = dd ? snprintf(buf, n, "%lldy%lldd", (long long)years, (long long)dd)
                   : snprintf(buf, n, "%lldy", (long long)years);
        } else {
            r = snprintf(buf, n, "%lldy", (long long)(hours / 24 / 365));
        }
    }
    return r < 0 ? 0 : (size_t)r >= n ? n - 1 : (size_t)r;
}
