/* relay-mxparse.c: the pure parser of DNS responses (RFC 1035 4.1) that
 * loft-relay's MX/A/AAAA lookups use, whichever way the query was sent.
 * Names are decompressed with bounds and a jump limit (pointers must point
 * backwards), answers are taken only for the question's name or the end of
 * its CNAME chain, and every length is checked against the buffer. */
#include <stdlib.h>
#include <string.h>

#include "relay.h"

#define DNS_HDR       12
#define DNS_MAX_JUMPS 64
#define DNS_MAX_CNAME 8
#define T_CNAME_      5
#define T_MX_         15
#define T_A_          1
#define T_AAAA_       28
#define C_IN_         1

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

/* Read the name at *pos into out (lowercase, dotted, no trailing dot, ""
 * for the root) and advance *pos past it in the message. Labels holding a
 * dot or a byte outside printable ASCII are refused: no mail host has them,
 * and they could not be compared or logged safely. */
static int name_read(const uint8_t *p, size_t len, size_t *pos, char *out)
{
	size_t at = *pos, olen = 0, end = 0;
	int jumps = 0;
	bool jumped = false;
	for (;;) {
		if (at >= len)
			return -1;
		uint8_t l = p[at];
		if ((l & 0xc0) == 0xc0) {
			if (at + 1 >= len || ++jumps > DNS_MAX_JUMPS)
				return -1;
			size_t target = (size_t)((l & 0x3f) << 8 | p[at + 1]);
			if (target >= at)
				return -1; /* forward or self pointers could loop */
			if (!jumped)
				end = at + 2;
			jumped = true;
			at = target;
			continue;
		}
		if ((l & 0xc0) != 0)
			return -1; /* extended label types */
		if (l == 0) {
			if (!jumped)
				end = at + 1;
			break;
		}
		if (at + 1 + l > len || olen + l + 2 > RELAY_DNS_NAME)
			return -1;
		if (olen > 0)
			out[olen++] = '.';
		for (size_t i = 0; i < l; i++) {
			uint8_t c = p[at + 1 + i];
			if (c <= 0x20 || c >= 0x7f || c == '.')
				return -1;
			out[olen++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
		}
		at += 1 + (size_t)l;
	}
	out[olen] = '\0';
	*pos = end;
	return 0;
}

static bool name_eq(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++) {
		char x = *a >= 'A' && *a <= 'Z' ? (char)(*a + 32) : *a;
		char y = *b >= 'A' && *b <= 'Z' ? (char)(*b + 32) : *b;
		if (x != y)
			return false;
	}
	/* a trailing dot on the question name is the same name */
	return (*a == '\0' || (a[0] == '.' && a[1] == '\0')) &&
	       (*b == '\0' || (b[0] == '.' && b[1] == '\0'));
}

struct rr {
	char owner[RELAY_DNS_NAME];
	uint16_t type, class;
	size_t rdata, rdlen;
};

static int rr_read(const uint8_t *p, size_t len, size_t *pos, struct rr *rr)
{
	if (name_read(p, len, pos, rr->owner) < 0 || *pos + 10 > len)
		return -1;
	rr->type = get16(p + *pos);
	rr->class = get16(p + *pos + 2);
	rr->rdlen = get16(p + *pos + 8);
	rr->rdata = *pos + 10;
	if (rr->rdata + rr->rdlen > len)
		return -1;
	*pos = rr->rdata + rr->rdlen;
	return 0;
}

