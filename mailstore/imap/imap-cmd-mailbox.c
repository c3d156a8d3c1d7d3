/* imap-cmd-mailbox.c: the IMAP mailbox commands of the session: LIST and
 * LSUB (* and % patterns, CHILDREN and SPECIAL-USE attributes), CREATE,
 * DELETE, RENAME (INBOX: moves its messages), SUBSCRIBE, UNSUBSCRIBE and
 * STATUS. Names travel in modified UTF-7 and are stored as sent. */
#include "imap-private.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include "config.h"
#include "imap-fetch-render.h"
#include "imap-pattern.h"
#include "maildir-private.h"

static const char *const special_use[][2] = {
    {"Drafts", "\\Drafts"}, {"Sent", "\\Sent"},       {"Trash", "\\Trash"},
    {"Junk", "\\Junk"},     {"Archive", "\\Archive"},
};

char *imap_mailbox_arg(struct imap_session *s, const struct imap_command *c,
                       const struct imap_arg *a)
{
	const char *p;
	size_t len;
	if (imap_arg_astring(a, &p, &len) < 0 || memchr(p, '\0', len) != NULL) {
		imap_reply_bad_args(s, c);
		return NULL;
	}
	struct buf utf8;
	buf_init(&utf8, 0);
	int bad = imap_mutf7_to_utf8(p, len, &utf8) < 0;
	for (size_t i = 0; i < len; i++)
		bad |= (unsigned char)p[i] < 0x20 || (unsigned char)p[i] >= 0x7f;
	buf_free(&utf8);
	const char *err = "not modified UTF-7";
	char *name = bad ? NULL : strndup(p, len);
	if (name != NULL && (imap_mailbox_is_inbox(p, len) ||
	                     (len > 5 && strncasecmp(p, "INBOX", 5) == 0 && p[5] == s->sep)))
		memcpy(name, "INBOX", 5);
	if (name != NULL && len > 0 && maildir_name_validate(name, s->sep, &err) == 0)
		return name;
	imap_cmd_done(s, c, IMAP_NO, "Invalid mailbox name: %s", len == 0 ? "empty" : err);
	free(name);
	return NULL;
}

/* '*' (anything) and '%' (anything but sep) in one pass over the name
 * (lib/parse/imap-pattern.c); out of memory matches nothing. */
static int pattern_match(const char *pat, const char *name, char sep, int icase)
{
	const char *err;
	(void)icase;
	return imap_pattern_match(pat, strlen(pat), name, strlen(name), sep, &err) == 1;
}

/* INBOX (and its children's prefix) matches its pattern in any case. */
static int name_match(const char *pat, const char *name, char sep)
{
	if (strncmp(name, "INBOX", 5) == 0 && (name[5] == '\0' || name[5] == sep)) {
		if (strncasecmp(pat, "INBOX", 5) == 0)
			return pattern_match(pat + 5, name + 5, sep, 0);
	}
	return pattern_match(pat, name, sep, 0);
}

static int has_child(char **names, size_t n, const char *name, char sep)
{
	size_t len = strlen(name);
	for (size_t i = 0; i < n; i++) {
		if (strncmp(names[i], name, len) == 0 && names[i][len] == sep)
			return 1;
	}
	return 0;
}

static int in_list(char **names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(names[i], name) == 0)
			return 1;
	}
	return 0;
}

static const char *special_attr(struct imap_session *s, const char *name)
{
	for (size_t i = 0; i < sizeof(special_use) / sizeof(special_use[0]); i++) {
		if (strcmp(name, special_use[i][0]) == 0 &&
		    (s->env->cfg == NULL ||
		     config_list_has(s->env->cfg, "mailbox_autocreate", special_use[i][0])))
			return special_use[i][1];
	}
	return NULL;
}

/* A mailbox name as an astring: a bare atom when every byte may be one
 * (as Dovecot writes them, e.g. INBOX or Work/2026), else quoted or a
 * literal. */
static int append_mailbox(struct buf *out, const char *name)
{
	size_t len = strlen(name);
	bool atom = len > 0;
	for (size_t i = 0; i < len && atom; i++) {
		unsigned char ch = (unsigned char)name[i];
		atom = ch > 0x20 && ch < 0x7f && strchr("(){%*\"\\", ch) == NULL;
	}
	return atom ? buf_append(out, name, len) : imap_append_nstring(out, name, len);
}

static void list_line(struct imap_session *s, const char *verb, const char *attrs, const char *name)
{
	struct buf line;
	buf_init(&line, 0);
	if (buf_printf(&line, "* %s (%s) \"%c\" ", verb, attrs, s->sep) < 0 ||
	    append_mailbox(&line, name) < 0)
		s->dead = true;
	else
		imap_reply_buf(s, &line);
	buf_free(&line);
}

