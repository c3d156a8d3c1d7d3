/* imap-search.c: SEARCH criteria (RFC 3501 6.4.4) from the parsed argument
 * list to a key tree (imap-search.h). Pure: no I/O, no globals. Recursion is
 * bounded by IMAP_SEARCH_DEPTH_MAX and the node pool by the argument count, so
 * hostile input costs at most a few nodes per argument. */
#include "imap-search.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum arg_kind {
	ARG_NONE,
	ARG_FLAG,    /* a system flag test, no argument */
	ARG_HEADER,  /* one string; the header name is in the table */
	ARG_HEADER2, /* HEADER name value */
	ARG_STRING,  /* BODY / TEXT */
	ARG_KEYWORD,
	ARG_DATE,
	ARG_NUMBER,
	ARG_SEQSET,
	ARG_SPECIAL, /* NOT, OR, NEW, OLD */
};

struct key_def {
	const char *name;
	enum imap_search_kind kind;
	enum arg_kind arg;
	unsigned flag;
	const char *header;
	int negate; /* wrap in NOT */
};

static const struct key_def key_defs[] = {
    {"ALL", IMAP_SK_ALL, ARG_NONE, 0, NULL, 0},
    {"ANSWERED", IMAP_SK_FLAG, ARG_FLAG, IMAP_FLAG_ANSWERED, NULL, 0},
    {"BCC", IMAP_SK_HEADER, ARG_HEADER, 0, "Bcc", 0},
    {"BEFORE", IMAP_SK_BEFORE, ARG_DATE, 0, NULL, 0},
    {"BODY", IMAP_SK_BODY, ARG_STRING, 0, NULL, 0},
    {"CC", IMAP_SK_HEADER, ARG_HEADER, 0, "Cc", 0},
    {"DELETED", IMAP_SK_FLAG, ARG_FLAG, IMAP_FLAG_DELETED, NULL, 0},
    {"DRAFT", IMAP_SK_FLAG, ARG_FLAG, IMAP_FLAG_DRAFT, NULL, 0},
    {"FLAGGED", IMAP_SK_FLAG, ARG_FLAG, IMAP_FLAG_FLAGGED, NULL, 0},
    {"FROM", IMAP_SK_HEADER, ARG_HEADER, 0, "From", 0},
    {"HEADER", IMAP_SK_HEADER, ARG_HEADER2, 0, NULL, 0},
    {"KEYWORD", IMAP_SK_KEYWORD, ARG_KEYWORD, 0, NULL, 0},
    {"LARGER", IMAP_SK_LARGER, ARG_NUMBER, 0, NULL, 0},
    {"NEW", IMAP_SK_AND, ARG_SPECIAL, 0, NULL, 0},
    {"NOT", IMAP_SK_NOT, ARG_SPECIAL, 0, NULL, 0},
    {"OLD", IMAP_SK_NOT, ARG_SPECIAL, 0, NULL, 0},
    {"ON", IMAP_SK_ON, ARG_DATE, 0, NULL, 0},
    {"OR", IMAP_SK_OR, ARG_SPECIAL, 0, NULL, 0},
    {"RECENT", IMAP_SK_FLAG, ARG_FLAG, IMAP_FLAG_RECENT, NULL, 0},
    {"SEEN", IMAP_SK_FLAG, ARG_FLAG, IMAP_FLAG_SEEN, NULL, 0},
    {"SENTBEFORE", IMAP_SK_SENTBEFORE, ARG_DATE, 0, NULL, 0},
    {"SENTON", IMAP_SK_SENTON, ARG_DATE, 0, NULL, 0},
    {"SENTSINCE", IMAP_SK_SENTSINCE, ARG_DATE, 0, NULL, 0},
    {"SINCE", IMAP_SK_SINCE, ARG_DATE, 0, NULL, 0},
    {"SMALLER", IMAP_SK_SMALLER, ARG_NUMBER, 0, NULL, 0},
    {"SUBJECT", IMAP_SK_HEADER, ARG_HEADER, 0, "Subject", 0},
    {"TEXT", IMAP_SK_TEXT, ARG_STRING, 0, NULL, 0},
    {"TO", IMAP_SK_HEADER, ARG_HEADER, 0, "To", 0},
    {"UID", IMAP_SK_UID, ARG_SEQSET, 0, NULL, 0},
    {"UNANSWERED", IMAP_SK_FLAG, ARG_FLAG, IMAP_FLAG_ANSWERED, NULL, 1},
    {"UNDELETED", IMAP_SK_FLAG, ARG_FLAG, IMAP_FLAG_DELETED, NULL, 1},
    {"UNDRAFT", IMAP_SK_FLAG, ARG_FLAG, IMAP_FLAG_DRAFT, NULL, 1},
    {"UNFLAGGED", IMAP_SK_FLAG, ARG_FLAG, IMAP_FLAG_FLAGGED, NULL, 1},
    {"UNKEYWORD", IMAP_SK_KEYWORD, ARG_KEYWORD, 0, NULL, 1},
    {"UNSEEN", IMAP_SK_FLAG, ARG_FLAG, IMAP_FLAG_SEEN, NULL, 1},
};

