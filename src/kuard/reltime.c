/* go-humanize's RelTime, used in kuard's keygen lines ("9 seconds left") and probe history. */
#include "kuard/reltime.h"
#include "base/timefmt.h"

#include <stdio.h>

void kuard_reltime(char *buf, size_t n, int64_t a_ns, int64_t b_ns, const char *a_label,
                   const char *b_label)
{
    const int64_t sec = JP_NS_PER_SEC, min = 60 * sec, hour = 60 * min, day = 24 * hour,
                  week = 7 * day, month = 30 * day, year = 12 * month;
    const char *lbl = a_ns > b_ns ? b_label : a_label;
    int64_t d = a_ns > b_ns ? a_ns - b_ns : b_ns - a_ns;
    /* go-humanize's default magnitudes: the first row whose bound exceeds d. A row either has a
     * fixed phrase or counts d in units of div. */
    const struct {
        int64_t bound;
        const char *phrase; /* fixed text, or the unit name when div != 0 */
        int64_t div;
    } rows[] = {
        {sec, "now", 0},
        {2 * sec, "1 second", 0},
        {min, "seconds", sec},
        {2 * min, "1 minute", 0},
        {hour, "minutes", min},
        {2 * hour, "1 hour", 0},
        {day, "hours", hour},
        {2 * day, "1 day", 0},
        {week, "days", day},
        {2 * week, "1 week", 0},
        {month, "weeks", week},
        {2 * month, "1 month", 0},
        {year, "months", month},
        {18 * month, "1 year", 0},
        {2 * year, "2 years", 0},
        {37 * year, "years", year},
        {INT64_MAX, "a long while", 0},
    };
    size_t i = 0;
    while (i + 1 < sizeof(rows) / sizeof(rows[0]) && rows[i].bound <= d)
        i++;
    if (i == 0)
        snprintf(buf, n, "now");
    else if (rows[i].div == 0)
        snprintf(buf, n, "%s %s", rows[i].phrase, lbl);
    else
        snprintf(buf, n, "%lld %s %s", (long long)(d / rows[i].div), rows[i].phrase, lbl);
}
