/* config-expand.c: expands %u %n %d %h %% and a leading ~ in path templates
 * such as mail_location, for auth and mailstore. Deliberately tiny: no other
 * sequences, no nesting, and an empty variable is an error, never "". */
#include "config-private.h"

#include <string.h>

static int append_var(struct buf *out, const char *p, size_t n, const char *what,
                      const char **err_r)
{
	if (p == NULL || n == 0) {
		*err_r = what;
		return -1;
	}
	if (buf_append(out, p, n) < 0) {
		*err_r = "expansion too long";
		return -1;
	}
	return 0;
}

static int expand_one(struct buf *out, char c, const struct expand_vars *v, const char **err_r)
{
	const char *user = v->user;
	const char *at = user != NULL ? strrchr(user, '@') : NULL;
	switch (c) {
	case 'u':
		return append_var(out, user, user != NULL ? strlen(user) : 0,
		                  "%u needs a user name", err_r);
	case 'n':
		return append_var(out, user,
		                  at != NULL     ? (size_t)(at - user)
		                  : user != NULL ? strlen(user)
		                                 : 0,
		                  "%n needs a user name with a local part", err_r);
	case 'd':
		return append_var(out, at != NULL ? at + 1 : NULL, at != NULL ? strlen(at + 1) : 0,
		                  "%d needs a user name with a domain (user@domain)", err_r);
	case 'h':
		return append_var(out, v->home, v->home != NULL ? strlen(v->home) : 0,
		                  "%h needs a home directory", err_r);
	case '%':
		return append_var(out, "%", 1, "", err_r);
	case '\0':
		*err_r = "'%' at end of template";
		return -1;
	default:
		*err_r = "unknown %-sequence (expected %u %n %d %h or %%)";
		return -1;
	}
}

char *config_expand(const char *tmpl, const struct expand_vars *v, const char **err_r)
{
	struct buf out;
	const char *p = tmpl;
	buf_init(&out, 0);
	if (p[0] == '~' && (p[1] == '/' || p[1] == '\0')) {
		if (append_var(&out, v->home, v->home != NULL ? strlen(v->home) : 0,
		               "~ needs a home directory", err_r) < 0)
			goto fail;
		p++;
	}
	while (*p != '\0') {
		const char *pct = strchr(p, '%');
		size_t n = pct != NULL ? (size_t)(pct - p) : strlen(p);
		if (buf_append(&out, p, n) < 0) {
			*err_r = "expansion too long";
			goto fail;
		}
		p += n;
		if (pct == NULL)
			break;
		if (expand_one(&out, pct[1], v, err_r) < 0)
			goto fail;
		p = pct + 2;
	}
	if (buf_append(&out, "", 0) < 0) {
		*err_r = "out of memory";
		goto fail;
	}
	return buf_steal(&out);
fail:
	buf_free(&out);
	return NULL;
}
