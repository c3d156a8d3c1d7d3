/* auth-proto.h: the auth line protocol (docs/auth.md) as pure functions:
 * parse one decoded request line from a client into a typed command, and
 * check it is allowed on the listener it came in on. */
#ifndef LOFT_AUTH_PROTO_H
#define LOFT_AUTH_PROTO_H

#include <stdbool.h>
#include <stddef.h>

#include "auth-sasl.h"
#include "auth-token.h"
#include "wire.h"

#define AUTH_PROTO_MAJOR 1
#define AUTH_PROTO_MINOR 0

enum auth_verb {
	AUTH_VERB_VERSION, /* VERSION auth <major> <minor> */
	AUTH_VERB_AUTH,    /* AUTH <id> <mech> [key=value | secured]... */
	AUTH_VERB_CONT,    /* CONT <id> <base64 response> */
	AUTH_VERB_CANCEL,  /* CANCEL <id> */
	AUTH_VERB_USER,    /* USER <id> <name>                (auth-master only) */
	AUTH_VERB_REDEEM,  /* REDEEM <id> <token> service=<s> (auth-master only) */
	AUTH_VERB_LOOKUP,  /* LOOKUP <id> <name>     (auth-smtp, auth-master) */
};

/* Which listener a connection came from: decides the verbs it may use. */
enum auth_listener {
	AUTH_LISTENER_LOGIN,
	AUTH_LISTENER_SMTP,
	AUTH_LISTENER_MASTER,
};

struct auth_cmd {
	enum auth_verb verb;
	unsigned id;           /* 1..UINT32_MAX, chosen by the client */
	unsigned major, minor; /* VERSION */
	enum sasl_mech mech;   /* AUTH */
	char service[32];      /* AUTH, REDEEM */
	char rip[64], lip[64]; /* AUTH: client and local address ("" unknown) */
	bool secured;          /* AUTH: TLS or trusted loopback, per the client */
	bool client_delay;     /* AUTH: the client waits out failure delays itself */
	bool has_resp;         /* AUTH: an initial response was given; CONT: always */
	const char *resp;      /* base64, points into the line */
	size_t resp_len;
	char name[SASL_MAX_USER + 1];   /* USER, LOOKUP */
	char token[AUTH_TOKEN_HEX + 1]; /* REDEEM */
};

/* Parse decoded fields f[0..n). 0, or -1 with *err_r (static text) for a
 * malformed command: unknown verb, bad id, missing or over-long field, NUL
 * in a field, unknown mechanism. Pure; resp points into f. */
int auth_proto_parse(const struct wire_field *f, int n, struct auth_cmd *cmd, const char **err_r);

/* Whether verb may be used on a listener (USER and REDEEM: master only;
 * LOOKUP: smtp and master). */
bool auth_proto_allowed(enum auth_listener l, enum auth_verb verb);

/* Listener kind from its LOFT_LISTEN_FDS name ("auth-login", ...). 0 or -1. */
int auth_listener_parse(const char *name, enum auth_listener *l_r);

#endif
