/* imap-parse-args.c: pure parsers of IMAP argument forms for the session
 * commands: astring/nstring access, sequence sets (RFC 3501 seq-set), flag
 * lists and FETCH attributes with sections and partials. */
#include "imap-parse.h"

#include <string.h>
#include <strings.h>

int imap_arg_atom_eq(const struct imap_arg *a, const char *word)
{
	size_t n = strlen(word);
	return (a->type == IMAP_ARG_ATOM || a->type == IMAP_ARG_NIL) && a->len == n &&
	       strncasecmp(a->str, word, n) == 0;
}

int imap_arg_astring(const struct imap_arg *a, const char **str_r, size_t *len_r)
{
	if (a->type == IMAP_ARG_LIST || (a->flags & IMAP_ARG_F_LITERAL8))
		return -1;
	if (a->type == IMAP_ARG_ATOM || a->type == IMAP_ARG_NIL) {
		/* ASTRING-CHAR is ATOM-CHAR or ']': '[' and ']' are fine, list
		 * wildcards and a section's spaces, lists or quotes are not */
		for (size_t i = 0; i < a->len; i++)
			if (a->str[i] == '\0' || strchr(" ()\"%*", a->str[i]) != NULL)
				return -1;
	}
	*str_r = a->str;
	*len_r = a->len;
	return 0;
}

int imap_arg_nstring(const struct imap_arg *a, const char **str_r, size_t *len_r)
{
	if (a->type == IMAP_ARG_NIL) {
		*str_r = NULL;
		*len_r = 0;
		return 0;
	}
	if (a->type == IMAP_ARG_ATOM)
		return -1;
	return imap_arg_astring(a, str_r, len_r);
}

/* nz-number or '*': 1..4294967295 without leading zeros. */
static int seq_number(const char *p, size_t len, size_t *i, uint64_t *n_r)
{
	if (*i < len && p[*i] == '*') {
		(*i)++;
		*n_r = IMAP_SEQ_STAR;
		return 0;
	}
	uint64_t n = 0;
	size_t start = *i;
	if (*i < len && p[*i] == '0')
		return -1; /* 0 and leading zeros */
	while (*i < len && p[*i] >= '0' && p[*i] <= '9') {
		n = n * 10 + (uint64_t)(p[*i] - '0');
		if (n > UINT32_MAX)
			return -1;
		(*i)++;
	}
	if (*i == start)
		return -1;
	*n_r = n;
	return 0;
}

int imap_seqset_parse(const char *p, size_t len, struct imap_seq_range *ranges, size_t max,
                      size_t *count_r, const char **error_r)
{
	size_t i = 0, n = 0;
	*count_r = 0;
	for (;;) {
		uint64_t lo, hi;
		if (seq_number(p, len, &i, &lo) < 0) {
			*error_r = "Invalid sequence set";
			return -1;
		}
		hi = lo;
		if (i < len && p[i] == ':') {
			i++;
			if (seq_number(p, len, &i, &hi) < 0) {
				*error_r = "Invalid sequence set";
				return -1;
			}
		}
		if (n >= max) {
			*error_r = "Sequence set too long";
			return -1;
		}
		ranges[n].lo = lo < hi ? lo : hi;
		ranges[n].hi = lo < hi ? hi : lo;
		n++;
		if (i == len)
			break;
		if (p[i] != ',' || i + 1 == len) {
			*error_r = "Invalid sequence set";
			return -1;
		}
		i++;
	}
	*count_r = n;
	return 0;
}

void imap_seqset_resolve(struct imap_seq_range *ranges, size_t count, uint32_t star)
{
	for (size_t i = 0; i < count; i++) {
		uint64_t lo = ranges[i].lo == IMAP_SEQ_STAR ? star : ranges[i].lo;
		uint64_t hi = ranges[i].hi == IMAP_SEQ_STAR ? star : ranges[i].hi;
		ranges[i].lo = lo < hi ? lo : hi;
		ranges[i].hi = lo < hi ? hi : lo;
	}
}

int imap_seqset_contains(const struct imap_seq_range *ranges, size_t count, uint32_t n)
{
	for (size_t i = 0; i < count; i++)
		if (n >= ranges[i].lo && n <= ranges[i].hi)
			return 1;
	return 0;
}

