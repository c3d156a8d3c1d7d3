/* imap-search.h: the pure parser of IMAP SEARCH criteria (RFC 3501 6.4.4)
 * for the mailstore session. It turns the argument list after "SEARCH" into
 * a tree of keys; mailstore/imap/imap-search-eval.h evaluates it per message.
 * Negated keys are rewritten (UNSEEN = NOT SEEN, NEW = RECENT AND NOT SEEN,
 * OLD = NOT RECENT, UNKEYWORD k = NOT KEYWORD k) and FROM/TO/CC/BCC/SUBJECT
 * are HEADER keys, so the evaluator knows few kinds. */
#ifndef LOFT_IMAP_SEARCH_H
#define LOFT_IMAP_SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "imap-parse.h"

#define IMAP_SEARCH_KEYS_MAX   1000 /* search keys in one command ("Too many search keys") */
#define IMAP_SEARCH_DEPTH_MAX  32   /* NOT/OR/( ) nesting ("Search keys nested too deeply") */
#define IMAP_SEARCH_RANGES_MAX 1024 /* ranges in one sequence set */

enum imap_search_kind {
	IMAP_SK_ALL,
	IMAP_SK_AND,     /* children: every one must match (a list, or the top level) */
	IMAP_SK_OR,      /* two children */
	IMAP_SK_NOT,     /* one child */
	IMAP_SK_FLAG,    /* flag: one IMAP_FLAG_* bit (IMAP_FLAG_RECENT included) */
	IMAP_SK_KEYWORD, /* str */
	IMAP_SK_SEQSET,  /* ranges (may hold IMAP_SEQ_STAR) */
	IMAP_SK_UID,     /* ranges */
	IMAP_SK_BEFORE,  /* internal date, day: days since 1970-01-01 */
	IMAP_SK_ON,
	IMAP_SK_SINCE,
	IMAP_SK_SENTBEFORE, /* Date: header, day as written in it */
	IMAP_SK_SENTON,
	IMAP_SK_SENTSINCE,
	IMAP_SK_LARGER, /* size: RFC822.SIZE */
	IMAP_SK_SMALLER,
	IMAP_SK_HEADER, /* name (NUL-terminated), str (substring; "" = has the field) */
	IMAP_SK_BODY,   /* str */
	IMAP_SK_TEXT,   /* str */
};

struct imap_search_key {
	enum imap_search_kind kind;
	struct imap_search_key *children, *next; /* AND/OR/NOT children, siblings */
	unsigned flag;
	int64_t day;
	uint64_t size;
	/* HEADER name: NUL-terminated copy (owned by the tree); strings: point
	 * into the command's arguments, not NUL-terminated. */
	char *name;
	const char *str;
	size_t len;
	struct imap_seq_range *ranges; /* owned by the tree */
	size_t nranges;
	int kw_index; /* the evaluator's: resolved keyword index (-1 none) */
	int address;  /* FROM/TO/CC/BCC (not HEADER): match the address list's normal form */
};

enum imap_search_charset {
	IMAP_SEARCH_CHARSET_DEFAULT, /* none given: strings taken as UTF-8 */
	IMAP_SEARCH_CHARSET_UTF8,
	IMAP_SEARCH_CHARSET_ASCII,
};

struct imap_search {
	struct imap_search_key *root; /* an AND of the top-level keys */
	enum imap_search_charset charset;
	struct imap_search_key *pool; /* every node, one allocation */
	size_t npool, cap;
	unsigned nkeys;  /* keys as the client wrote them */
	char error[128]; /* the error message after a failed parse */
};

enum imap_search_result {
	IMAP_SEARCH_OK = 0,
	IMAP_SEARCH_BAD = -1,        /* "BAD Error in IMAP command SEARCH: <error>" */
	IMAP_SEARCH_BADCHARSET = -2, /* "NO [BADCHARSET (UTF-8 US-ASCII)] ..." */
};

/* Parse args[0..argc) (everything after "SEARCH"). On IMAP_SEARCH_OK, *q
 * holds the tree (strings point into args, which must outlive it); free it
 * with imap_search_free(). Otherwise *error_r says why and q is empty. */
enum imap_search_result imap_search_parse(const struct imap_arg *args, unsigned argc,
                                          struct imap_search *q, const char **error_r);
void imap_search_free(struct imap_search *q);

/* The tree as text, e.g. (AND (FLAG \Seen) (NOT (KEYWORD "$x"))), for tests
 * and the fuzzer. 0, or -1 when out is full. */
int imap_search_dump(const struct imap_search *q, struct buf *out);

#endif
