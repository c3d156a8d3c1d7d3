/* fuzz-smtp-cmd.c: libFuzzer target for the SMTP/LMTP command parser
 * (lib/parse/smtp-parse.c) and LMTP's DATA decoder (mailstore/lmtp/lmtp-data.c). The
 * input is parsed as one command line (MAIL/RCPT arguments too) and fed to
 * the DATA decoder whole and byte by byte, which must agree; MAIL arguments
 * also go through LMTP's X-LOFT-QID extraction (mailstore/lmtp/lmtp-dedup.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "lmtp.h"
#include "smtp-parse.h"

static void check(int cond)
{
	if (!cond)
		abort();
}

static void fuzz_command(const char *p, size_t len)
{
	struct smtp_cmd c;
	if (smtp_cmd_parse(p, len, &c) != SMTP_PARSE_OK)
		return;
	check(c.args_len <= len);
	check(c.args_len == 0 || (c.args >= p && c.args + c.args_len <= p + len));
	for (size_t i = 0; i < c.args_len; i++)
		check(c.args[i] != '\r' && c.args[i] != '\n' && c.args[i] != '\0');
	if (c.verb == SMTP_VERB_MAIL) {
		struct smtp_mail m;
		if (smtp_mail_parse(c.args, c.args_len, &m) == SMTP_PARSE_OK)
			check(strlen(m.from.local) <= SMTP_LOCAL_MAX &&
			      (!m.from.utf8 || m.smtputf8));
		/* LMTP's X-LOFT-QID: a valid id or nothing taken, never a longer
		 * result, and without one the arguments pass unchanged */
		char rest[SMTP_LINE_MAX + 1], qid[LMTP_QID_LEN + 1];
		size_t rlen = 0;
		if (lmtp_mail_take_qid(c.args, c.args_len, rest, &rlen, qid) == 0) {
			check(rlen <= c.args_len && strlen(rest) == rlen);
			check(qid[0] == '\0'
			          ? rlen == c.args_len && memcmp(rest, c.args, rlen) == 0
			          : lmtp_qid_valid(qid, strlen(qid)) && rlen < c.args_len);
		}
	} else if (c.verb == SMTP_VERB_RCPT) {
		struct smtp_rcpt r;
		if (smtp_rcpt_parse(c.args, c.args_len, true, SMTP_ADDR_ALLOW_NODOMAIN, &r) ==
		    SMTP_PARSE_OK)
			check(!r.to.null_path && r.to.local[0] != '\0');
	}
}

static void fuzz_data(const char *p, size_t len)
{
	struct lmtp_data a, b;
	struct buf oa, ob;
	buf_init(&oa, 0);
	buf_init(&ob, 0);
	lmtp_data_init(&a, 0);
	lmtp_data_init(&b, 0);
	size_t used = lmtp_data_feed(&a, p, len, &oa);
	check(used <= len);
	size_t i;
	for (i = 0; i < len && !b.done; i++)
		check(lmtp_data_feed(&b, p + i, 1, &ob) == 1);
	check(a.done == b.done && (!a.done || used == i));
	check(oa.len == ob.len && (oa.len == 0 || memcmp(oa.data, ob.data, oa.len) == 0));
	check(a.vsize >= oa.len);
	/* the end marker is CRLF.CRLF (or ".CRLF" first thing) and nothing else */
	if (a.done)
		check((used == 3 && memcmp(p, ".\r\n", 3) == 0) ||
		      (used >= 5 && memcmp(p + used - 5, "\r\n.\r\n", 5) == 0));
	buf_free(&oa);
	buf_free(&ob);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_command((const char *)data, size);
	fuzz_data((const char *)data, size);
	return 0;
}
