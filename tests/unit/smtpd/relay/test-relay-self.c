/* test-relay-self.c: unit tests for smtpd/relay/relay-self.c: which listen
 * words make an address ours, Postfix's MX cut when one MX host is us, the
 * bounce when nothing is left, the EHLO host-name check, and the real
 * bind-based local-address test on 127.0.0.1 and a TEST-NET address. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "relay-self.h"

static struct sockaddr_storage sa4(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	s4->sin_family = AF_INET;
	s4->sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, ip, &s4->sin_addr), 1);
	return ss;
}

static struct sockaddr_storage sa6(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(port);
	assert_int_equal(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
	return ss;
}

/* A fake machine whose only addresses are 10.0.0.1 and 2001:db8::1. */
static bool fake_local(const struct sockaddr *sa)
{
	char buf[INET6_ADDRSTRLEN];
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, buf,
		          sizeof(buf));
	else
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		          buf, sizeof(buf));
	return strcmp(buf, "10.0.0.1") == 0 || strcmp(buf, "2001:db8::1") == 0;
}

static bool me(const struct relay_self *s, struct sockaddr_storage ss)
{
	return relay_self_is_me(s, (const struct sockaddr *)&ss, fake_local);
}

static void test_specific_and_port(void **state)
{
	(void)state;
	struct relay_self s = {0};
	const char *e = NULL;
	assert_int_equal(
	    relay_self_add_list(&s, "127.0.0.1:25 [::1]:25 127.0.0.1:2525", 25, NULL, &e), 0);
	assert_int_equal(s.n, 2); /* the 2525 word is not on the client's port */
	assert_true(me(&s, sa4("127.0.0.1", 25)));
	assert_true(me(&s, sa6("::1", 25)));
	assert_false(me(&s, sa4("127.0.0.1", 2525)));
	assert_false(me(&s, sa4("127.0.0.2", 25)));
}

static void test_wildcards(void **state)
{
	(void)state;
	struct relay_self s = {0};
	const char *e = NULL;
	assert_int_equal(relay_self_add_list(&s, "*:25", 25, NULL, &e), 0);
	assert_true(me(&s, sa4("10.0.0.1", 25)));
	assert_false(me(&s, sa4("192.0.2.7", 25)));
	assert_false(me(&s, sa6("2001:db8::1", 25))); /* "*" is IPv4 only */
	assert_int_equal(relay_self_add_list(&s, "[::]:25, 0.0.0.0:26", 25, NULL, &e), 0);
	assert_true(me(&s, sa6("2001:db8::1", 25)));
	assert_false(me(&s, sa6("2001:db8::2", 25)));
	struct relay_self t = {0};
	assert_int_equal(relay_self_add_list(&t, "0.0.0.0:25", 25, NULL, &e), 0);
	assert_true(me(&t, sa4("10.0.0.1", 25)));
	/* no list, no self */
	assert_false(relay_self_is_me(NULL, (const struct sockaddr *)&(struct sockaddr_storage){0},
	                              fake_local));
}

/* Only the name on port 25 may be asked for. */
static int fake_resolve(const char *host, bool v6, struct relay_self *s, uint16_t port)
{
	(void)v6;
	assert_string_equal(host, "mail.example");
	return relay_self_add_numeric(s, "10.9.9.9", false, port);
}

static void test_names_and_errors(void **state)
{
	(void)state;
	struct relay_self s = {0};
	const char *e = NULL;
	assert_int_equal(
	    relay_self_add_list(&s, "mail.example:25 other.example:587", 25, fake_resolve, &e), 0);
	assert_int_equal(s.n, 1);
	assert_true(me(&s, sa4("10.9.9.9", 25)));
	/* without a resolver a name is skipped, never an error */
	struct relay_self t = {0};
	assert_int_equal(relay_self_add_list(&t, "mail.example:25", 25, NULL, &e), 0);
	assert_int_equal(t.n, 0);
	assert_int_equal(relay_self_add_list(&t, "nonsense", 25, NULL, &e), -1);
	assert_non_null(e);
	assert_int_equal(relay_self_add_list(&t, "1.2.3.4:0", 25, NULL, &e), -1);
	/* full */
	struct relay_self u = {0};
	for (int i = 0; i < RELAY_SELF_MAX; i++)
		assert_int_equal(relay_self_add_numeric(&u, "10.1.1.1", false, 25), 0);
	assert_int_equal(relay_self_add_list(&u, "10.1.1.2:25", 25, NULL, &e), -1);
	assert_int_equal(u.n, RELAY_SELF_MAX);
}