/* One answer record of the wanted type, owned by want: into a. */
static int answer_take(const uint8_t *p, const struct rr *rr, uint16_t qtype,
                       struct relay_dns_answer *a, size_t msglen)
{
	if (qtype == T_MX_) {
		if (rr->rdlen < 3)
			return -1;
		size_t pos = rr->rdata + 2;
		struct relay_dns_mx mx;
		mx.pref = get16(p + rr->rdata);
		/* The exchange may be compressed, but must end inside the RR. */
		if (name_read(p, msglen, &pos, mx.host) < 0 || pos != rr->rdata + rr->rdlen)
			return -1;
		if (a->nmx < RELAY_DNS_MAX_MX)
			a->mx[a->nmx++] = mx;
		return 0;
	}
	size_t want = qtype == T_A_ ? 4 : 16;
	if (rr->rdlen != want)
		return -1;
	if (a->naddr < RELAY_DNS_MAX_ADDR) {
		struct relay_dns_addr *d = &a->addr[a->naddr++];
		memset(d, 0, sizeof(*d));
		d->family = qtype == T_A_ ? AF_INET : AF_INET6;
		memcpy(d->a, p + rr->rdata, want);
	}
	return 0;
}

int relay_dns_parse(const uint8_t *p, size_t len, const char *qname, uint16_t qtype,
                    struct relay_dns_answer *a, const char **error_r)
{
	memset(a, 0, sizeof(*a));
	if (qtype != T_MX_ && qtype != T_A_ && qtype != T_AAAA_) {
		*error_r = "unsupported query type";
		return -1;
	}
	if (len < DNS_HDR) {
		*error_r = "short DNS message";
		return -1;
	}
	a->id = get16(p);
	uint16_t flags = get16(p + 2);
	size_t qd = get16(p + 4), an = get16(p + 6);
	if ((flags & 0x8000) == 0 || ((flags >> 11) & 0xf) != 0) {
		*error_r = "not a DNS query response";
		return -1;
	}
	a->truncated = (flags & 0x0200) != 0;
	a->rcode = flags & 0xf;
	if (qd != 1) {
		*error_r = "DNS response without exactly one question";
		return -1;
	}
	size_t pos = DNS_HDR;
	char name[RELAY_DNS_NAME];
	if (name_read(p, len, &pos, name) < 0 || pos + 4 > len) {
		*error_r = "malformed DNS question";
		return -1;
	}
	if (!name_eq(name, qname) || get16(p + pos) != qtype || get16(p + pos + 2) != C_IN_) {
		*error_r = "DNS response to another question";
		return -1;
	}
	pos += 4;
	/* The owner the answers must have: qname, then each CNAME target. */
	char want[RELAY_DNS_NAME];
	size_t ql = strlen(qname);
	if (ql >= sizeof(want)) {
		*error_r = "query name too long";
		return -1;
	}
	memcpy(want, name, strlen(name) + 1);
	size_t ncname = 0;
	for (size_t i = 0; i < an; i++) {
		struct rr rr;
		if (rr_read(p, len, &pos, &rr) < 0) {
			*error_r = "malformed DNS answer record";
			return -1;
		}
		if (rr.class != C_IN_ || !name_eq(rr.owner, want))
			continue;
		if (rr.type == T_CNAME_ && qtype != T_CNAME_) {
			size_t tp = rr.rdata;
			if (++ncname > DNS_MAX_CNAME || name_read(p, len, &tp, want) < 0 ||
			    tp != rr.rdata + rr.rdlen) {
				*error_r = "bad CNAME chain";
				return -1;
			}
			continue;
		}
		if (rr.type != qtype)
			continue;
		if (answer_take(p, &rr, qtype, a, len) < 0) {
			*error_r = "malformed DNS record data";
			return -1;
		}
	}
	return 0;
}

static int mx_cmp(const void *x, const void *y)
{
	const struct relay_dns_mx *a = x, *b = y;
	return (int)a->pref - (int)b->pref;
}

void relay_dns_sort_mx(struct relay_dns_answer *a)
{
	/* Insertion sort: stable, and at most RELAY_DNS_MAX_MX records. */
	for (size_t i = 1; i < a->nmx; i++) {
		struct relay_dns_mx t = a->mx[i];
		size_t j = i;
		while (j > 0 && mx_cmp(&a->mx[j - 1], &t) > 0) {
			a->mx[j] = a->mx[j - 1];
			j--;
		}
		a->mx[j] = t;
	}
}
