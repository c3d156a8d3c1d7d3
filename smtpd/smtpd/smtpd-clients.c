/* smtpd-clients.c: loft-smtpd's table of connection children (pid and
 * client address), from which the parent counts connections per address for
 * smtpd_max_connections_per_ip. Pure bookkeeping, no I/O. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtpd-private.h"

size_t smtpd_clients_count(const struct smtpd_clients *t, const char *ip)
{
	size_t n = 0;
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->v[i].ip, ip) == 0)
			n++;
	return n;
}

int smtpd_clients_add(struct smtpd_clients *t, pid_t pid, const char *ip)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct smtpd_child *v = realloc(t->v, cap * sizeof(*v));
		if (v == NULL)
			return -1;
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n].pid = pid;
	snprintf(t->v[t->n].ip, sizeof(t->v[t->n].ip), "%s", ip);
	t->n++;
	return 0;
}

int smtpd_clients_remove(struct smtpd_clients *t, pid_t pid)
{
	for (size_t i = 0; i < t->n; i++) {
		if (t->v[i].pid == pid) {
			t->v[i] = t->v[--t->n]; /* order does not matter */
			return 1;
		}
	}
	return 0;
}

void smtpd_clients_free(struct smtpd_clients *t)
{
	free(t->v);
	memset(t, 0, sizeof(*t));
}