static void add_host(struct relay_route *rt, const char *name, uint16_t pref, const char *ip)
{
	struct relay_host *h = &rt->host[rt->nhost++];
	memset(h, 0, sizeof(*h));
	snprintf(h->name, sizeof(h->name), "%s", name);
	h->pref = pref;
	h->addr[0] = sa4(ip, 25);
	h->addrlen[0] = sizeof(struct sockaddr_in);
	h->naddr = 1;
}

static void test_route_cut(void **state)
{
	(void)state;
	struct relay_self s = {0};
	const char *e = NULL;
	char err[300];
	assert_int_equal(relay_self_add_list(&s, "*:25", 25, NULL, &e), 0);

	/* a backup MX that is us: it and the worse ones go */
	struct relay_route rt = {.port = 25};
	add_host(&rt, "a", 10, "192.0.2.1");
	add_host(&rt, "b", 10, "192.0.2.2");
	add_host(&rt, "us", 20, "10.0.0.1");
	add_host(&rt, "c", 30, "192.0.2.3");
	assert_int_equal(relay_route_drop_self(&rt, &s, fake_local, "d.test", err, sizeof(err)), 0);
	assert_int_equal(rt.nhost, 2);
	assert_string_equal(rt.host[1].name, "b");

	/* us tied with the best: the tie goes too, nothing left */
	struct relay_route tie = {.port = 25};
	add_host(&tie, "a", 10, "192.0.2.1");
	add_host(&tie, "us", 10, "10.0.0.1");
	add_host(&tie, "c", 30, "192.0.2.3");
	assert_int_equal(relay_route_drop_self(&tie, &s, fake_local, "d.test", err, sizeof(err)),
	                 -1);
	assert_string_equal(err, "5.4.6 mail for d.test loops back to myself");

	/* the only host (relayhost, literal, implicit MX) is us */
	struct relay_route one = {.port = 25};
	add_host(&one, "us", 0, "10.0.0.1");
	assert_int_equal(relay_route_drop_self(&one, &s, fake_local, "x", err, sizeof(err)), -1);

	/* nobody is us: unchanged */
	struct relay_route none = {.port = 25};
	add_host(&none, "a", 10, "192.0.2.1");
	add_host(&none, "c", 30, "192.0.2.3");
	assert_int_equal(relay_route_drop_self(&none, &s, fake_local, "d", err, sizeof(err)), 0);
	assert_int_equal(none.nhost, 2);

	/* one of a host's several addresses is us: the host is us */
	struct relay_route multi = {.port = 25};
	add_host(&multi, "a", 10, "192.0.2.1");
	add_host(&multi, "m", 20, "192.0.2.9");
	multi.host[1].addr[1] = sa4("10.0.0.1", 25);
	multi.host[1].addrlen[1] = sizeof(struct sockaddr_in);
	multi.host[1].naddr = 2;
	assert_int_equal(relay_route_drop_self(&multi, &s, fake_local, "d", err, sizeof(err)), 0);
	assert_int_equal(multi.nhost, 1);
}

static void test_ehlo_name(void **state)
{
	(void)state;
	assert_true(relay_ehlo_is_me("250 MX.Example.ORG Hello", "mx.example.org"));
	assert_true(relay_ehlo_is_me("250-mx.example.org. hi", "mx.example.org"));
	assert_true(relay_ehlo_is_me("250 mx.example.org", "mx.example.org."));
	assert_false(relay_ehlo_is_me("250 mx.example.org2 hi", "mx.example.org"));
	assert_false(relay_ehlo_is_me("250 mx.example.or", "mx.example.org"));
	assert_false(relay_ehlo_is_me("250", "mx.example.org"));
	assert_false(relay_ehlo_is_me("25", "mx.example.org"));
	assert_false(relay_ehlo_is_me("250 ", ""));
	assert_false(relay_ehlo_is_me("abc mx.example.org", "mx.example.org"));
}

static void test_real_local(void **state)
{
	(void)state;
	struct sockaddr_storage lo = sa4("127.0.0.1", 25), far = sa4("192.0.2.1", 25);
	assert_true(relay_addr_is_local((const struct sockaddr *)&lo));
	/* TEST-NET-1 is on no interface here; bind fails without a packet sent */
	assert_false(relay_addr_is_local((const struct sockaddr *)&far));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_specific_and_port), cmocka_unit_test(test_wildcards),
	    cmocka_unit_test(test_names_and_errors),  cmocka_unit_test(test_route_cut),
	    cmocka_unit_test(test_ehlo_name),         cmocka_unit_test(test_real_local),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