/* Parents of name that match pat but are not in names themselves answer
 * once each with attrs: LIST's folders that exist only as a prefix
 * (\Noselect \HasChildren), and LSUB's unsubscribed parents of a
 * subscribed name when "%" stops above it (RFC 3501 6.3.9: \Noselect). */
static void parent_lines(struct imap_session *s, const char *verb, const char *attrs,
                         const char *pat, char **names, size_t n, const char *name, char ***done,
                         size_t *ndone)
{
	for (const char *p = strchr(name, s->sep); p != NULL; p = strchr(p + 1, s->sep)) {
		char *parent = strndup(name, (size_t)(p - name));
		char **grown =
		    parent == NULL ? NULL : realloc(*done, (*ndone + 1) * sizeof(char *));
		if (grown == NULL) {
			free(parent);
			s->dead = true;
			return;
		}
		*done = grown;
		if (in_list(names, n, parent) || in_list(*done, *ndone, parent) ||
		    !name_match(pat, parent, s->sep)) {
			free(parent);
			continue;
		}
		list_line(s, verb, attrs, parent);
		(*done)[(*ndone)++] = parent;
	}
}

/* list-mailbox: an astring, or an atom with the wildcards '*' and '%'. */
static int list_arg(const struct imap_arg *a, const char **p_r, size_t *len_r)
{
	if (a->type == IMAP_ARG_ATOM) {
		*p_r = a->str;
		*len_r = a->len;
		return memchr(a->str, '\0', a->len) == NULL ? 0 : -1;
	}
	return imap_arg_astring(a, p_r, len_r);
}

/* reference + pattern as one string (malloc'd), or NULL after an answer. */
static char *list_pattern(struct imap_session *s, const struct imap_command *c, int *empty_r)
{
	const char *ref, *pat;
	size_t rlen, plen;
	if (list_arg(&c->args[0], &ref, &rlen) < 0 || list_arg(&c->args[1], &pat, &plen) < 0) {
		imap_reply_bad_args(s, c);
		return NULL;
	}
	*empty_r = plen == 0;
	char *all = malloc(rlen + plen + 1);
	if (all == NULL) {
		s->dead = true;
		return NULL;
	}
	memcpy(all, ref, rlen);
	memcpy(all + rlen, pat, plen);
	all[rlen + plen] = '\0';
	return all;
}

void imap_cmd_list(struct imap_session *s, const struct imap_command *c)
{
	int empty;
	char *pat = list_pattern(s, c, &empty);
	if (pat == NULL)
		return;
	if (empty) {
		list_line(s, "LIST", "\\Noselect", "");
		imap_cmd_done(s, c, IMAP_OK, "List completed.");
		free(pat);
		return;
	}
	char **names;
	const char *err;
	int n = maildir_folder_list(&s->store, &names, &err);
	if (n < 0) {
		imap_cmd_done(s, c, IMAP_NO, "[SERVERBUG] Internal error occurred.");
		imap_log(s, LOG_ERR, "LIST failed: %s", err);
		free(pat);
		return;
	}
	char **done = NULL;
	size_t ndone = 0;
	for (int i = 0; i < n && !s->dead; i++) {
		parent_lines(s, "LIST", "\\Noselect \\HasChildren", pat, names, (size_t)n, names[i],
		             &done, &ndone);
		if (!name_match(pat, names[i], s->sep))
			continue;
		const char *sp = special_attr(s, names[i]);
		char attrs[64];
		snprintf(attrs, sizeof(attrs), "%s%s%s",
		         has_child(names, (size_t)n, names[i], s->sep) ? "\\HasChildren"
		                                                       : "\\HasNoChildren",
		         sp != NULL ? " " : "", sp != NULL ? sp : "");
		list_line(s, "LIST", attrs, names[i]);
	}
	maildir_names_free(done, ndone);
	maildir_names_free(names, (size_t)n);
	free(pat);
	imap_cmd_done(s, c, IMAP_OK, "List completed.");
}

void imap_cmd_lsub(struct imap_session *s, const struct imap_command *c)
{
	int empty;
	char *pat = list_pattern(s, c, &empty);
	if (pat == NULL)
		return;
	char **names;
	const char *err;
	int n = empty ? 0 : maildir_subscriptions_read(&s->store, &names, &err);
	if (n < 0) {
		imap_cmd_done(s, c, IMAP_NO, "[SERVERBUG] Internal error occurred.");
		imap_log(s, LOG_ERR, "LSUB failed: %s", err);
		free(pat);
		return;
	}
	char **parents = NULL; /* parents already answered */
	size_t nparents = 0;
	for (int i = 0; i < n; i++) {
		if (name_match(pat, names[i], s->sep))
			list_line(s, "LSUB",
			          maildir_folder_exists(&s->store, names[i]) ? "" : "\\Noselect",
			          names[i]);
		else
			parent_lines(s, "LSUB", "\\Noselect", pat, names, (size_t)n, names[i],
			             &parents, &nparents);
	}
	maildir_names_free(parents, nparents);
	if (!empty)
		maildir_names_free(names, (size_t)n);
	free(pat);
	imap_cmd_done(s, c, IMAP_OK, "Lsub completed.");
}

