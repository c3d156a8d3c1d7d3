/* maildir-cache.h: a folder's cache of rendered per-message values (IMAP
 * ENVELOPE, BODY, BODYSTRUCTURE) keyed by the message's base name, in the
 * append-only file <folder>/loft-cache. Maildir messages never change, so a
 * value never goes stale; the cache is only an optimisation: whatever is
 * missing, corrupt or unreadable is recomputed by the caller.
 *
 * File: the 8-byte magic, then records
 *   [u32 len][u32 crc32][base\0][kind][data]   (u32 little-endian)
 * where len counts the bytes after the 8-byte record header and crc32
 * (IEEE, as zlib's) covers those bytes. The reader stops at the first record
 * that is malformed, fails its CRC or runs past the end of the file. */
#ifndef LOFT_MAILDIR_CACHE_H
#define LOFT_MAILDIR_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "maildir.h"

#define MAILDIR_CACHE_FILE "loft-cache"
/* Change the digit whenever a renderer's output changes: old files are
 * then dropped whole instead of serving stale renderings. */
#define MAILDIR_CACHE_MAGIC     "LOFTCA1\n"
#define MAILDIR_CACHE_MAGIC_LEN 8
#define MAILDIR_CACHE_HDR_LEN   8
/* Largest value cached (bigger ones are simply recomputed each time). */
#define MAILDIR_CACHE_VALUE_MAX (1024 * 1024)
/* A larger file is only read up to here (then rewritten compactly). */
#define MAILDIR_CACHE_FILE_MAX (256 * 1024 * 1024)

enum maildir_cache_kind {
	MAILDIR_CACHE_ENVELOPE = 'E',
	MAILDIR_CACHE_BODY = 'B',
	MAILDIR_CACHE_BODYSTRUCTURE = 'S',
};

struct maildir_cache_record {
	const char *base; /* NUL-terminated inside the parsed buffer */
	size_t base_len;
	char kind;
	const char *data;
	size_t len;
};

/* Called for each good record; a negative return stops the parse there. */
typedef int maildir_cache_record_fn(void *ctx, const struct maildir_cache_record *r);

/* Pure: CRC-32 (IEEE 802.3, the one zlib and PNG use). */
uint32_t maildir_cache_crc32(const void *p, size_t len);
/* Pure: walk a loft-cache file's bytes. Returns the length of the good
 * prefix: 0 when the magic is wrong, len when every record is good. */
size_t maildir_cache_parse(const void *p, size_t len, maildir_cache_record_fn *fn, void *ctx);
/* Pure: append one encoded record to out. 0, or -1 (bad argument, or the
 * buffer's max). */
int maildir_cache_encode(struct buf *out, const char *base, char kind, const char *data,
                         size_t len);

struct maildir_cache_stats {
	unsigned long records;  /* good records read from the file */
	unsigned long dead;     /* of those: expunged messages or duplicates */
	unsigned long hits;     /* lookups answered */
	unsigned long misses;   /* lookups not answered */
	unsigned long appends;  /* records appended to the file */
	unsigned long rewrites; /* compactions (or a bad file replaced) */
	size_t good_len;        /* bytes of the file that were good */
};

struct maildir_cache;

/* Read box's loft-cache (records of messages not in box->msgs count as
 * dead) and rewrite it compactly when it is missing, has a bad tail or a
 * wrong magic, or more than half its records are dead. Never fails short of
 * memory (NULL); any file error only leaves the cache empty or read-only. */
struct maildir_cache *maildir_cache_open(struct maildir_mailbox *box);
void maildir_cache_free(struct maildir_cache *c);
/* 1 with the value in *data_r, *len_r (valid until maildir_cache_free), or 0. */
int maildir_cache_lookup(struct maildir_cache *c, const char *base, char kind, const char **data_r,
                         size_t *len_r);
/* Remember a value computed by the caller and append it to the file (one
 * write(), O_APPEND). Failures are silent: it is a cache. */
void maildir_cache_add(struct maildir_cache *c, const char *base, char kind, const char *data,
                       size_t len);
const struct maildir_cache_stats *maildir_cache_get_stats(const struct maildir_cache *c);

/* The cache of an open mailbox (maildir-mailbox.c keeps it with the box and
 * frees it on close), opened on first use. NULL when out of memory. */
struct maildir_cache *maildir_mailbox_cache(struct maildir_mailbox *box);

#endif
