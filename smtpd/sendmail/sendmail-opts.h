/* sendmail-opts.h: the pure parts of the `sendmail` / `mailq` command:
 * command-line options as Postfix and sendmail users rely on them, and the
 * recipient list (arguments and, with -t, the To/Cc/Bcc header fields). */
#ifndef LOFT_SENDMAIL_OPTS_H
#define LOFT_SENDMAIL_OPTS_H

#include <stdbool.h>
#include <stddef.h>

struct buf;

enum sendmail_mode {
	SENDMAIL_MODE_DELIVER, /* -bm (default): read a message, queue it */
	SENDMAIL_MODE_LIST,    /* -bp, or invoked as mailq */
	SENDMAIL_MODE_SMTP,    /* -bs: an SMTP session on stdin/stdout */
	SENDMAIL_MODE_FLUSH,   /* -q: retry deferred mail now */
};

struct sendmail_opts {
	enum sendmail_mode mode;
	const char *sender;   /* -f, NULL when not given ("" or "<>" = null sender) */
	const char *fullname; /* -F */
	const char *config;   /* -C */
	bool extract_rcpts;   /* -t */
	bool ignore_dots;     /* -i, -oi: a lone "." line does not end input */
	bool verbose;         /* -v */
	char **rcpts;         /* the remaining arguments (point into argv) */
	size_t n_rcpts;
};

/* Parse argv (argv[0] named mailq means -bp). Unknown-but-harmless options
 * (-oXXX, -O, -B, -N, -R, -V, -h, -n, -m, -U, -L) are ignored; those worth a
 * word append one line each to warn. 0, or -1 with a one-line message in err
 * (the caller exits EX_USAGE). Pure. */
int sendmail_opts_parse(int argc, char **argv, struct sendmail_opts *o, struct buf *warn,
                        struct buf *err);

/* A growing list of validated envelope addresses (each normalised: the
 * `full` form of lib/parse/smtp-parse.h). */
struct sendmail_rcpts {
	char **v;
	size_t n, cap;
};
void sendmail_rcpts_free(struct sendmail_rcpts *l);

/* Add the addresses of one command-line argument: a comma-separated list of
 * "addr", "<addr>" or "Name <addr>" (RFC 5322 syntax). An address without a
 * domain stays bare (a local user). 0, 1 when an address is invalid (its
 * text in err; nothing of this argument is added), -1 on allocation failure. */
int sendmail_rcpts_add_arg(struct sendmail_rcpts *l, const char *arg, struct buf *err);

/* -t: add every address of the To, Cc and Bcc fields in the header section
 * hdr[0..len) (folded fields, groups and comments are understood). Same
 * return values. */
int sendmail_rcpts_from_headers(struct sendmail_rcpts *l, const char *hdr, size_t len,
                                struct buf *err);

/* Validate and normalise one address (brackets allowed, "" or "<>" = null
 * when allow_null). Writes the normalised text to out. 0 or -1. */
int sendmail_addr_normalise(const char *p, size_t len, bool allow_null, struct buf *out);

#endif
