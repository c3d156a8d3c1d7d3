/* test-relay-mxparse.c: unit tests for loft-relay's pure parsers of routing
 * input: DNS responses (smtpd/relay/relay-mxparse.c: MX order, A/AAAA, CNAME
 * chains, NXDOMAIN, null MX, compression abuse) and relayhost values
 * (relay_host_parse in smtpd/relay/relay-dns.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "relay.h"

/* A DNS message under construction. */
struct msg {
	uint8_t b[1024];
	size_t n;
};

static void put16(struct msg *m, unsigned v)
{
	m->b[m->n++] = (uint8_t)(v >> 8);
	m->b[m->n++] = (uint8_t)v;
}

static void put_name(struct msg *m, const char *name)
{
	while (*name != '\0') {
		const char *dot = strchr(name, '.');
		size_t l = dot != NULL ? (size_t)(dot - name) : strlen(name);
		m->b[m->n++] = (uint8_t)l;
		memcpy(m->b + m->n, name, l);
		m->n += l;
		name += l + (dot != NULL);
	}
	m->b[m->n++] = 0;
}

/* Header (response, given rcode, one question) and the question. */
static void start(struct msg *m, unsigned rcode, unsigned ancount, const char *q, unsigned qtype)
{
	m->n = 0;
	put16(m, 0x1234);
	put16(m, 0x8180 | rcode);
	put16(m, 1);
	put16(m, ancount);
	put16(m, 0);
	put16(m, 0);
	put_name(m, q);
	put16(m, qtype);
	put16(m, 1);
}

/* An RR header whose owner is a pointer to the question name (offset 12). */
static void rr_hdr(struct msg *m, unsigned type, unsigned rdlen)
{
	put16(m, 0xc00c);
	put16(m, type);
	put16(m, 1);
	put16(m, 0);
	put16(m, 300);
	put16(m, rdlen);
}

static void add_mx(struct msg *m, unsigned pref, const char *host)
{
	size_t rdlen = 2 + (host[0] ? strlen(host) + 2 : 1);
	rr_hdr(m, 15, (unsigned)rdlen);
	put16(m, pref);
	put_name(m, host);
}

static void test_mx_sorted(void **state)
{
	(void)state;
	struct msg m;
	struct relay_dns_answer a;
	const char *err;
	start(&m, 0, 3, "Example.ORG", 15);
	add_mx(&m, 20, "mx2.example.org");
	add_mx(&m, 10, "MX1.example.org");
	add_mx(&m, 20, "mx3.example.org");
	assert_int_equal(relay_dns_parse(m.b, m.n, "example.org", 15, &a, &err), 0);
	assert_int_equal(a.rcode, 0);
	assert_int_equal(a.id, 0x1234);
	assert_int_equal(a.nmx, 3);
	relay_dns_sort_mx(&a);
	assert_string_equal(a.mx[0].host, "mx1.example.org");
	assert_int_equal(a.mx[0].pref, 10);
	assert_string_equal(a.mx[1].host, "mx2.example.org");
	assert_string_equal(a.mx[2].host, "mx3.example.org");
	/* a trailing dot on the question name is the same name */
	assert_int_equal(relay_dns_parse(m.b, m.n, "example.org.", 15, &a, &err), 0);
	assert_int_equal(a.nmx, 3);
}

static void test_mx_compressed_target(void **state)
{
	(void)state;
	struct msg m;
	struct relay_dns_answer a;
	const char *err;
	start(&m, 0, 1, "example.org", 15);
	/* exchange "mx" + pointer to the question's "example.org" */
	rr_hdr(&m, 15, 2 + 3 + 2);
	put16(&m, 5);
	m.b[m.n++] = 2;
	m.b[m.n++] = 'm';
	m.b[m.n++] = 'x';
	put16(&m, 0xc00c);
	assert_int_equal(relay_dns_parse(m.b, m.n, "example.org", 15, &a, &err), 0);
	assert_int_equal(a.nmx, 1);
	assert_string_equal(a.mx[0].host, "mx.example.org");
}

