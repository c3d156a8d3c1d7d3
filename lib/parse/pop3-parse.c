/* pop3-parse.c: tokenizer of POP3 command lines and SASL continuation lines,
 * used by pop3-login before auth and by the POP3 session after it. Pure:
 * results point into the caller's buffer, which must outlive them. */
#include "pop3-parse.h"

#include <string.h>

/* Strip one trailing "\n" or "\r\n"; reject NUL and any other CR or LF.
 * Returns the content length or -1. */
static long strip_line(const char *p, size_t len)
{
	if (len > 0 && p[len - 1] == '\n') {
		len--;
		if (len > 0 && p[len - 1] == '\r')
			len--;
	}
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\0' || p[i] == '\r' || p[i] == '\n')
			return -1;
	}
	return (long)len;
}

static int is_alpha(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static size_t skip_spaces(const char *p, size_t i, size_t n)
{
	while (i < n && p[i] == ' ')
		i++;
	return i;
}

enum pop3_parse_result pop3_parse_command(const char *p, size_t len, struct pop3_cmd *cmd)
{
	memset(cmd, 0, sizeof(*cmd));
	if (len > POP3_LINE_MAX)
		return POP3_PARSE_TOO_LONG;
	long sl = strip_line(p, len);
	if (sl < 0)
		return POP3_PARSE_NUL;
	size_t n = (size_t)sl, i = skip_spaces(p, 0, n);
	if (i == n)
		return POP3_PARSE_EMPTY;

	size_t vstart = i;
	while (i < n && p[i] != ' ')
		i++;
	cmd->verb_raw = p + vstart;
	cmd->verb_raw_len = i - vstart;
	if (cmd->verb_raw_len > POP3_VERB_MAX)
		return POP3_PARSE_BAD_VERB;
	for (size_t k = 0; k < cmd->verb_raw_len; k++) {
		char c = p[vstart + k];
		if (!is_alpha(c))
			return POP3_PARSE_BAD_VERB;
		cmd->verb[k] = (char)(c >= 'a' ? c - 'a' + 'A' : c);
	}

	i = skip_spaces(p, i, n);
	cmd->rest = p + i;
	cmd->rest_len = n - i;
	while (i < n) {
		size_t start = i;
		while (i < n && p[i] != ' ')
			i++;
		if (cmd->argc == POP3_ARGS_MAX)
			return POP3_PARSE_TOO_MANY_ARGS;
		cmd->args[cmd->argc] = p + start;
		cmd->arg_lens[cmd->argc] = i - start;
		cmd->argc++;
		i = skip_spaces(p, i, n);
	}
	return POP3_PARSE_OK;
}

enum pop3_parse_result pop3_parse_continuation(const char *p, size_t len, size_t max_len,
                                               const char **data_r, size_t *len_r)
{
	*data_r = p;
	*len_r = 0;
	if (len > (max_len == 0 ? POP3_LINE_MAX : max_len))
		return POP3_PARSE_TOO_LONG;
	long sl = strip_line(p, len);
	if (sl < 0)
		return POP3_PARSE_NUL;
	*len_r = (size_t)sl;
	return POP3_PARSE_OK;
}

int pop3_parse_number(const char *p, size_t len, unsigned long *n_r)
{
	unsigned long long n = 0;
	if (len == 0 || len > 10)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		n = n * 10 + (unsigned)(p[i] - '0');
	}
	if (n > 4294967295ULL)
		return -1;
	*n_r = (unsigned long)n;
	return 0;
}

const char *pop3_parse_result_str(enum pop3_parse_result r)
{
	switch (r) {
	case POP3_PARSE_OK:
		return "ok";
	case POP3_PARSE_EMPTY:
		return "empty line";
	case POP3_PARSE_TOO_LONG:
		return "line too long";
	case POP3_PARSE_NUL:
		return "NUL or stray CR/LF in line";
	case POP3_PARSE_BAD_VERB:
		return "invalid command name";
	case POP3_PARSE_TOO_MANY_ARGS:
		return "too many arguments";
	}
	return "unknown";
}