/* Parser state for one command. */
struct sp {
	struct imap_search *q;
	const char *err;
	char errbuf[128];
};

static struct imap_search_key *node(struct sp *sp, enum imap_search_kind kind)
{
	if (sp->q->npool >= sp->q->cap) {
		sp->err = "Too many search keys";
		return NULL;
	}
	struct imap_search_key *k = &sp->q->pool[sp->q->npool++];
	memset(k, 0, sizeof(*k));
	k->kind = kind;
	k->kw_index = -1;
	return k;
}

/* Append child to parent's children. */
static void adopt(struct imap_search_key *parent, struct imap_search_key *child)
{
	struct imap_search_key **pp = &parent->children;
	while (*pp != NULL)
		pp = &(*pp)->next;
	*pp = child;
}

static struct imap_search_key *wrap_not(struct sp *sp, struct imap_search_key *k)
{
	struct imap_search_key *n = k != NULL ? node(sp, IMAP_SK_NOT) : NULL;
	if (n != NULL)
		adopt(n, k);
	return n;
}

/* A string argument: atom, quoted or literal (not literal8: SEARCH strings
 * are text, and a NUL could not match anything anyway). */
static int arg_string(const struct imap_arg *a, const char **str_r, size_t *len_r)
{
	if (a->type == IMAP_ARG_LIST || (a->flags & IMAP_ARG_F_LITERAL8))
		return -1;
	*str_r = a->len > 0 ? a->str : "";
	*len_r = a->len;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (m 1..12). */
static int64_t civil_days(int64_t y, int64_t m, int64_t d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static int parse_number(const char *p, size_t len, uint64_t *n_r)
{
	uint64_t n = 0;
	if (len == 0 || len > 10)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		n = n * 10 + (uint64_t)(p[i] - '0');
	}
	if (n > UINT32_MAX)
		return -1;
	*n_r = n;
	return 0;
}

static int parse_seqset(struct sp *sp, const struct imap_arg *a, struct imap_search_key *k)
{
	struct imap_seq_range *tmp = malloc(IMAP_SEARCH_RANGES_MAX * sizeof(*tmp));
	size_t n = 0;
	const char *e;
	if (tmp == NULL) {
		sp->err = "Out of memory";
		return -1;
	}
	if (a->type != IMAP_ARG_ATOM ||
	    imap_seqset_parse(a->str, a->len, tmp, IMAP_SEARCH_RANGES_MAX, &n, &e) < 0) {
		free(tmp);
		sp->err = "Invalid messageset";
		return -1;
	}
	/* keep only what is used: most sets are one or two ranges */
	k->ranges = malloc(n * sizeof(*tmp));
	if (k->ranges != NULL)
		memcpy(k->ranges, tmp, n * sizeof(*tmp));
	free(tmp);
	if (k->ranges == NULL) {
		sp->err = "Out of memory";
		return -1;
	}
	k->nranges = n;
	return 0;
}

static struct imap_search_key *parse_key(struct sp *sp, const struct imap_arg *args, unsigned argc,
                                         unsigned *i, unsigned depth);

/* The keys of a parenthesised list (or the top level) as children of an AND. */
static struct imap_search_key *parse_and(struct sp *sp, const struct imap_arg *args, unsigned argc,
                                         unsigned depth)
{
	struct imap_search_key *and = node(sp, IMAP_SK_AND);
	if (and == NULL)
		return NULL;
	if (argc == 0) {
		sp->err = "Missing search parameters";
		return NULL;
	}
	for (unsigned i = 0; i < argc;) {
		struct imap_search_key *k = parse_key(sp, args, argc, &i, depth);
		if (k == NULL)
			return NULL;
		adopt(and, k);
	}
	return and;
}

/* Fill k's argument (args[*i] onwards) according to def. 0 or -1. */
static int parse_value(struct sp *sp, const struct key_def *def, struct imap_search_key *k,
                       const struct imap_arg *args, unsigned argc, unsigned *i)
{
	unsigned need = def->arg == ARG_HEADER2 ? 2 : 1;
	if (*i + need > argc) {
		snprintf(sp->errbuf, sizeof(sp->errbuf), "Missing parameter for %s", def->name);
		sp->err = sp->errbuf;
		return -1;
	}
	const struct imap_arg *a = &args[*i];
	*i += need;
	const char *s;
	size_t len;
	struct tm tm;
	switch (def->arg) {
	case ARG_HEADER:
	case ARG_HEADER2:
		if (def->arg == ARG_HEADER2) {
			if (arg_string(a, &s, &len) < 0 || len == 0 || memchr(s, '\0', len) != NULL)
				break;
			k->name = strndup(s, len);
			a++;
		} else {
			k->name = strdup(def->header);
			k->address = strcmp(def->name, "SUBJECT") != 0;
		}
		if (k->name == NULL) {
			sp->err = "Out of memory";
			return -1;
		}
		if (arg_string(a, &k->str, &k->len) < 0)
			break;
		return 0;
	case ARG_STRING:
	case ARG_KEYWORD:
		if (arg_string(a, &k->str, &k->len) < 0)
			break;
		return 0;
	case ARG_DATE:
		if (arg_string(a, &s, &len) < 0 || imap_date_parse(s, len, &tm) < 0) {
			sp->err = "Invalid search date parameter";
			return -1;
		}
		k->day = civil_days(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
		return 0;
	case ARG_NUMBER:
		if (a->type != IMAP_ARG_ATOM || parse_number(a->str, a->len, &k->size) < 0) {
			sp->err = "Invalid search size parameter";
			return -1;
		}
		return 0;
	case ARG_SEQSET:
		return parse_seqset(sp, a, k);
	default:
		return 0;
	}
	snprintf(sp->errbuf, sizeof(sp->errbuf), "Invalid parameter for %s", def->name);
	sp->err = sp->errbuf;
	return -1;
}

/* NOT, OR, NEW, OLD: keys built of other keys. */
static struct imap_search_key *parse_special(struct sp *sp, const struct key_def *def,
                                             const struct imap_arg *args, unsigned argc,
                                             unsigned *i, unsigned depth)
{
	struct imap_search_key *k = node(sp, def->kind), *a, *b;
	if (k == NULL)
		return NULL;
	if (strcmp(def->name, "NEW") == 0) { /* RECENT UNSEEN */
		a = node(sp, IMAP_SK_FLAG);
		b = node(sp, IMAP_SK_FLAG);
		if (a == NULL || b == NULL || (b = wrap_not(sp, b)) == NULL)
			return NULL;
		a->flag = IMAP_FLAG_RECENT;
		b->children->flag = IMAP_FLAG_SEEN;
		adopt(k, a);
		adopt(k, b);
		return k;
	}
	if (strcmp(def->name, "OLD") == 0) { /* NOT RECENT */
		if ((a = node(sp, IMAP_SK_FLAG)) == NULL)
			return NULL;
		a->flag = IMAP_FLAG_RECENT;
		adopt(k, a);
		return k;
	}
	unsigned n = def->kind == IMAP_SK_OR ? 2 : 1;
	for (unsigned j = 0; j < n; j++) {
		if (*i >= argc) {
			snprintf(sp->errbuf, sizeof(sp->errbuf), "Missing parameter for %s",
			         def->name);
			sp->err = sp->errbuf;
			return NULL;
		}
		if ((a = parse_key(sp, args, argc, i, depth + 1)) == NULL)
			return NULL;
		adopt(k, a);
	}
	return k;
}

static struct imap_search_key *parse_key(struct sp *sp, const struct imap_arg *args, unsigned argc,
                                         unsigned *i, unsigned depth)
{
	const struct imap_arg *a = &args[(*i)++];
	if (depth >= IMAP_SEARCH_DEPTH_MAX) {
		sp->err = "Search keys nested too deeply";
		return NULL;
	}
	if (++sp->q->nkeys > IMAP_SEARCH_KEYS_MAX) {
		sp->err = "Too many search keys";
		return NULL;
	}
	if (a->type == IMAP_ARG_LIST) {
		if (a->count == 0) {
			sp->err = "Empty search list";
			return NULL;
		}
		return parse_and(sp, a->list, a->count, depth + 1);
	}
	if (a->type != IMAP_ARG_ATOM) {
		sp->err = "Unexpected string where a search key was expected";
		return NULL;
	}
	if (a->len > 0 && ((a->str[0] >= '0' && a->str[0] <= '9') || a->str[0] == '*')) {
		struct imap_search_key *k = node(sp, IMAP_SK_SEQSET);
		return k != NULL && parse_seqset(sp, a, k) == 0 ? k : NULL;
	}
	const struct key_def *def = NULL;
	for (size_t j = 0; j < sizeof(key_defs) / sizeof(key_defs[0]) && def == NULL; j++) {
		if (imap_arg_atom_eq(a, key_defs[j].name))
			def = &key_defs[j];
	}
	if (def == NULL) {
		snprintf(sp->errbuf, sizeof(sp->errbuf), "Unknown argument %.*s",
		         (int)(a->len > 40 ? 40 : a->len), a->str);
		sp->err = sp->errbuf;
		return NULL;
	}
	if (def->arg == ARG_SPECIAL)
		return parse_special(sp, def, args, argc, i, depth);
	struct imap_search_key *k = node(sp, def->kind);
	if (k == NULL)
		return NULL;
	k->flag = def->flag;
	if (def->arg != ARG_NONE && def->arg != ARG_FLAG &&
	    parse_value(sp, def, k, args, argc, i) < 0)
		return NULL;
	return def->negate ? wrap_not(sp, k) : k;
}

/* Arguments in the whole tree: each can make at most 4 nodes (NEW). */
static size_t count_args(const struct imap_arg *args, unsigned argc, unsigned depth)
{
	size_t n = argc;
	for (unsigned i = 0; i < argc && depth < IMAP_DEPTH_MAX + 1; i++) {
		if (args[i].type == IMAP_ARG_LIST)
			n += count_args(args[i].list, args[i].count, depth + 1);
	}
	return n;
}

static enum imap_search_result parse_charset(const struct imap_arg *args, unsigned argc,
                                             struct imap_search *q, unsigned *i,
                                             const char **error_r)
{
	if (argc == 0 || !imap_arg_atom_eq(&args[0], "CHARSET"))
		return IMAP_SEARCH_OK;
	const char *s;
	size_t len;
	if (argc < 2 || arg_string(&args[1], &s, &len) < 0) {
		*error_r = "Missing parameter for CHARSET";
		return IMAP_SEARCH_BAD;
	}
	*i = 2;
	if (len == 5 && strncasecmp(s, "UTF-8", 5) == 0) {
		q->charset = IMAP_SEARCH_CHARSET_UTF8;
	} else if (len == 8 && strncasecmp(s, "US-ASCII", 8) == 0) {
		q->charset = IMAP_SEARCH_CHARSET_ASCII;
	} else {
		*error_r = "Unsupported charset";
		return IMAP_SEARCH_BADCHARSET;
	}
	return IMAP_SEARCH_OK;
}

enum imap_search_result imap_search_parse(const struct imap_arg *args, unsigned argc,
                                          struct imap_search *q, const char **error_r)
{
	memset(q, 0, sizeof(*q));
	unsigned start = 0;
	enum imap_search_result r = parse_charset(args, argc, q, &start, error_r);
	if (r != IMAP_SEARCH_OK)
		return r;
	size_t nargs = count_args(args, argc, 0);
	if (nargs > IMAP_SEARCH_KEYS_MAX * 2)
		nargs = IMAP_SEARCH_KEYS_MAX * 2; /* more fails "Too many search keys" */
	q->cap = 4 * nargs + 2;
	q->pool = calloc(q->cap, sizeof(*q->pool));
	if (q->pool == NULL) {
		*error_r = "Out of memory";
		return IMAP_SEARCH_BAD;
	}
	struct sp sp = {.q = q};
	q->root = parse_and(&sp, args + start, argc - start, 0);
	if (q->root == NULL) {
		/* the message must outlive sp: it goes into q, which the caller keeps */
		snprintf(q->error, sizeof(q->error), "%s", sp.err != NULL ? sp.err : "Invalid");
		*error_r = q->error;
		imap_search_free(q);
		return IMAP_SEARCH_BAD;
	}
	return IMAP_SEARCH_OK;
}

void imap_search_free(struct imap_search *q)
{
	for (size_t i = 0; i < q->npool; i++) {
		free(q->pool[i].name);
		free(q->pool[i].ranges);
	}
	free(q->pool);
	q->pool = NULL;
	q->root = NULL;
	q->npool = q->cap = 0;
}

static const char *flag_name(unsigned flag)
{
	switch (flag) {
	case IMAP_FLAG_SEEN:
		return "\\Seen";
	case IMAP_FLAG_ANSWERED:
		return "\\Answered";
	case IMAP_FLAG_FLAGGED:
		return "\\Flagged";
	case IMAP_FLAG_DELETED:
		return "\\Deleted";
	case IMAP_FLAG_DRAFT:
		return "\\Draft";
	default:
		return "\\Recent";
	}
}

static int dump_ranges(const struct imap_search_key *k, struct buf *out)
{
	int r = 0;
	for (size_t i = 0; i < k->nranges && r == 0; i++) {
		const struct imap_seq_range *g = &k->ranges[i];
		char lo[24], hi[24];
		snprintf(lo, sizeof(lo), "%llu", (unsigned long long)g->lo);
		snprintf(hi, sizeof(hi), "%llu", (unsigned long long)g->hi);
		r = buf_printf(out, "%s%s", i > 0 ? "," : "", g->lo == IMAP_SEQ_STAR ? "*" : lo);
		if (r == 0 && g->hi != g->lo)
			r = buf_printf(out, ":%s", g->hi == IMAP_SEQ_STAR ? "*" : hi);
	}
	return r;
}

static int dump_key(const struct imap_search_key *k, struct buf *out)
{
	static const char *const names[] = {
	    [IMAP_SK_BEFORE] = "BEFORE",   [IMAP_SK_ON] = "ON",
	    [IMAP_SK_SINCE] = "SINCE",     [IMAP_SK_SENTBEFORE] = "SENTBEFORE",
	    [IMAP_SK_SENTON] = "SENTON",   [IMAP_SK_SENTSINCE] = "SENTSINCE",
	    [IMAP_SK_LARGER] = "LARGER",   [IMAP_SK_SMALLER] = "SMALLER",
	    [IMAP_SK_BODY] = "BODY",       [IMAP_SK_TEXT] = "TEXT",
	    [IMAP_SK_KEYWORD] = "KEYWORD", [IMAP_SK_AND] = "AND",
	    [IMAP_SK_OR] = "OR",           [IMAP_SK_NOT] = "NOT",
	    [IMAP_SK_SEQSET] = "SEQ",      [IMAP_SK_UID] = "UID",
	};
	int r = 0;
	switch (k->kind) {
	case IMAP_SK_ALL:
		return buf_append_str(out, "ALL");
	case IMAP_SK_FLAG:
		return buf_append_str(out, flag_name(k->flag));
	case IMAP_SK_AND:
	case IMAP_SK_OR:
	case IMAP_SK_NOT:
		r = buf_printf(out, "(%s", names[k->kind]);
		for (const struct imap_search_key *c = k->children; c != NULL && r == 0;
		     c = c->next)
			r = buf_append_str(out, " ") | dump_key(c, out);
		return r | buf_append_str(out, ")");
	case IMAP_SK_SEQSET:
	case IMAP_SK_UID:
		return buf_printf(out, "(%s ", names[k->kind]) | dump_ranges(k, out) |
		       buf_append_str(out, ")");
	case IMAP_SK_BEFORE:
	case IMAP_SK_ON:
	case IMAP_SK_SINCE:
	case IMAP_SK_SENTBEFORE:
	case IMAP_SK_SENTON:
	case IMAP_SK_SENTSINCE:
		return buf_printf(out, "(%s %lld)", names[k->kind], (long long)k->day);
	case IMAP_SK_LARGER:
	case IMAP_SK_SMALLER:
		return buf_printf(out, "(%s %llu)", names[k->kind], (unsigned long long)k->size);
	case IMAP_SK_HEADER:
		return buf_printf(out, "(HEADER %s \"%.*s\")", k->name, (int)k->len, k->str);
	default:
		return buf_printf(out, "(%s \"%.*s\")", names[k->kind], (int)k->len, k->str);
	}
}

int imap_search_dump(const struct imap_search *q, struct buf *out)
{
	if (q->root == NULL)
		return -1;
	return dump_key(q->root, out) != 0 ? -1 : 0;
}