static int flag_one(const struct imap_arg *a, int allow_recent, struct imap_flags *f,
                    const char **error_r)
{
	static const struct {
		const char *name;
		unsigned bit;
	} sys[] = {{"\\Seen", IMAP_FLAG_SEEN},       {"\\Answered", IMAP_FLAG_ANSWERED},
	           {"\\Flagged", IMAP_FLAG_FLAGGED}, {"\\Deleted", IMAP_FLAG_DELETED},
	           {"\\Draft", IMAP_FLAG_DRAFT},     {"\\Recent", IMAP_FLAG_RECENT}};
	*error_r = "Invalid flag";
	if (a->type != IMAP_ARG_ATOM && a->type != IMAP_ARG_NIL)
		return -1;
	for (size_t i = 0; i < a->len; i++)
		if (strchr("[]%*", a->str[i]) != NULL || (i > 0 && a->str[i] == '\\'))
			return -1;
	if (a->str[0] == '\\') {
		for (size_t i = 0; i < sizeof(sys) / sizeof(sys[0]); i++) {
			if (!imap_arg_atom_eq(a, sys[i].name))
				continue;
			if (sys[i].bit == IMAP_FLAG_RECENT && !allow_recent) {
				*error_r = "\\Recent flag may not be set";
				return -1;
			}
			f->system |= sys[i].bit;
			return 0;
		}
		return -1; /* unknown flag-extension */
	}
	for (unsigned i = 0; i < f->nkeywords; i++)
		if (f->keyword_lens[i] == a->len &&
		    strncasecmp(f->keywords[i], a->str, a->len) == 0)
			return 0;
	if (f->nkeywords >= IMAP_KEYWORDS_MAX) {
		*error_r = "Too many keywords";
		return -1;
	}
	f->keywords[f->nkeywords] = a->str;
	f->keyword_lens[f->nkeywords++] = a->len;
	return 0;
}

int imap_flags_parse(const struct imap_arg *a, int allow_recent, struct imap_flags *f,
                     const char **error_r)
{
	memset(f, 0, sizeof(*f));
	if (a->type != IMAP_ARG_LIST)
		return flag_one(a, allow_recent, f, error_r);
	for (unsigned i = 0; i < a->count; i++)
		if (flag_one(&a->list[i], allow_recent, f, error_r) < 0)
			return -1;
	return 0;
}

static int word_at(const char *p, size_t len, size_t *i, const char *w)
{
	size_t n = strlen(w);
	if (len - *i < n || strncasecmp(p + *i, w, n) != 0)
		return 0;
	*i += n;
	return 1;
}

static int number_at(const char *p, size_t len, size_t *i, uint32_t *n_r, int nonzero)
{
	uint64_t n = 0;
	size_t start = *i;
	while (*i < len && p[*i] >= '0' && p[*i] <= '9' && *i - start < 10) {
		n = n * 10 + (uint64_t)(p[*i] - '0');
		(*i)++;
	}
	if (*i == start || n > UINT32_MAX || (nonzero && n == 0) ||
	    (*i < len && p[*i] >= '0' && p[*i] <= '9'))
		return -1;
	*n_r = (uint32_t)n;
	return 0;
}

/* "(name name ...)" of HEADER.FIELDS: astrings, here atoms or quoted. */
static int section_fields(const char *p, size_t len, size_t *i, struct imap_fetch_att *att)
{
	if (!word_at(p, len, i, " ("))
		return -1;
	for (;;) {
		size_t start = *i;
		int quoted = *i < len && p[*i] == '"';
		if (quoted) {
			start = ++(*i);
			while (*i < len && p[*i] > 0x20 && p[*i] < 0x7f && p[*i] != '"' &&
			       p[*i] != '\\')
				(*i)++;
			if (*i >= len || p[*i] != '"')
				return -1; /* escapes are never needed in a header name */
		} else {
			while (*i < len && p[*i] > 0x20 && p[*i] < 0x7f &&
			       strchr("()\"[]", p[*i]) == NULL)
				(*i)++;
		}
		if (*i == start || att->nfields >= IMAP_FETCH_FIELDS_MAX)
			return -1;
		att->fields[att->nfields] = p + start;
		att->field_lens[att->nfields++] = *i - start;
		if (quoted)
			(*i)++;
		if (*i < len && p[*i] == ')') {
			(*i)++;
			return 0;
		}
		if (*i >= len || p[*i] != ' ')
			return -1;
		(*i)++;
	}
}

/* section-spec after '[': parts, then HEADER / HEADER.FIELDS[.NOT] / TEXT / MIME. */
static int section_parse(const char *p, size_t len, size_t *i, struct imap_fetch_att *att)
{
	int dot = 0;
	while (*i < len && p[*i] >= '0' && p[*i] <= '9') {
		if (att->nparts >= IMAP_FETCH_PARTS_MAX || p[*i] == '0' ||
		    number_at(p, len, i, &att->parts[att->nparts], 1) < 0)
			return -1;
		att->nparts++;
		dot = *i < len && p[*i] == '.';
		if (!dot)
			break;
		(*i)++;
	}
	if (att->nparts > 0 && !dot)
		return 0; /* BODY[1.2]: the caller checks the ']' */
	att->section = IMAP_FETCH_SECTION_ALL;
	if (word_at(p, len, i, "HEADER.FIELDS.NOT")) {
		att->section = IMAP_FETCH_SECTION_HEADER_FIELDS_NOT;
		return section_fields(p, len, i, att);
	}
	if (word_at(p, len, i, "HEADER.FIELDS")) {
		att->section = IMAP_FETCH_SECTION_HEADER_FIELDS;
		return section_fields(p, len, i, att);
	}
	if (word_at(p, len, i, "HEADER"))
		att->section = IMAP_FETCH_SECTION_HEADER;
	else if (word_at(p, len, i, "TEXT"))
		att->section = IMAP_FETCH_SECTION_TEXT;
	else if (att->nparts > 0 && word_at(p, len, i, "MIME"))
		att->section = IMAP_FETCH_SECTION_MIME;
	else if (att->nparts > 0)
		return -1; /* "1." followed by nothing known */
	return 0;
}

