/* fuzz-auth-proto.c: libFuzzer target for loft-auth's request parser: any
 * bytes, split into lines, go through wire_decode and auth_proto_parse; the
 * parsed fields must stay inside their bounds. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth-proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	size_t pos = 0;
	while (pos <= size) {
		char *nl = memchr(copy + pos, '\n', size - pos);
		size_t len = nl != NULL ? (size_t)(nl - (copy + pos)) : size - pos;
		struct wire_field f[WIRE_MAX_FIELDS];
		int n = wire_decode(copy + pos, len, f, WIRE_MAX_FIELDS);
		if (n > 0) {
			struct auth_cmd cmd;
			const char *err = NULL;
			if (auth_proto_parse(f, n, &cmd, &err) == 0) {
				/* Touch every string: ASan checks they are terminated. */
				volatile size_t sum = strlen(cmd.service) + strlen(cmd.rip) +
				                      strlen(cmd.lip) + strlen(cmd.name) +
				                      strlen(cmd.token);
				(void)sum;
				if (cmd.resp_len > 0 && cmd.resp[cmd.resp_len - 1] == '\n')
					abort(); /* resp is base64 only */
				(void)auth_proto_allowed(AUTH_LISTENER_LOGIN, cmd.verb);
			} else if (err == NULL) {
				abort();
			}
		}
		pos += len + 1;
	}
	free(copy);
	return 0;
}
