/* fuzz-netmask.c: libFuzzer target for the mynetworks entry parser
 * (lib/core/netmask.c). An accepted entry must have a sane family and prefix and
 * must match its own network address. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "netmask.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct netmask m;
	if (netmask_parse((const char *)data, size, &m) != 0)
		return 0;
	if (m.family != AF_INET && m.family != AF_INET6)
		abort();
	if (m.prefix > (m.family == AF_INET ? 32u : 128u))
		abort();
	if (!netmask_match(&m, m.family, m.addr))
		abort();
	return 0;
}
