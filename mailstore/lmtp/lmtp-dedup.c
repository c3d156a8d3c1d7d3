/* lmtp-dedup.c: the pure parts of LMTP duplicate suppression (docs/lmtp.md,
 * "Duplicate suppression"): taking loft-queue's X-LOFT-QID=<queue id>
 * parameter off a MAIL command before the shared MAIL parser sees it, and the
 * deterministic Maildir base name a delivery with a queue id is stored under,
 * so that a retry of the same delivery finds the file it left. */
#include "lmtp.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define QID_KEY     "X-LOFT-QID"
#define QID_KEY_LEN (sizeof(QID_KEY) - 1)

bool lmtp_qid_valid(const char *p, size_t len)
{
	if (len != LMTP_QID_LEN)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return false;
	}
	return true;
}

/* Is the token p[0..len) our parameter ("X-LOFT-QID" or "X-LOFT-QID=...")? */
static bool is_qid_param(const char *p, size_t len)
{
	return len >= QID_KEY_LEN && strncasecmp(p, QID_KEY, QID_KEY_LEN) == 0 &&
	       (len == QID_KEY_LEN || p[QID_KEY_LEN] == '=');
}

int lmtp_mail_take_qid(const char *p, size_t len, char *out, size_t *out_len,
                       char qid_r[LMTP_QID_LEN + 1])
{
	qid_r[0] = '\0';
	/* Parameters follow the path's closing '>'. A quoted local part may hold
	 * '>' and spaces, but never after the last '>' of a valid line, and no
	 * parameter the MAIL parser accepts has '>' in it: whatever this leaves
	 * in place, valid or not, is judged by smtp_mail_parse as before. */
	size_t start = len;
	while (start > 0 && p[start - 1] != '>')
		start--;
	if (start == 0)
		start = len; /* no path: nothing to take */
	memcpy(out, p, start);
	size_t o = start;
	size_t i = start;
	while (i < len) {
		size_t sp = i;
		while (i < len && p[i] == ' ')
			i++;
		size_t tok = i;
		while (i < len && p[i] != ' ')
			i++;
		/* Only a token after at least one space is a parameter: taking
		 * one glued to the path would turn a syntax error into a command. */
		if (tok > sp && i > tok && is_qid_param(p + tok, i - tok)) {
			const char *v = p + tok + QID_KEY_LEN + 1;
			size_t vlen = i - tok > QID_KEY_LEN ? i - tok - QID_KEY_LEN - 1 : 0;
			if (qid_r[0] != '\0' || i - tok == QID_KEY_LEN || !lmtp_qid_valid(v, vlen))
				return -1;
			memcpy(qid_r, v, LMTP_QID_LEN);
			qid_r[LMTP_QID_LEN] = '\0';
			continue; /* dropped, with the spaces before it */
		}
		memcpy(out + o, p + sp, i - sp);
		o += i - sp;
	}
	out[o] = '\0';
	*out_len = o;
	return 0;
}

int lmtp_dedup_base(const char *qid, const unsigned char *digest, size_t digest_len,
                    const char *host, char *out, size_t outlen)
{
	static const char hexdig[] = "0123456789abcdef";
	char tag[LMTP_DEDUP_TAG_BYTES * 2 + 1];
	if (!lmtp_qid_valid(qid, strlen(qid)) || digest_len < LMTP_DEDUP_TAG_BYTES)
		return -1;
	for (size_t i = 0; i < LMTP_DEDUP_TAG_BYTES; i++) {
		tag[2 * i] = hexdig[digest[i] >> 4];
		tag[2 * i + 1] = hexdig[digest[i] & 0xf];
	}
	tag[sizeof(tag) - 1] = '\0';
	/* The queue id's first 14 hex digits are its arrival time in
	 * microseconds (lib/ipc/queue-id.h): names still sort by arrival. */
	unsigned long long usec = 0;
	for (size_t i = 0; i < 14; i++) {
		char c = qid[i];
		usec = (usec << 4) | (unsigned long long)(c <= '9' ? c - '0' : c - 'a' + 10);
	}
	int n = snprintf(out, outlen, "%llu.M%lluL%sH%s.%s", usec / 1000000u, usec % 1000000u, qid,
	                 tag, host);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}
