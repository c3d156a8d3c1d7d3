/* fuzz-config.c: libFuzzer target for the loft.conf loader and the value
 * parsers and %-expansion it relies on. !include is switched off so inputs
 * cannot reach the file system; every path must end without leaks or UB. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config-private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg_errors errs;
	struct config *cfg = config_load_buf_flags("fuzz.conf", (const char *)data, size,
	                                           CFG_LOAD_NO_INCLUDES, &errs);
	if (cfg != NULL) {
		/* a config that loaded must answer every getter of its type */
		for (const struct cfg_key *k = cfg_schema; k->name != NULL; k++) {
			size_t n;
			if (config_raw(cfg, k->name) == NULL)
				abort();
			if (k->type == CFG_LIST && config_list(cfg, k->name, &n)[n] != NULL)
				abort();
		}
		config_free(cfg);
	} else if (errs.n == 0) {
		abort(); /* NULL without a reason is a bug (no allocation fails here) */
	}
	cfg_errors_free(&errs);

	/* the same bytes as one value and as a path template */
	char *s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	uint64_t u;
	bool b;
	(void)config_parse_size(s, &u);
	(void)config_parse_time_ms(s, &u);
	(void)config_parse_uint(s, &u);
	(void)config_parse_bool(s, &b);
	struct expand_vars v = {"bob@example.org", "/home/bob"};
	const char *err;
	free(config_expand(s, &v, &err));
	free(s);
	return 0;
}