static void test_null_mx_and_nxdomain(void **state)
{
	(void)state;
	struct msg m;
	struct relay_dns_answer a;
	const char *err;
	start(&m, 0, 1, "nomail.example", 15);
	add_mx(&m, 0, "");
	assert_int_equal(relay_dns_parse(m.b, m.n, "nomail.example", 15, &a, &err), 0);
	assert_int_equal(a.nmx, 1);
	assert_string_equal(a.mx[0].host, "");
	start(&m, 3, 0, "nx.example", 15);
	assert_int_equal(relay_dns_parse(m.b, m.n, "nx.example", 15, &a, &err), 0);
	assert_int_equal(a.rcode, RELAY_DNS_NXDOMAIN);
	assert_int_equal(a.nmx, 0);
	/* NOERROR without answers: no MX (implicit MX follows) */
	start(&m, 0, 0, "a.example", 15);
	assert_int_equal(relay_dns_parse(m.b, m.n, "a.example", 15, &a, &err), 0);
	assert_int_equal(a.nmx, 0);
}

static void test_addresses_and_cname(void **state)
{
	(void)state;
	struct msg m;
	struct relay_dns_answer a;
	const char *err;
	start(&m, 0, 3, "www.example", 1);
	/* www.example CNAME host.example; host.example A 127.0.0.2; and an A
	 * record for some other owner that must be ignored */
	rr_hdr(&m, 5, 14);
	put_name(&m, "host.example");
	size_t target = m.n - 14;
	put16(&m, 0xc000 | (unsigned)target);
	put16(&m, 1);
	put16(&m, 1);
	put16(&m, 0);
	put16(&m, 60);
	put16(&m, 4);
	m.b[m.n++] = 127;
	m.b[m.n++] = 0;
	m.b[m.n++] = 0;
	m.b[m.n++] = 2;
	rr_hdr(&m, 1, 4); /* owner www.example: the chain moved on, ignored */
	m.b[m.n++] = 10;
	m.b[m.n++] = 0;
	m.b[m.n++] = 0;
	m.b[m.n++] = 1;
	assert_int_equal(relay_dns_parse(m.b, m.n, "www.example", 1, &a, &err), 0);
	assert_int_equal(a.naddr, 1);
	assert_int_equal(a.addr[0].family, AF_INET);
	assert_memory_equal(a.addr[0].a, "\x7f\x00\x00\x02", 4);

	start(&m, 0, 1, "v6.example", 28);
	rr_hdr(&m, 28, 16);
	memset(m.b + m.n, 0, 16);
	m.b[m.n + 15] = 1;
	m.n += 16;
	assert_int_equal(relay_dns_parse(m.b, m.n, "v6.example", 28, &a, &err), 0);
	assert_int_equal(a.naddr, 1);
	assert_int_equal(a.addr[0].family, AF_INET6);
	assert_int_equal(a.addr[0].a[15], 1);
	/* an A record of the wrong size */
	start(&m, 0, 1, "bad.example", 1);
	rr_hdr(&m, 1, 3);
	m.n += 3;
	assert_int_equal(relay_dns_parse(m.b, m.n, "bad.example", 1, &a, &err), -1);
}

