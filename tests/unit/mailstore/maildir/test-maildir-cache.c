/* test-maildir-cache.c: the per-folder loft-cache (maildir-cache.c): the
 * record encoding round trip, every one-byte corruption and every truncation
 * of a small file (values come back right or not at all, and the file is
 * repaired), compaction of dead records, and FETCH output that is the same
 * with the cache cold, warm and damaged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "imap-session.h"
#include "maildir-cache.h"
#include "maildir.h"
#include "session-client.h"

static const char *const msgs[] = {
    "From: Ann <a@example.org>\nTo: b@example.org\nSubject: one\n\nline one\n",
    "From: b@example.org\r\nSubject: two\r\nContent-Type: multipart/mixed; boundary=X\r\n\r\n"
    "--X\r\nContent-Type: text/plain\r\n\r\nhi\r\n--X\r\nContent-Type: text/html\r\n\r\n"
    "<p>hi</p>\r\n--X--\r\n",
    "Subject: three\n\nend\n",
};
#define NMSGS 3

struct fx {
	char dir[64];
	char root[128];
	char cache[160];
	struct maildir_store st;
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	const char *err;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/loft-cache-XXXXXX");
	if (fx == NULL || mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(fx->root, sizeof(fx->root), "%s/Maildir", fx->dir);
	snprintf(fx->cache, sizeof(fx->cache), "%s/" MAILDIR_CACHE_FILE, fx->root);
	if (maildir_store_init(&fx->st, fx->root, '/', "mx.example", &err) < 0 ||
	    maildir_folder_create(&fx->st, "INBOX", &err) < 0)
		return -1;
	for (int i = 0; i < NMSGS; i++) {
		if (maildir_deliver(&fx->st, "INBOX", msgs[i], strlen(msgs[i]), NULL, &err) < 0)
			return -1;
	}
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	maildir_store_deinit(&fx->st);
	test_rmtree(fx->dir);
	free(fx);
	return 0;
}

static struct maildir_mailbox *open_box(struct fx *fx)
{
	struct maildir_mailbox *box;
	const char *err;
	assert_int_equal(maildir_mailbox_open(&fx->st, "INBOX", 0, &box, &err), 0);
	assert_int_equal(box->count, NMSGS);
	return box;
}

static char *read_all(const char *path, size_t *len_r)
{
	struct buf b;
	buf_init(&b, 0);
	int fd = open(path, O_RDONLY);
	char chunk[4096];
	ssize_t n;
	while (fd >= 0 && (n = read(fd, chunk, sizeof(chunk))) > 0)
		assert_int_equal(buf_append(&b, chunk, (size_t)n), 0);
	if (fd >= 0)
		close(fd);
	*len_r = b.len;
	return b.data != NULL ? b.data : calloc(1, 1);
}

static void write_all(const char *path, const char *p, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, len), (ssize_t)len);
	close(fd);
}

/* value of message i, kind k: what the tests store */
static void value(char *out, size_t n, size_t i, char k)
{
	snprintf(out, n, "(\"v%zu%c\" NIL)", i, k);
}

static const char kinds[] = {MAILDIR_CACHE_ENVELOPE, MAILDIR_CACHE_BODY,
                             MAILDIR_CACHE_BODYSTRUCTURE};

/* Fill the cache of a fresh box with every message's three values. */
static void fill_cache(struct fx *fx)
{
	struct maildir_mailbox *box = open_box(fx);
	struct maildir_cache *c = maildir_cache_open(box);
	assert_non_null(c);
	for (size_t i = 0; i < box->count; i++) {
		for (size_t k = 0; k < 3; k++) {
			char v[64];
			value(v, sizeof(v), i, kinds[k]);
			maildir_cache_add(c, box->msgs[i].base, kinds[k], v, strlen(v));
		}
	}
	assert_int_equal(maildir_cache_get_stats(c)->appends, 3 * NMSGS);
	maildir_cache_free(c);
	maildir_mailbox_close(box);
}

/* Every value present is right; returns how many were present. */
static size_t check_values(struct maildir_mailbox *box, struct maildir_cache *c)
{
	size_t found = 0;
	for (size_t i = 0; i < box->count; i++) {
		for (size_t k = 0; k < 3; k++) {
			char v[64];
			const char *data;
			size_t len;
			value(v, sizeof(v), i, kinds[k]);
			if (maildir_cache_lookup(c, box->msgs[i].base, kinds[k], &data, &len) > 0) {
				assert_int_equal(len, strlen(v));
				assert_memory_equal(data, v, len);
				found++;
			}
		}
	}
	return found;
}

