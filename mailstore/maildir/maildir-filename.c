/* maildir-filename.c: pure functions over Maildir file names: the base name
 * (before ':'), the ",S=<size>,W=<vsize>" fields, and the ":2,<letters>" info
 * holding system flags (DFPRST) and keyword letters (a..z). */
#include <stdlib.h>
#include <string.h>

#include "maildir.h"

static const char flag_letters[] = "DFPRST"; /* bit i = letter i; sorted */

size_t maildir_filename_base_len(const char *fname)
{
	const char *c = strchr(fname, ':');
	return c != NULL ? (size_t)(c - fname) : strlen(fname);
}

void maildir_filename_flags(const char *fname, unsigned *flags_r, uint32_t *keywords_r)
{
	unsigned flags = 0;
	uint32_t kw = 0;
	const char *info = strstr(fname, ":2,");
	if (info != NULL) {
		for (const char *p = info + 3; *p != '\0'; p++) {
			const char *f = strchr(flag_letters, *p);
			if (*p >= 'a' && *p <= 'z')
				kw |= 1u << (*p - 'a');
			else if (f != NULL)
				flags |= 1u << (f - flag_letters);
		}
	}
	*flags_r = flags;
	*keywords_r = kw;
}

/* Parse ",<key>=<digits>" inside base[0..len). 0 found, -1 not. */
static int find_size(const char *base, size_t len, char key, uint64_t *val_r)
{
	for (size_t i = 0; i + 2 < len; i++) {
		if (base[i] != ',' || base[i + 1] != key || base[i + 2] != '=')
			continue;
		uint64_t v = 0;
		size_t j = i + 3, digits = 0;
		while (j < len && base[j] >= '0' && base[j] <= '9' && digits < 19) {
			v = v * 10 + (uint64_t)(base[j] - '0');
			j++;
			digits++;
		}
		if (digits > 0 && (j == len || base[j] == ',')) {
			*val_r = v;
			return 0;
		}
	}
	return -1;
}

int maildir_filename_sizes(const char *fname, uint64_t *size_r, uint64_t *vsize_r)
{
	size_t len = maildir_filename_base_len(fname);
	*size_r = 0;
	*vsize_r = 0;
	int a = find_size(fname, len, 'S', size_r);
	int b = find_size(fname, len, 'W', vsize_r);
	return a == 0 && b == 0 ? 0 : -1;
}

char *maildir_filename_make(const char *base, unsigned flags, uint32_t keywords)
{
	size_t blen = maildir_filename_base_len(base);
	char *s = malloc(blen + 3 + 6 + 26 + 1);
	if (s == NULL)
		return NULL;
	memcpy(s, base, blen);
	size_t n = blen;
	memcpy(s + n, ":2,", 3);
	n += 3;
	/* upper case sorts before lower case, so this is the sorted order */
	for (unsigned i = 0; i < 6; i++)
		if (flags & (1u << i))
			s[n++] = flag_letters[i];
	for (unsigned i = 0; i < MAILDIR_KEYWORDS_MAX; i++)
		if (keywords & (1u << i))
			s[n++] = (char)('a' + i);
	s[n] = '\0';
	return s;
}

uint64_t maildir_vsize(const char *p, size_t len)
{
	uint64_t w = len;
	for (size_t i = 0; i < len; i++)
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			w++;
	return w;
}