static int body_section(const char *p, size_t len, size_t i, struct imap_fetch_att *att)
{
	att->kind = IMAP_FETCH_BODY_SECTION;
	att->section_str = p + i;
	if (section_parse(p, len, &i, att) < 0 || i >= len || p[i] != ']')
		return -1;
	att->section_len = (size_t)(p + i - att->section_str);
	i++;
	if (i < len && p[i] == '<') {
		i++;
		if (number_at(p, len, &i, &att->partial_start, 0) < 0 || i >= len || p[i] != '.')
			return -1;
		i++;
		if (number_at(p, len, &i, &att->partial_len, 1) < 0 || i >= len || p[i] != '>')
			return -1;
		i++;
		att->partial = 1;
	}
	return i == len ? 0 : -1;
}

int imap_fetch_att_parse(const char *p, size_t len, struct imap_fetch_att *att,
                         const char **error_r)
{
	static const struct {
		const char *name;
		enum imap_fetch_kind kind;
	} simple[] = {{"FLAGS", IMAP_FETCH_FLAGS},
	              {"INTERNALDATE", IMAP_FETCH_INTERNALDATE},
	              {"RFC822", IMAP_FETCH_RFC822},
	              {"RFC822.HEADER", IMAP_FETCH_RFC822_HEADER},
	              {"RFC822.SIZE", IMAP_FETCH_RFC822_SIZE},
	              {"RFC822.TEXT", IMAP_FETCH_RFC822_TEXT},
	              {"ENVELOPE", IMAP_FETCH_ENVELOPE},
	              {"BODY", IMAP_FETCH_BODY},
	              {"BODYSTRUCTURE", IMAP_FETCH_BODYSTRUCTURE},
	              {"UID", IMAP_FETCH_UID}};
	memset(att, 0, sizeof(*att));
	att->raw = p;
	att->raw_len = len;
	*error_r = "Invalid fetch attribute";
	for (size_t k = 0; k < sizeof(simple) / sizeof(simple[0]); k++) {
		if (strlen(simple[k].name) == len && strncasecmp(p, simple[k].name, len) == 0) {
			att->kind = simple[k].kind;
			return 0;
		}
	}
	size_t i = 0;
	if (word_at(p, len, &i, "BODY.PEEK["))
		att->peek = 1;
	else if (!word_at(p, len, &i, "BODY["))
		return -1;
	if (body_section(p, len, i, att) < 0) {
		*error_r = "Invalid BODY[] section";
		return -1;
	}
	return 0;
}

static int fetch_macro(const struct imap_arg *a, struct imap_fetch_att *atts, size_t max,
                       size_t *count_r)
{
	static const char *const all[] = {"FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE",
	                                  "BODY"};
	size_t n;
	if (imap_arg_atom_eq(a, "ALL"))
		n = 4;
	else if (imap_arg_atom_eq(a, "FAST"))
		n = 3;
	else if (imap_arg_atom_eq(a, "FULL"))
		n = 5;
	else
		return 0;
	if (n > max)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const char *e;
		imap_fetch_att_parse(all[i], strlen(all[i]), &atts[i], &e);
	}
	*count_r = n;
	return 1;
}

int imap_fetch_parse(const struct imap_arg *a, struct imap_fetch_att *atts, size_t max,
                     size_t *count_r, const char **error_r)
{
	*count_r = 0;
	*error_r = "Too many fetch attributes";
	if (a->type == IMAP_ARG_ATOM) {
		int m = fetch_macro(a, atts, max, count_r);
		if (m != 0)
			return m < 0 ? -1 : 0;
		if (max < 1)
			return -1;
		if (imap_fetch_att_parse(a->str, a->len, &atts[0], error_r) < 0)
			return -1;
		*count_r = 1;
		return 0;
	}
	if (a->type != IMAP_ARG_LIST || a->count == 0) {
		*error_r = "Invalid fetch attribute";
		return -1;
	}
	if (a->count > max)
		return -1;
	for (unsigned i = 0; i < a->count; i++) {
		const struct imap_arg *e = &a->list[i];
		if (e->type != IMAP_ARG_ATOM) {
			*error_r = "Invalid fetch attribute";
			return -1;
		}
		if (imap_fetch_att_parse(e->str, e->len, &atts[i], error_r) < 0)
			return -1;
	}
	*count_r = a->count;
	return 0;
}