static void test_malformed(void **state)
{
	(void)state;
	struct msg m;
	struct relay_dns_answer a;
	const char *err;
	/* short, a query (not a response), another question */
	assert_int_equal(relay_dns_parse((const uint8_t *)"\x12\x34\x81", 3, "x", 15, &a, &err),
	                 -1);
	start(&m, 0, 0, "example.org", 15);
	m.b[2] &= 0x7f;
	assert_int_equal(relay_dns_parse(m.b, m.n, "example.org", 15, &a, &err), -1);
	start(&m, 0, 0, "example.org", 15);
	assert_int_equal(relay_dns_parse(m.b, m.n, "example.net", 15, &a, &err), -1);
	assert_int_equal(relay_dns_parse(m.b, m.n, "example.org", 1, &a, &err), -1);
	/* a record running past the end */
	start(&m, 0, 1, "example.org", 15);
	add_mx(&m, 10, "mx.example.org");
	assert_int_equal(relay_dns_parse(m.b, m.n - 3, "example.org", 15, &a, &err), -1);
	/* a pointer to itself and a forward pointer (loops) */
	start(&m, 0, 1, "example.org", 15);
	size_t at = m.n;
	put16(&m, 0xc000 | (unsigned)at);
	assert_int_equal(relay_dns_parse(m.b, m.n + 10, "example.org", 15, &a, &err), -1);
	start(&m, 0, 1, "example.org", 15);
	rr_hdr(&m, 15, 4);
	put16(&m, 1);
	put16(&m, 0xc000 | (unsigned)(m.n + 10));
	assert_int_equal(relay_dns_parse(m.b, m.n + 20, "example.org", 15, &a, &err), -1);
	/* a label holding a dot or a control byte */
	start(&m, 0, 1, "example.org", 15);
	rr_hdr(&m, 15, 2 + 5);
	put16(&m, 1);
	m.b[m.n++] = 3;
	memcpy(m.b + m.n, "a.b", 3);
	m.n += 3;
	m.b[m.n++] = 0;
	assert_int_equal(relay_dns_parse(m.b, m.n, "example.org", 15, &a, &err), -1);
	/* the MX exchange name must end exactly at the end of its RDATA */
	start(&m, 0, 1, "example.org", 15);
	rr_hdr(&m, 15, 2 + 4 + 1);
	put16(&m, 1);
	put_name(&m, "mx");
	m.b[m.n++] = 0;
	assert_int_equal(relay_dns_parse(m.b, m.n, "example.org", 15, &a, &err), -1);
}

static void test_relayhost(void **state)
{
	(void)state;
	char h[256];
	uint16_t port = 25;
	bool no_mx;
	assert_int_equal(relay_host_parse("[127.0.0.1]:2525", h, sizeof(h), &port, &no_mx), 0);
	assert_string_equal(h, "127.0.0.1");
	assert_int_equal(port, 2525);
	assert_true(no_mx);
	port = 25;
	assert_int_equal(relay_host_parse("smtp.example.org", h, sizeof(h), &port, &no_mx), 0);
	assert_string_equal(h, "smtp.example.org");
	assert_int_equal(port, 25);
	assert_false(no_mx);
	assert_int_equal(relay_host_parse("smtp.example.org:587", h, sizeof(h), &port, &no_mx), 0);
	assert_int_equal(port, 587);
	assert_false(no_mx);
	assert_int_equal(relay_host_parse("[::1]:26", h, sizeof(h), &port, &no_mx), 0);
	assert_string_equal(h, "::1");
	assert_int_equal(port, 26);
	assert_int_equal(relay_host_parse("[mail.example]", h, sizeof(h), &port, &no_mx), 0);
	assert_true(no_mx);
	const char *bad[] = {"",    "[]",   "[x",    "x:",      "x:0",       "x:65536", "x:12a",
	                     "a b", "[x]y", "x:1:2", "[x]:025", "host/evil", "x\n",     NULL};
	for (size_t i = 0; bad[i] != NULL; i++)
		assert_int_equal(relay_host_parse(bad[i], h, sizeof(h), &port, &no_mx), -1);
	assert_int_equal(relay_host_parse("abcdef", h, 4, &port, &no_mx), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mx_sorted),
	    cmocka_unit_test(test_mx_compressed_target),
	    cmocka_unit_test(test_null_mx_and_nxdomain),
	    cmocka_unit_test(test_addresses_and_cname),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_relayhost),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