static void reply_nonexistent(struct imap_session *s, const struct imap_command *c,
                              const char *name)
{
	imap_cmd_done(s, c, IMAP_NO, "[NONEXISTENT] Mailbox doesn't exist: %s", name);
}

void imap_cmd_create(struct imap_session *s, const struct imap_command *c)
{
	const char *p;
	size_t len;
	/* "a/b/" asks for "a/b": the trailing separator only declares intent */
	struct imap_arg a = c->args[0];
	if (imap_arg_astring(&a, &p, &len) == 0 && len > 1 && p[len - 1] == s->sep)
		a.len--;
	char *name = imap_mailbox_arg(s, c, &a);
	if (name == NULL)
		return;
	const char *err;
	if (strcmp(name, "INBOX") == 0 || maildir_folder_exists(&s->store, name))
		imap_cmd_done(s, c, IMAP_NO, "[ALREADYEXISTS] Mailbox already exists");
	else if (maildir_folder_create(&s->store, name, &err) < 0)
		imap_cmd_done(s, c, IMAP_NO, "[CANNOT] Couldn't create mailbox: %s", err);
	else
		imap_cmd_done(s, c, IMAP_OK, "Create completed.");
	free(name);
}

void imap_cmd_delete(struct imap_session *s, const struct imap_command *c)
{
	char *name = imap_mailbox_arg(s, c, &c->args[0]);
	if (name == NULL)
		return;
	char **names = NULL;
	const char *err;
	int n = maildir_folder_list(&s->store, &names, &err);
	if (strcmp(name, "INBOX") == 0) {
		imap_cmd_done(s, c, IMAP_NO, "INBOX can't be deleted.");
	} else if (n < 0) {
		imap_cmd_done(s, c, IMAP_NO, "[SERVERBUG] Internal error occurred.");
	} else if (!in_list(names, (size_t)n, name)) {
		reply_nonexistent(s, c, name);
	} else if (has_child(names, (size_t)n, name, s->sep)) {
		imap_cmd_done(s, c, IMAP_NO, "[INUSE] Mailbox has children, delete them first");
	} else {
		if (s->box != NULL && strcmp(s->box->name, name) == 0)
			imap_unselect(s);
		if (maildir_folder_delete(&s->store, name, &err) < 0)
			imap_cmd_done(s, c, IMAP_NO, "[CANNOT] Couldn't delete mailbox: %s", err);
		else
			imap_cmd_done(s, c, IMAP_OK, "Delete completed.");
	}
	if (n >= 0)
		maildir_names_free(names, (size_t)n);
	free(name);
}

