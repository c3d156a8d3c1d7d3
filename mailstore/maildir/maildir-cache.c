/* maildir-cache.c: the per-folder loft-cache file of rendered ENVELOPE,
 * BODY and BODYSTRUCTURE values (format in maildir-cache.h): a pure reader
 * and encoder, and the cache a session keeps for its selected folder (read
 * once, looked up through a hash table, appended to as values get computed,
 * compacted when mostly dead). */
#include "maildir-cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maildir-private.h"

/* CRC-32 table built at compile time: entry n is n shifted through the
 * reflected polynomial eight times. */
#define CRC_B(c)   (((c) >> 1) ^ (0xEDB88320u & (0u - ((c)&1u))))
#define CRC_E(n)   CRC_B(CRC_B(CRC_B(CRC_B(CRC_B(CRC_B(CRC_B(CRC_B((uint32_t)(n)))))))))
#define CRC_4(n)   CRC_E(n), CRC_E((n) + 1), CRC_E((n) + 2), CRC_E((n) + 3)
#define CRC_16(n)  CRC_4(n), CRC_4((n) + 4), CRC_4((n) + 8), CRC_4((n) + 12)
#define CRC_64(n)  CRC_16(n), CRC_16((n) + 16), CRC_16((n) + 32), CRC_16((n) + 48)
#define CRC_256(n) CRC_64(n), CRC_64((n) + 64), CRC_64((n) + 128), CRC_64((n) + 192)
static const uint32_t crc_table[256] = {CRC_256(0u)};

uint32_t maildir_cache_crc32(const void *p, size_t len)
{
	const unsigned char *b = p;
	uint32_t c = 0xFFFFFFFFu;
	for (size_t i = 0; i < len; i++)
		c = crc_table[(c ^ b[i]) & 0xFFu] ^ (c >> 8);
	return c ^ 0xFFFFFFFFu;
}

static uint32_t get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static int kind_ok(char k)
{
	return k == MAILDIR_CACHE_ENVELOPE || k == MAILDIR_CACHE_BODY ||
	       k == MAILDIR_CACHE_BODYSTRUCTURE;
}

/* A base name as Maildir allows it in a file name. */
static int base_ok(const char *base, size_t len)
{
	return len > 0 && len <= MAILDIR_NAME_MAX && memchr(base, '/', len) == NULL &&
	       memchr(base, ':', len) == NULL;
}

size_t maildir_cache_parse(const void *p, size_t len, maildir_cache_record_fn *fn, void *ctx)
{
	const unsigned char *b = p;
	if (len < MAILDIR_CACHE_MAGIC_LEN ||
	    memcmp(b, MAILDIR_CACHE_MAGIC, MAILDIR_CACHE_MAGIC_LEN))
		return 0;
	size_t off = MAILDIR_CACHE_MAGIC_LEN;
	while (len - off >= MAILDIR_CACHE_HDR_LEN) {
		uint32_t rlen = get_u32(b + off);
		uint32_t crc = get_u32(b + off + 4);
		const char *body = (const char *)b + off + MAILDIR_CACHE_HDR_LEN;
		/* rlen is checked against what is left before anything reads it */
		if (rlen < 3 || rlen > len - off - MAILDIR_CACHE_HDR_LEN ||
		    rlen > MAILDIR_CACHE_VALUE_MAX + MAILDIR_NAME_MAX + 2)
			break;
		const char *nul = memchr(body, '\0', rlen - 1);
		if (nul == NULL)
			break;
		size_t base_len = (size_t)(nul - body);
		struct maildir_cache_record r = {
		    .base = body,
		    .base_len = base_len,
		    .kind = nul[1],
		    .data = nul + 2,
		    .len = rlen - base_len - 2,
		};
		if (!base_ok(body, base_len) || !kind_ok(r.kind) ||
		    maildir_cache_crc32(body, rlen) != crc)
			break;
		if (fn != NULL && fn(ctx, &r) < 0)
			break;
		off += MAILDIR_CACHE_HDR_LEN + rlen;
	}
	return off;
}

int maildir_cache_encode(struct buf *out, const char *base, char kind, const char *data, size_t len)
{
	size_t base_len = strlen(base);
	if (!base_ok(base, base_len) || !kind_ok(kind) || len > MAILDIR_CACHE_VALUE_MAX)
		return -1;
	size_t rlen = base_len + 2 + len;
	size_t start = out->len;
	unsigned char hdr[MAILDIR_CACHE_HDR_LEN] = {0};
	if (buf_append(out, hdr, sizeof(hdr)) < 0 || buf_append(out, base, base_len + 1) < 0 ||
	    buf_append(out, &kind, 1) < 0 || (len > 0 && buf_append(out, data, len) < 0)) {
		out->len = start;
		return -1;
	}
	unsigned char *h = (unsigned char *)out->data + start;
	put_u32(h, (uint32_t)rlen);
	put_u32(h + 4, maildir_cache_crc32(h + MAILDIR_CACHE_HDR_LEN, rlen));
	return 0;
}