static void test_round_trip(void **state)
{
	struct fx *fx = *state;
	fill_cache(fx);
	struct maildir_mailbox *box = open_box(fx);
	struct maildir_cache *c = maildir_cache_open(box);
	assert_int_equal(check_values(box, c), 3 * NMSGS);
	const struct maildir_cache_stats *s = maildir_cache_get_stats(c);
	assert_int_equal(s->records, 3 * NMSGS);
	assert_int_equal(s->dead, 0);
	assert_int_equal(s->rewrites, 0);
	/* an empty value and a value with NUL and 8-bit bytes survive too */
	maildir_cache_add(c, "x1", MAILDIR_CACHE_BODY, "", 0);
	maildir_cache_add(c, "x1", MAILDIR_CACHE_ENVELOPE, "a\0\xff", 3);
	maildir_cache_free(c);
	c = maildir_cache_open(box);
	const char *data;
	size_t len;
	assert_int_equal(maildir_cache_lookup(c, "x1", MAILDIR_CACHE_BODY, &data, &len), 1);
	assert_int_equal(len, 0);
	assert_int_equal(maildir_cache_lookup(c, "x1", MAILDIR_CACHE_ENVELOPE, &data, &len), 1);
	assert_int_equal(len, 3);
	assert_memory_equal(data, "a\0\xff", 3);
	assert_int_equal(maildir_cache_lookup(c, "x2", MAILDIR_CACHE_BODY, &data, &len), 0);
	maildir_cache_free(c);
	maildir_mailbox_close(box);
	/* bad arguments are refused by the encoder */
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(maildir_cache_encode(&b, "", 'E', "v", 1), -1);
	assert_int_equal(maildir_cache_encode(&b, "a/b", 'E', "v", 1), -1);
	assert_int_equal(maildir_cache_encode(&b, "a", 'Q', "v", 1), -1);
	assert_int_equal(b.len, 0);
	buf_free(&b);
	/* the well-known check value of CRC-32 */
	assert_int_equal(maildir_cache_crc32("123456789", 9), 0xCBF43926u);
}

/* Flip each byte of the file in turn, then truncate it at each length:
 * values are right or missing, never wrong, and open repairs the file so
 * that everything a session adds afterwards is read back. */
static void test_corruption(void **state)
{
	struct fx *fx = *state;
	fill_cache(fx);
	size_t len;
	char *orig = read_all(fx->cache, &len);
	assert_true(len > MAILDIR_CACHE_MAGIC_LEN);
	struct maildir_mailbox *box = open_box(fx);
	for (size_t pass = 0; pass < 2; pass++) {
		for (size_t off = 0; off <= len; off++) {
			if (pass == 0 && off == len)
				break;
			char *bad = malloc(len + 1);
			memcpy(bad, orig, len);
			size_t blen = len;
			if (pass == 0)
				bad[off] ^= 0x5a;
			else
				blen = off;
			write_all(fx->cache, bad, blen);
			free(bad);
			struct maildir_cache *c = maildir_cache_open(box);
			assert_non_null(c);
			size_t found = check_values(box, c);
			const struct maildir_cache_stats *s = maildir_cache_get_stats(c);
			assert_true(s->good_len <= off || (pass == 1 && off == len));
			if (pass == 1 && off == len)
				assert_int_equal(found, 3 * NMSGS);
			else
				assert_true(found < 3 * NMSGS);
			/* recompute what is missing, as FETCH does */
			for (size_t i = 0; i < box->count; i++) {
				for (size_t k = 0; k < 3; k++) {
					char v[64];
					const char *d;
					size_t l;
					value(v, sizeof(v), i, kinds[k]);
					if (maildir_cache_lookup(c, box->msgs[i].base, kinds[k], &d,
					                         &l) == 0)
						maildir_cache_add(c, box->msgs[i].base, kinds[k], v,
						                  strlen(v));
				}
			}
			maildir_cache_free(c);
			c = maildir_cache_open(box);
			assert_int_equal(check_values(box, c), 3 * NMSGS);
			assert_int_equal(maildir_cache_get_stats(c)->rewrites, 0);
			maildir_cache_free(c);
		}
	}
	maildir_mailbox_close(box);
	free(orig);
}