/* Move every message file of dir's new/ and cur/ to the same place in to. */
static int move_messages(const char *from, const char *to, const char **error_r)
{
	static const char *const subs[] = {"new", "cur"};
	for (size_t i = 0; i < 2; i++) {
		struct buf a, b;
		buf_init(&a, 0);
		buf_init(&b, 0);
		(void)buf_printf(&a, "%s/%s", from, subs[i]);
		DIR *d = opendir(a.data != NULL ? a.data : "");
		struct dirent *e;
		int ok = d != NULL;
		while (ok && (e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			buf_reset(&a);
			buf_reset(&b);
			ok = buf_printf(&a, "%s/%s/%s", from, subs[i], e->d_name) == 0 &&
			     buf_printf(&b, "%s/%s/%s", to, subs[i], e->d_name) == 0 &&
			     rename(a.data, b.data) == 0;
		}
		if (d != NULL)
			closedir(d);
		buf_free(&a);
		buf_free(&b);
		if (!ok) {
			*error_r = "couldn't move messages";
			return -1;
		}
	}
	return 0;
}

static void rename_inbox(struct imap_session *s, const struct imap_command *c, const char *to)
{
	const char *err = "";
	char *dst = NULL;
	if (maildir_folder_create(&s->store, to, &err) < 0 ||
	    (dst = maildir_folder_path(&s->store, to, &err)) == NULL ||
	    move_messages(s->store.root, dst, &err) < 0) {
		imap_cmd_done(s, c, IMAP_NO, "[CANNOT] Couldn't rename mailbox: %s", err);
	} else {
		imap_cmd_done(s, c, IMAP_OK, "Rename completed.");
	}
	free(dst);
}

void imap_cmd_rename(struct imap_session *s, const struct imap_command *c)
{
	char *from = imap_mailbox_arg(s, c, &c->args[0]);
	char *to = from == NULL ? NULL : imap_mailbox_arg(s, c, &c->args[1]);
	const char *err;
	if (to == NULL) {
		/* answered */
	} else if (!maildir_folder_exists(&s->store, from)) {
		reply_nonexistent(s, c, from);
	} else if (strcmp(to, "INBOX") == 0 || maildir_folder_exists(&s->store, to)) {
		imap_cmd_done(s, c, IMAP_NO, "[ALREADYEXISTS] Target mailbox already exists");
	} else if (strcmp(from, "INBOX") == 0) {
		rename_inbox(s, c, to);
	} else {
		if (s->box != NULL && strcmp(s->box->name, from) == 0)
			imap_unselect(s);
		if (maildir_folder_rename(&s->store, from, to, &err) < 0)
			imap_cmd_done(s, c, IMAP_NO, "[CANNOT] Couldn't rename mailbox: %s", err);
		else
			imap_cmd_done(s, c, IMAP_OK, "Rename completed.");
	}
	free(from);
	free(to);
}

static void subscribe(struct imap_session *s, const struct imap_command *c, int on)
{
	char *name = imap_mailbox_arg(s, c, &c->args[0]);
	if (name == NULL)
		return;
	const char *err;
	if (on && !maildir_folder_exists(&s->store, name))
		reply_nonexistent(s, c, name);
	else if (maildir_subscription_set(&s->store, name, on, &err) < 0)
		imap_cmd_done(s, c, IMAP_NO, "[SERVERBUG] Internal error occurred.");
	else
		imap_cmd_done(s, c, IMAP_OK, "%s completed.", on ? "Subscribe" : "Unsubscribe");
	free(name);
}

void imap_cmd_subscribe(struct imap_session *s, const struct imap_command *c)
{
	subscribe(s, c, 1);
}

void imap_cmd_unsubscribe(struct imap_session *s, const struct imap_command *c)
{
	subscribe(s, c, 0);
}

static const char *const status_items[] = {"MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY",
                                           "UNSEEN"};

/* The value of one STATUS item; its canonical name in *name_r. 0 or -1. */
static int status_value(struct maildir_mailbox *box, const struct imap_arg *a, uint32_t recent_uid,
                        uint64_t *v_r, const char **name_r)
{
	size_t k = 0;
	while (k < 5 && !imap_arg_atom_eq(a, status_items[k]))
		k++;
	if (k == 5)
		return -1;
	uint64_t v = k == 0 ? box->count : k == 2 ? box->uidnext : box->uidvalidity;
	if (k == 1 || k == 4) {
		v = 0;
		for (size_t i = 0; i < box->count; i++) {
			if (k == 1 ? box->msgs[i].uid >= recent_uid
			           : !(box->msgs[i].flags & MAILDIR_FLAG_SEEN))
				v++;
		}
	}
	*v_r = v;
	*name_r = status_items[k];
	return 0;
}

void imap_cmd_status(struct imap_session *s, const struct imap_command *c)
{
	const struct imap_arg *items = &c->args[1];
	if (items->type != IMAP_ARG_LIST || items->count == 0) {
		imap_reply_bad_args(s, c);
		return;
	}
	char *name = imap_mailbox_arg(s, c, &c->args[0]);
	if (name == NULL)
		return;
	struct maildir_mailbox *box = NULL;
	struct maildir_uidlist ul = {0};
	const char *err;
	if (!maildir_folder_exists(&s->store, name)) {
		reply_nonexistent(s, c, name);
	} else if (maildir_mailbox_open(&s->store, name, 0, &box, &err) < 0 ||
	           maildir_uidlist_read(box, &ul, &err) < 0) {
		imap_cmd_done(s, c, IMAP_NO, "[SERVERBUG] Internal error occurred.");
		imap_log(s, LOG_ERR, "STATUS %s failed: %s", name, err);
	} else {
		struct buf line;
		buf_init(&line, 0);
		int r = buf_append_str(&line, "* STATUS ");
		r |= append_mailbox(&line, name);
		r |= buf_append_str(&line, " (");
		for (unsigned i = 0; i < items->count && r == 0; i++) {
			uint64_t v;
			const struct imap_arg *a = &items->list[i];
			const char *item;
			r = status_value(box, a, ul.recent_uid, &v, &item) < 0
			        ? 1
			        : buf_printf(&line, "%s%s %llu", i > 0 ? " " : "", item,
			                     (unsigned long long)v);
		}
		if (r > 0) {
			imap_reply_bad_args(s, c);
		} else if (r == 0 && buf_append_str(&line, ")") == 0) {
			imap_reply_buf(s, &line);
			imap_cmd_done(s, c, IMAP_OK, "Status completed.");
		} else {
			s->dead = true;
		}
		buf_free(&line);
	}
	maildir_uidlist_free(&ul);
	if (box != NULL)
		maildir_mailbox_close(box);
	free(name);
}