/* ---- the cache of one open folder ---- */

struct cache_entry {
	const char *base; /* NULL: free slot */
	const char *data;
	size_t len;
	char kind;
	bool live;  /* its message is in the folder (at open) or it was added */
	bool owned; /* base points at a malloc'd "base\0data" block */
};

struct maildir_cache {
	char *dir;               /* the folder */
	char *path;              /* <dir>/loft-cache */
	char *file;              /* the file's bytes; entries point into it */
	struct cache_entry *tab; /* open addressing, cap a power of two */
	size_t cap, n;
	int fd; /* for appends: -1 not opened yet, -2 given up */
	struct maildir_cache_stats stats;
};

static size_t hash(const char *base, char kind)
{
	uint64_t h = 1469598103934665603ULL ^ (unsigned char)kind;
	for (const unsigned char *p = (const unsigned char *)base; *p != '\0'; p++)
		h = (h ^ *p) * 1099511628211ULL;
	return (size_t)(h ^ (h >> 29));
}

static struct cache_entry *slot(struct maildir_cache *c, const char *base, char kind)
{
	size_t i = hash(base, kind) & (c->cap - 1);
	while (c->tab[i].base != NULL &&
	       (c->tab[i].kind != kind || strcmp(c->tab[i].base, base) != 0))
		i = (i + 1) & (c->cap - 1);
	return &c->tab[i];
}

/* Keep the load factor at most 1/2. 0 or -1. */
static int reserve(struct maildir_cache *c, size_t n)
{
	if (c->cap != 0 && (n + 1) * 2 <= c->cap)
		return 0;
	size_t cap = 64;
	while (cap < (n + 1) * 2)
		cap *= 2;
	struct cache_entry *old = c->tab;
	size_t old_cap = c->cap;
	c->tab = calloc(cap, sizeof(*c->tab));
	if (c->tab == NULL) {
		c->tab = old;
		return -1;
	}
	c->cap = cap;
	for (size_t i = 0; i < old_cap; i++) {
		if (old[i].base != NULL)
			*slot(c, old[i].base, old[i].kind) = old[i];
	}
	free(old);
	return 0;
}

static int load_record(void *ctx, const struct maildir_cache_record *r)
{
	struct maildir_cache *c = ctx;
	c->stats.records++;
	if (reserve(c, c->n + 1) < 0)
		return -1;
	struct cache_entry *e = slot(c, r->base, r->kind);
	if (e->base != NULL)
		return 0; /* a duplicate (two sessions computed it): dead */
	*e = (struct cache_entry){.base = r->base, .data = r->data, .len = r->len, .kind = r->kind};
	c->n++;
	return 0;
}

/* Read at most MAILDIR_CACHE_FILE_MAX bytes of the file into c->file.
 * Returns the bytes read (0 when missing or unreadable). */
