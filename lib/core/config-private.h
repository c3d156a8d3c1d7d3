/* config-private.h: what the config-*.c files share and nobody else needs: the
 * layout of a loaded config, the error collector, the pure line parser and the
 * loader flag the fuzz target uses to keep !include away from the file system. */
#ifndef LOFT_CONFIG_PRIVATE_H
#define LOFT_CONFIG_PRIVATE_H

#include <stdarg.h>

#include "buf.h"
#include "config.h"

#define CFG_LINE_MAX          8192
#define CFG_INCLUDE_DEPTH_MAX 8
#define CFG_FILE_MAX          (16u * 1024 * 1024)
#define CFG_ERR_MAX           512

/* One key's value: the text as written plus its parsed form. */
struct cfg_value {
	char *raw;        /* NULL: the schema default applies */
	const char *file; /* interned in config.files; NULL for the default */
	unsigned line;
	bool b;
	uint64_t u;    /* CFG_UINT / CFG_SIZE / CFG_TIME (ms) */
	char **list;   /* CFG_LIST, NULL-terminated */
	size_t n_list; /* CFG_LIST item count */
};

struct config {
	char *path;
	size_t n_keys;
	struct cfg_value *vals;     /* indexed like cfg_schema */
	struct cfg_value *defaults; /* parsed schema defaults, same index */
	char **files;               /* every file name a value came from */
	size_t n_files;
};

/* Index of name in cfg_schema, or -1. */
int cfg_schema_index(const char *name);
size_t cfg_schema_count(void);

/* Parse raw as a value of key k into out (raw is not stored). 0 or -1 with a
 * message in err naming the type and the value. */
int cfg_value_parse(const struct cfg_key *k, const char *raw, struct cfg_value *out, char *err,
                    size_t errlen);
void cfg_value_clear(struct cfg_value *v);
/* Set key idx from file:line; 0 or -1 with a message in err. */
int cfg_set(struct config *cfg, size_t idx, const char *raw, const char *file, unsigned line,
            char *err, size_t errlen);
/* A config with every key at its default; NULL on out of memory. */
struct config *cfg_new(void);

void cfg_error_add(struct cfg_errors *e, const char *file, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* One line of loft.conf, split by the pure line parser. */
enum cfg_line_kind {
	CFG_LINE_EMPTY, /* blank or comment */
	CFG_LINE_SET,
	CFG_LINE_INCLUDE,
	CFG_LINE_INCLUDE_TRY,
};

struct cfg_line {
	enum cfg_line_kind kind;
	const char *key; /* CFG_LINE_SET: points into the input, key_len bytes */
	size_t key_len;
	struct buf value; /* value or include path, unquoted; caller frees */
};

/* Parse one line (without its LF). 0, or -1 with a message in err. */
int cfg_parse_line(const char *p, size_t len, struct cfg_line *out, char *err, size_t errlen);

#define CFG_LOAD_NO_INCLUDES 0x1 /* !include lines are errors (fuzzing) */
struct config *config_load_buf_flags(const char *name, const char *text, size_t len, int flags,
                                     struct cfg_errors *errs);

#endif
