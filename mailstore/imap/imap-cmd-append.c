/* imap-cmd-append.c: APPEND mailbox [(flags)] ["date-time"] literal. The
 * literal arrives whole from the parser (the session refused an oversized
 * one before it was sent). The message is saved as given (bare LFs stay)
 * into the folder's cur/ with its flags, keywords and date, and the answer
 * carries APPENDUID (RFC 4315), learned by syncing the folder. */
#include "imap-private.h"

#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "imap-flags.h"

struct append_req {
	const struct imap_arg *mbox, *data;
	struct imap_flags flags;
	time_t date; /* 0: now */
};

/* 0, or -1 when the arguments do not have APPEND's form. */
static int parse_args(const struct imap_command *c, struct append_req *r)
{
	const char *err;
	unsigned n = c->argc;
	memset(r, 0, sizeof(*r));
	if (n < 2 || n > 4)
		return -1;
	r->mbox = &c->args[0];
	r->data = &c->args[n - 1];
	/* literal8 (~{n}) is BINARY's (RFC 3516), which is not offered */
	if (r->data->type != IMAP_ARG_LITERAL || (r->data->flags & IMAP_ARG_F_LITERAL8))
		return -1;
	const struct imap_arg *a = &c->args[1];
	if (n >= 3 && a->type == IMAP_ARG_LIST) {
		if (imap_flags_parse(a, 0, &r->flags, &err) < 0)
			return -1;
		a++;
	}
	if (a == r->data)
		return 0;
	int tz;
	if (a + 1 != r->data || a->type != IMAP_ARG_QUOTED ||
	    imap_datetime_parse(a->str, a->len, &r->date, &tz) < 0)
		return -1;
	return 0;
}

/* Keyword bits in box for the requested names (created as needed).
 * 0, 1 when no letter is free, -1 on error. */
static int map_keywords(struct maildir_mailbox *box, const struct imap_flags *f, uint32_t *bits_r,
                        const char **error_r)
{
	*bits_r = 0;
	for (unsigned i = 0; i < f->nkeywords; i++) {
		char *name = strndup(f->keywords[i], f->keyword_lens[i]);
		int idx = name != NULL ? maildir_keyword_index(box, name, 1, error_r) : -1;
		free(name);
		if (idx < 0)
			return box->keyword_count >= MAILDIR_KEYWORDS_MAX ? 1 : -1;
		*bits_r |= (uint32_t)1 << idx;
	}
	return 0;
}

/* Save the message; 0 with its base name, -1. */
static int save(struct imap_session *s, struct maildir_mailbox *box, const struct append_req *r,
                uint32_t kw, char **base_r, const char **error_r)
{
	struct maildir_delivery d;
	if (maildir_delivery_begin(&s->store, box->name, &d, error_r) < 0)
		return -1;
	int ret = maildir_delivery_write(&d, r->data->str, r->data->len, error_r);
	if (ret == 0)
		ret = maildir_delivery_save(&d, imap_flags_to_maildir(r->flags.system), kw, r->date,
		                            base_r, error_r);
	maildir_delivery_abort(&d);
	return ret;
}

/* The new message's UID (0 when it is already gone): it is at least the
 * UIDNEXT seen before saving, so only the table's tail is searched. */
static uint32_t learn_uid(struct maildir_mailbox *box, uint32_t first_uid, const char *base)
{
	for (size_t i = box->count; i-- > 0 && box->msgs[i].uid >= first_uid;) {
		if (strcmp(box->msgs[i].base, base) == 0)
			return box->msgs[i].uid;
	}
	return 0;
}

static void append_to(struct imap_session *s, const struct imap_command *c,
                      const struct append_req *r, const char *name)
{
	struct maildir_mailbox *box = NULL;
	const char *err = "out of memory";
	char *base = NULL;
	uint32_t kw = 0;
	uint32_t first = 0;
	int k = -1;
	if (maildir_mailbox_open(&s->store, name, 0, &box, &err) == 0) {
		first = box->uidnext;
		k = map_keywords(box, &r->flags, &kw, &err);
	}
	if (k == 1) {
		imap_cmd_done(s, c, IMAP_NO, "[LIMIT] Keyword limit reached.");
	} else if (k < 0 || save(s, box, r, kw, &base, &err) < 0) {
		imap_log(s, LOG_ERR, "APPEND to %s failed: %s", name, err);
		imap_cmd_done(s, c, IMAP_NO, "[SERVERBUG] Internal error occurred.");
	} else {
		uint32_t uid = 0;
		if (maildir_mailbox_sync(box, &err) < 0)
			imap_log(s, LOG_ERR, "APPEND: sync of %s failed: %s", name, err);
		else
			uid = learn_uid(box, first, base);
		if (uid != 0)
			imap_cmd_done(s, c, IMAP_OK, "[APPENDUID %u %u] Append completed.",
			              (unsigned)box->uidvalidity, (unsigned)uid);
		else /* saved, but expunged before we could learn its UID */
			imap_cmd_done(s, c, IMAP_OK, "Append completed.");
	}
	free(base);
	maildir_mailbox_close(box);
}

void imap_cmd_append(struct imap_session *s, const struct imap_command *c)
{
	struct append_req r;
	if (parse_args(c, &r) < 0) {
		imap_reply_bad_args(s, c);
		return;
	}
	char *name = imap_mailbox_arg(s, c, r.mbox);
	if (name == NULL)
		return;
	if (!maildir_folder_exists(&s->store, name))
		imap_cmd_done(s, c, IMAP_NO, "[TRYCREATE] Mailbox doesn't exist: %s", name);
	else if (r.data->len == 0)
		imap_cmd_done(s, c, IMAP_NO, "Can't save a zero byte message.");
	else
		append_to(s, c, &r, name);
	free(name);
}
