/* imap-parse-date.c: pure parsers of IMAP dates for the mailstore session:
 * SEARCH dates (d-Mon-yyyy) and the APPEND date-time with its zone. Both
 * check the calendar (days per month, leap years); no libc time zone use. */
#include "imap-parse.h"

#include <string.h>
#include <strings.h>

static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

static int leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int y, int m)
{
	static const int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 1 && leap(y) ? 29 : d[m];
}

static int digits(const char *p, size_t n, int *v)
{
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		*v = *v * 10 + (p[i] - '0');
	}
	return 0;
}

/* "d-Mon-yyyy" or "dd-Mon-yyyy" (a leading space stands for a digit when
 * fixed is set). Returns the bytes used or 0. */
static size_t date_text(const char *p, size_t len, int fixed, struct tm *tm)
{
	size_t i;
	int d, y, m;
	if (len >= 2 && p[1] == '-')
		i = 1;
	else if (len >= 3 && p[2] == '-')
		i = 2;
	else
		return 0;
	if (i == 2 && p[0] == ' ' && fixed) {
		if (digits(p + 1, 1, &d) < 0)
			return 0;
	} else if (digits(p, i, &d) < 0) {
		return 0;
	}
	if (len < i + 9 || p[i + 4] != '-')
		return 0;
	for (m = 0; m < 12; m++)
		if (strncasecmp(p + i + 1, months[m], 3) == 0)
			break;
	if (m == 12 || digits(p + i + 5, 4, &y) < 0 || y < 1)
		return 0;
	if (d < 1 || d > month_days(y, m))
		return 0;
	memset(tm, 0, sizeof(*tm));
	tm->tm_mday = d;
	tm->tm_mon = m;
	tm->tm_year = y - 1900;
	return i + 9;
}

int imap_date_parse(const char *p, size_t len, struct tm *tm_r)
{
	struct tm tm;
	size_t n = date_text(p, len, 0, &tm);
	if (n == 0 || n != len)
		return -1;
	*tm_r = tm;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (m 1..12). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int imap_datetime_parse(const char *p, size_t len, time_t *t_r, int *tz_r)
{
	struct tm tm;
	size_t i = date_text(p, len, 1, &tm);
	int hh, mm, ss, zh, zm;
	/* " hh:mm:ss +zzzz" */
	if (i == 0 || len - i != 15 || p[i] != ' ' || p[i + 3] != ':' || p[i + 6] != ':' ||
	    p[i + 9] != ' ' || (p[i + 10] != '+' && p[i + 10] != '-'))
		return -1;
	if (digits(p + i + 1, 2, &hh) < 0 || digits(p + i + 4, 2, &mm) < 0 ||
	    digits(p + i + 7, 2, &ss) < 0 || digits(p + i + 11, 2, &zh) < 0 ||
	    digits(p + i + 13, 2, &zm) < 0)
		return -1;
	if (hh > 23 || mm > 59 || ss > 60 || zh > 23 || zm > 59)
		return -1;
	int tz = (zh * 60 + zm) * 60 * (p[i + 10] == '-' ? -1 : 1);
	int64_t days = days_from_civil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	int64_t t = days * 86400 + hh * 3600 + mm * 60 + ss - tz;
	*t_r = (time_t)t;
	*tz_r = tz;
	return 0;
}
