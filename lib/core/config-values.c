/* config-values.c: the typed side of loft.conf: pure parsers for bool, uint,
 * size and time values, the storage of a loaded config, and the getters every
 * daemon calls. Getters abort on an unknown key or wrong type (a code bug). */
#include "config-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Leading decimal digits of *sp into *out, advancing *sp. -1 if none or overflow. */
static int parse_digits(const char **sp, uint64_t *out)
{
	const char *p = *sp;
	uint64_t n = 0;
	if (!is_digit(*p))
		return -1;
	for (; is_digit(*p); p++) {
		uint64_t d = (uint64_t)(*p - '0');
		if (n > (UINT64_MAX - d) / 10)
			return -1;
		n = n * 10 + d;
	}
	*sp = p;
	*out = n;
	return 0;
}

static const char *skip_blanks(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

int config_parse_uint(const char *s, uint64_t *out)
{
	uint64_t n;
	if (parse_digits(&s, &n) < 0 || *s != '\0')
		return -1;
	*out = n;
	return 0;
}

int config_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1", NULL};
	static const char *const no[] = {"no", "false", "off", "0", NULL};
	for (size_t i = 0; yes[i] != NULL; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

int config_parse_size(const char *s, uint64_t *out)
{
	uint64_t n, mul = 1;
	if (parse_digits(&s, &n) < 0)
		return -1;
	s = skip_blanks(s);
	switch (*s) {
	case 'k':
	case 'K':
		mul = 1ull << 10;
		break;
	case 'm':
	case 'M':
		mul = 1ull << 20;
		break;
	case 'g':
	case 'G':
		mul = 1ull << 30;
		break;
	case 't':
	case 'T':
		mul = 1ull << 40;
		break;
	}
	if (mul != 1)
		s++;
	if (*s == 'B' || *s == 'b')
		s++;
	if (*s != '\0' || n > UINT64_MAX / mul)
		return -1;
	*out = n * mul;
	return 0;
}

struct time_unit {
	const char *name;
	uint64_t ms;
};

static const struct time_unit time_units[] = {
    {"ms", 1},           {"msec", 1},        {"msecs", 1},        {"millisecond", 1},
    {"milliseconds", 1}, {"s", 1000},        {"sec", 1000},       {"secs", 1000},
    {"second", 1000},    {"seconds", 1000},  {"m", 60000},        {"min", 60000},
    {"mins", 60000},     {"minute", 60000},  {"minutes", 60000},  {"h", 3600000},
    {"hour", 3600000},   {"hours", 3600000}, {"d", 86400000},     {"day", 86400000},
    {"days", 86400000},  {"w", 604800000},   {"week", 604800000}, {"weeks", 604800000},
    {NULL, 0},
};

int config_parse_time_ms(const char *s, uint64_t *out)
{
	uint64_t n, mul = 0;
	if (parse_digits(&s, &n) < 0)
		return -1;
	s = skip_blanks(s);
	if (*s == '\0') {
		mul = 1000; /* a plain number is seconds, like Dovecot */
	} else {
		for (size_t i = 0; time_units[i].name != NULL; i++) {
			if (strcasecmp(s, time_units[i].name) == 0) {
				mul = time_units[i].ms;
				break;
			}
		}
	}
	if (mul == 0 || n > UINT64_MAX / mul)
		return -1;
	*out = n * mul;
	return 0;
}

static const char *type_expect(enum cfg_type t)
{
	switch (t) {
	case CFG_BOOL:
		return "a boolean (yes/no, true/false, on/off, 1/0)";
	case CFG_UINT:
		return "a number (a non-negative decimal integer)";
	case CFG_SIZE:
		return "a size (bytes, optionally with k, M, G or T)";
	case CFG_TIME:
		return "a time (a number with ms, s, m, h, d or w)";
	default:
		return "a value";
	}
}

void cfg_value_clear(struct cfg_value *v)
{
	free(v->raw);
	if (v->list != NULL) {
		for (size_t i = 0; i < v->n_list; i++)
			free(v->list[i]);
		free(v->list);
	}
	memset(v, 0, sizeof(*v));
}

static int split_list(const char *raw, struct cfg_value *out)
{
	size_t n = 0, cap = 4;
	char **list = calloc(cap + 1, sizeof(*list));
	const char *p = raw;
	if (list == NULL)
		return -1;
	for (;;) {
		p = skip_blanks(p);
		if (*p == '\0')
			break;
		size_t wl = strcspn(p, " \t");
		if (n == cap) {
			char **nl = realloc(list, (cap * 2 + 1) * sizeof(*list));
			if (nl == NULL)
				goto fail;
			list = nl;
			cap *= 2;
		}
		if ((list[n] = strndup(p, wl)) == NULL)
			goto fail;
		list[++n] = NULL;
		p += wl;
	}
	list[n] = NULL;
	out->list = list;
	out->n_list = n;
	return 0;
fail:
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
	return -1;
}

int cfg_value_parse(const struct cfg_key *k, const char *raw, struct cfg_value *out, char *err,
                    size_t errlen)
{
	int r = 0;
	memset(out, 0, sizeof(*out));
	switch (k->type) {
	case CFG_BOOL:
		r = config_parse_bool(raw, &out->b);
		break;
	case CFG_UINT:
		r = config_parse_uint(raw, &out->u);
		break;
	case CFG_SIZE:
		r = config_parse_size(raw, &out->u);
		break;
	case CFG_TIME:
		r = config_parse_time_ms(raw, &out->u);
		break;
	case CFG_LIST:
		if (split_list(raw, out) < 0) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		break;
	case CFG_STRING:
	case CFG_PATH:
		break;
	}
	if (r < 0) {
		snprintf(err, errlen, "invalid value '%.200s' for %s: expected %s", raw, k->name,
		         type_expect(k->type));
		return -1;
	}
	if (k->check != NULL && k->check(raw, err, errlen) < 0) {
		cfg_value_clear(out);
		return -1;
	}
	return 0;
}

static const char *intern_file(struct config *cfg, const char *file)
{
	for (size_t i = 0; i < cfg->n_files; i++) {
		if (strcmp(cfg->files[i], file) == 0)
			return cfg->files[i];
	}
	char **nf = realloc(cfg->files, (cfg->n_files + 1) * sizeof(*nf));
	if (nf == NULL)
		return NULL;
	cfg->files = nf;
	if ((nf[cfg->n_files] = strdup(file)) == NULL)
		return NULL;
	return nf[cfg->n_files++];
}

int cfg_set(struct config *cfg, size_t idx, const char *raw, const char *file, unsigned line,
            char *err, size_t errlen)
{
	struct cfg_value v;
	if (cfg_value_parse(&cfg_schema[idx], raw, &v, err, errlen) < 0)
		return -1;
	v.raw = strdup(raw);
	v.file = intern_file(cfg, file);
	v.line = line;
	if (v.raw == NULL || v.file == NULL) {
		cfg_value_clear(&v);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	cfg_value_clear(&cfg->vals[idx]);
	cfg->vals[idx] = v;
	return 0;
}

struct config *cfg_new(void)
{
	struct config *cfg = calloc(1, sizeof(*cfg));
	if (cfg == NULL)
		return NULL;
	cfg->n_keys = cfg_schema_count();
	cfg->path = strdup("");
	cfg->vals = calloc(cfg->n_keys, sizeof(*cfg->vals));
	cfg->defaults = calloc(cfg->n_keys, sizeof(*cfg->defaults));
	if (cfg->path == NULL || cfg->vals == NULL || cfg->defaults == NULL) {
		config_free(cfg);
		return NULL;
	}
	for (size_t i = 0; i < cfg->n_keys; i++) {
		char err[CFG_ERR_MAX];
		struct cfg_value *d = &cfg->defaults[i];
		/* A default that does not parse is a bug in the schema table. */
		if (cfg_value_parse(&cfg_schema[i], cfg_schema[i].def, d, err, sizeof(err)) < 0)
			abort();
		if ((d->raw = strdup(cfg_schema[i].def)) == NULL) {
			config_free(cfg);
			return NULL;
		}
	}
	return cfg;
}

struct config *config_defaults(void)
{
	return cfg_new();
}

void config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < cfg->n_keys; i++) {
		if (cfg->vals != NULL)
			cfg_value_clear(&cfg->vals[i]);
		if (cfg->defaults != NULL)
			cfg_value_clear(&cfg->defaults[i]);
	}
	for (size_t i = 0; i < cfg->n_files; i++)
		free(cfg->files[i]);
	free(cfg->files);
	free(cfg->vals);
	free(cfg->defaults);
	free(cfg->path);
	free(cfg);
}

const char *config_path(const struct config *cfg)
{
	return cfg->path;
}

/* The effective value of key; aborts unless its type is t1 or t2. */
static const struct cfg_value *lookup(const struct config *cfg, const char *key, enum cfg_type t1,
                                      enum cfg_type t2)
{
	int i = cfg_schema_index(key);
	if (i < 0) {
		fprintf(stderr, "loft: internal error: unknown config key '%s'\n", key);
		abort();
	}
	if (cfg_schema[i].type != t1 && cfg_schema[i].type != t2) {
		fprintf(stderr, "loft: internal error: config key '%s' read as wrong type\n", key);
		abort();
	}
	return cfg->vals[i].raw != NULL ? &cfg->vals[i] : &cfg->defaults[i];
}

const char *config_str(const struct config *cfg, const char *key)
{
	return lookup(cfg, key, CFG_STRING, CFG_PATH)->raw;
}

bool config_bool(const struct config *cfg, const char *key)
{
	return lookup(cfg, key, CFG_BOOL, CFG_BOOL)->b;
}

uint64_t config_uint(const struct config *cfg, const char *key)
{
	return lookup(cfg, key, CFG_UINT, CFG_UINT)->u;
}

uint64_t config_size(const struct config *cfg, const char *key)
{
	return lookup(cfg, key, CFG_SIZE, CFG_SIZE)->u;
}

uint64_t config_time_ms(const struct config *cfg, const char *key)
{
	return lookup(cfg, key, CFG_TIME, CFG_TIME)->u;
}

const char *const *config_list(const struct config *cfg, const char *key, size_t *n_r)
{
	const struct cfg_value *v = lookup(cfg, key, CFG_LIST, CFG_LIST);
	if (n_r != NULL)
		*n_r = v->n_list;
	return (const char *const *)v->list;
}

bool config_list_has(const struct config *cfg, const char *key, const char *word)
{
	const struct cfg_value *v = lookup(cfg, key, CFG_LIST, CFG_LIST);
	for (size_t i = 0; i < v->n_list; i++) {
		if (strcmp(v->list[i], word) == 0)
			return true;
	}
	return false;
}

const char *config_raw(const struct config *cfg, const char *key)
{
	int i = cfg_schema_index(key);
	if (i < 0) {
		fprintf(stderr, "loft: internal error: unknown config key '%s'\n", key);
		abort();
	}
	return cfg->vals[i].raw != NULL ? cfg->vals[i].raw : cfg->defaults[i].raw;
}

bool config_source(const struct config *cfg, const char *key, const char **file_r, unsigned *line_r)
{
	int i = cfg_schema_index(key);
	if (i < 0) {
		fprintf(stderr, "loft: internal error: unknown config key '%s'\n", key);
		abort();
	}
	if (cfg->vals[i].raw == NULL)
		return false;
	if (file_r != NULL)
		*file_r = cfg->vals[i].file;
	if (line_r != NULL)
		*line_r = cfg->vals[i].line;
	return true;
}