static void test_compaction(void **state)
{
	struct fx *fx = *state;
	fill_cache(fx);
	size_t full_len;
	free(read_all(fx->cache, &full_len));
	const char *err;
	struct maildir_mailbox *box = open_box(fx);
	uint32_t uids[2] = {box->msgs[0].uid, box->msgs[1].uid};
	/* one of three expunged: a third dead, no rewrite */
	assert_int_equal(maildir_mailbox_expunge(box, uids, 1, &err), 1);
	struct maildir_cache *c = maildir_cache_open(box);
	assert_int_equal(maildir_cache_get_stats(c)->dead, 3);
	assert_int_equal(maildir_cache_get_stats(c)->rewrites, 0);
	maildir_cache_free(c);
	/* two of three: more than half dead, rewritten with the live third */
	assert_int_equal(maildir_mailbox_expunge(box, uids + 1, 1, &err), 1);
	assert_int_equal(box->count, 1);
	c = maildir_cache_open(box);
	assert_int_equal(maildir_cache_get_stats(c)->dead, 6);
	assert_int_equal(maildir_cache_get_stats(c)->rewrites, 1);
	maildir_cache_free(c);
	size_t len;
	free(read_all(fx->cache, &len));
	assert_true(len < full_len / 2);
	c = maildir_cache_open(box);
	const struct maildir_cache_stats *s = maildir_cache_get_stats(c);
	assert_int_equal(s->records, 3);
	assert_int_equal(s->dead, 0);
	assert_int_equal(s->rewrites, 0);
	char v[64];
	const char *d;
	size_t l;
	value(v, sizeof(v), 2, MAILDIR_CACHE_BODY);
	assert_int_equal(maildir_cache_lookup(c, box->msgs[0].base, MAILDIR_CACHE_BODY, &d, &l), 1);
	assert_memory_equal(d, v, l);
	maildir_cache_free(c);
	maildir_mailbox_close(box);
}

/* One session: SELECT, then FETCH 1:* of the structure items; all the
 * output up to the tagged OK. */
static char *fetch_all(struct fx *fx)
{
	struct sess s;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	buf_init(&s.in, 0);
	s.pid = fork();
	assert_true(s.pid >= 0);
	if (s.pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		close(sv[0]);
		struct session_env env = {
		    .fd = sv[1],
		    .user = "alice",
		    .home = "",
		    .maildir = fx->root,
		    .login_tag = "L1",
		    .rip = "127.0.0.1",
		    .lip = "127.0.0.1",
		    .session_id = "test",
		};
		_exit(imap_session_run(&env));
	}
	close(sv[1]);
	s.fd = sv[0];
	free(get_line(&s));
	send_str(&s, "a SELECT INBOX\r\nb FETCH 1:* (ENVELOPE BODY BODYSTRUCTURE UID)\r\n"
	             "c FETCH 2 (BODYSTRUCTURE ENVELOPE)\r\n");
	struct buf all;
	buf_init(&all, 0);
	char *line;
	while ((line = get_line(&s)) != NULL) {
		bool done = strncmp(line, "c OK", 4) == 0;
		if (strncmp(line, "a OK", 4) != 0 && strncmp(line, "* OK [UIDVALIDITY", 17) != 0 &&
		    strstr(line, " RECENT") == NULL) { /* only the first session has them */
			assert_int_equal(buf_append_str(&all, line), 0);
			assert_int_equal(buf_append_str(&all, "\n"), 0);
		}
		free(line);
		if (done)
			break;
	}
	send_str(&s, "z LOGOUT\r\n");
	finish(&s);
	return all.data;
}

static void test_fetch_same(void **state)
{
	struct fx *fx = *state;
	char *cold = fetch_all(fx);
	assert_non_null(
	    strstr(cold, "ENVELOPE (NIL \"one\" ((\"Ann\" NIL \"a\" \"example.org\"))"));
	assert_non_null(strstr(cold, "BODYSTRUCTURE ((\"text\" \"plain\""));
	size_t len;
	free(read_all(fx->cache, &len));
	assert_true(len > MAILDIR_CACHE_MAGIC_LEN); /* the cold run filled it */
	char *warm = fetch_all(fx);
	if (strcmp(warm, cold) != 0)
		fprintf(stderr, "cold:\n%s\nwarm:\n%s\n", cold, warm);
	assert_true(strcmp(warm, cold) == 0);
	size_t len2;
	char *file = read_all(fx->cache, &len2);
	assert_int_equal(len2, len); /* all hits: nothing appended */
	/* a damaged file gives the same output (and is repaired) */
	file[len2 / 2] ^= 0x01;
	write_all(fx->cache, file, len2);
	free(file);
	char *damaged = fetch_all(fx);
	assert_true(strcmp(damaged, cold) == 0);
	free(damaged);
	free(warm);
	free(cold);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_corruption, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_compaction, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fetch_same, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