static size_t read_file(struct maildir_cache *c, bool *whole_r)
{
	*whole_r = true;
	int fd = open(c->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat sb;
	if (fd < 0)
		return 0;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || sb.st_size <= 0) {
		close(fd);
		return 0;
	}
	size_t want = (size_t)sb.st_size;
	if (want > MAILDIR_CACHE_FILE_MAX) {
		want = MAILDIR_CACHE_FILE_MAX;
		*whole_r = false;
	}
	c->file = malloc(want);
	size_t got = 0;
	while (c->file != NULL && got < want) {
		ssize_t n = read(fd, c->file + got, want - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got < (size_t)sb.st_size)
		*whole_r = false;
	return c->file != NULL ? got : 0;
}

/* Replace the file with the magic and the live records (temp + rename, no
 * fsync: losing it in a crash only costs recomputation). */
static void rewrite(struct maildir_cache *c)
{
	struct buf b;
	buf_init(&b, 0);
	int r = buf_append(&b, MAILDIR_CACHE_MAGIC, MAILDIR_CACHE_MAGIC_LEN);
	for (size_t i = 0; i < c->cap && r == 0; i++) {
		const struct cache_entry *e = &c->tab[i];
		if (e->base != NULL && e->live)
			r = maildir_cache_encode(&b, e->base, e->kind, e->data, e->len);
	}
	char tmp[64];
	snprintf(tmp, sizeof(tmp), MAILDIR_CACHE_FILE ".tmp.%ld", (long)getpid());
	char *tmp_path = maildir_path_join(c->dir, tmp);
	int fd = r == 0 && tmp_path != NULL
	             ? open(tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600)
	             : -1;
	if (fd >= 0) {
		size_t off = 0;
		while (off < b.len) {
			ssize_t n = write(fd, b.data + off, b.len - off);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			off += (size_t)n;
		}
		if (close(fd) == 0 && off == b.len && rename(tmp_path, c->path) == 0)
			c->stats.rewrites++;
		else
			unlink(tmp_path);
	}
	free(tmp_path);
	buf_free(&b);
}

struct maildir_cache *maildir_cache_open(struct maildir_mailbox *box)
{
	struct maildir_cache *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->fd = -1;
	c->dir = strdup(box->path);
	c->path = maildir_path_join(box->path, MAILDIR_CACHE_FILE);
	if (c->dir == NULL || c->path == NULL || reserve(c, 2 * box->count) < 0) {
		maildir_cache_free(c);
		return NULL;
	}
	bool whole;
	size_t len = read_file(c, &whole);
	c->stats.good_len = c->file != NULL ? maildir_cache_parse(c->file, len, load_record, c) : 0;
	static const char kinds[] = {MAILDIR_CACHE_ENVELOPE, MAILDIR_CACHE_BODY,
	                             MAILDIR_CACHE_BODYSTRUCTURE};
	unsigned long live = 0;
	for (size_t i = 0; i < box->count && c->n > 0; i++) {
		for (size_t k = 0; k < sizeof(kinds); k++) {
			struct cache_entry *e = slot(c, box->msgs[i].base, kinds[k]);
			if (e->base != NULL && !e->live) {
				e->live = true;
				live++;
			}
		}
	}
	c->stats.dead = c->stats.records - live;
	if (!whole || c->stats.good_len < len || len < MAILDIR_CACHE_MAGIC_LEN ||
	    c->stats.dead * 2 > c->stats.records)
		rewrite(c);
	return c;
}

void maildir_cache_free(struct maildir_cache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->cap; i++) {
		if (c->tab[i].owned)
			free((char *)c->tab[i].base);
	}
	if (c->fd >= 0)
		close(c->fd);
	free(c->tab);
	free(c->file);
	free(c->path);
	free(c->dir);
	free(c);
}

int maildir_cache_lookup(struct maildir_cache *c, const char *base, char kind, const char **data_r,
                         size_t *len_r)
{
	const struct cache_entry *e = c->cap > 0 ? slot(c, base, kind) : NULL;
	if (e == NULL || e->base == NULL) {
		c->stats.misses++;
		return 0;
	}
	c->stats.hits++;
	*data_r = e->data;
	*len_r = e->len;
	return 1;
}

void maildir_cache_add(struct maildir_cache *c, const char *base, char kind, const char *data,
                       size_t len)
{
	struct buf rec;
	buf_init(&rec, 0);
	if (reserve(c, c->n + 1) < 0 || maildir_cache_encode(&rec, base, kind, data, len) < 0) {
		buf_free(&rec);
		return;
	}
	struct cache_entry *e = slot(c, base, kind);
	if (e->base != NULL) { /* already known: nothing to add */
		buf_free(&rec);
		return;
	}
	size_t base_len = strlen(base);
	char *block = malloc(base_len + 1 + len + 1);
	if (block == NULL) {
		buf_free(&rec);
		return;
	}
	memcpy(block, base, base_len + 1);
	if (len > 0)
		memcpy(block + base_len + 1, data, len);
	block[base_len + 1 + len] = '\0';
	*e = (struct cache_entry){.base = block,
	                          .data = block + base_len + 1,
	                          .len = len,
	                          .kind = kind,
	                          .live = true,
	                          .owned = true};
	c->n++;
	/* the file exists (open created it); never create one without magic */
	if (c->fd == -1) {
		c->fd = open(c->path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
		if (c->fd < 0)
			c->fd = -2;
	}
	if (c->fd >= 0) {
		ssize_t n = write(c->fd, rec.data, rec.len);
		if (n == (ssize_t)rec.len) {
			c->stats.appends++;
		} else { /* a torn record: readers stop there and rewrite */
			close(c->fd);
			c->fd = -2;
		}
	}
	buf_free(&rec);
}

const struct maildir_cache_stats *maildir_cache_get_stats(const struct maildir_cache *c)
{
	return &c->stats;
}
