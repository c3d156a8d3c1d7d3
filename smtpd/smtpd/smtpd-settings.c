/* smtpd-settings.c: loft-smtpd's settings from the config snapshot (host
 * name, local domains, mynetworks, limits, socket paths), read once before
 * the privilege drop, and the pure address tests on the client's IP. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smtpd-private.h"

bool smtpd_addr_in_networks(const struct smtpd_settings *set, const char *ip)
{
	int family;
	uint8_t addr[16];
	if (netmask_addr_parse(ip, &family, addr) < 0)
		return false;
	for (size_t i = 0; i < set->n_mynetworks; i++)
		if (netmask_match(&set->mynetworks[i], family, addr))
			return true;
	return false;
}

static int load_domains(struct smtpd_settings *set, const struct config *cfg, char *err,
                        size_t errlen)
{
	size_t n;
	const char *const *v = config_list(cfg, "mydomains", &n);
	set->mydomains = calloc(n + 1, sizeof(char *));
	if (set->mydomains == NULL)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		if ((set->mydomains[i] = strdup(v[i])) == NULL)
			goto oom;
		for (char *p = set->mydomains[i]; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
		set->n_mydomains++;
	}
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

static int load_networks(struct smtpd_settings *set, const struct config *cfg, char *err,
                         size_t errlen)
{
	size_t n;
	const char *const *v = config_list(cfg, "mynetworks", &n);
	set->mynetworks = calloc(n + 1, sizeof(*set->mynetworks));
	if (set->mynetworks == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (netmask_parse(v[i], strlen(v[i]), &set->mynetworks[i]) < 0) {
			snprintf(err, errlen, "mynetworks: bad entry '%.200s'", v[i]);
			return -1;
		}
		set->n_mynetworks++;
	}
	return 0;
}

int smtpd_settings_load(struct smtpd_ctx *ctx, char *err, size_t errlen)
{
	struct smtpd_settings *set = &ctx->set;
	const struct config *cfg = ctx->cfg;
	const char *host = config_str(cfg, "myhostname");
	if (host[0] != '\0')
		snprintf(set->hostname, sizeof(set->hostname), "%s", host);
	else if (gethostname(set->hostname, sizeof(set->hostname) - 1) < 0 ||
	         set->hostname[0] == '\0')
		snprintf(set->hostname, sizeof(set->hostname), "localhost");
	if (load_domains(set, cfg, err, errlen) < 0 || load_networks(set, cfg, err, errlen) < 0)
		return -1;
	set->size_limit = config_size(cfg, "message_size_limit");
	set->max_recipients = (unsigned)config_uint(cfg, "smtpd_max_recipients");
	set->max_hops = (unsigned)config_uint(cfg, "max_hops");
	uint64_t t = config_time_ms(cfg, "smtpd_timeout");
	set->timeout_ms = t == 0 ? 300000 : t > 3600000 ? 3600000 : (int)t;
	set->max_per_ip = (unsigned)config_uint(cfg, "smtpd_max_connections_per_ip");
	set->max_clients = (unsigned)config_uint(cfg, "smtpd_max_clients");
	uint64_t pfx = config_uint(cfg, "login_ipv6_prefix");
	set->ipv6_prefix = pfx > 128 ? 128 : (unsigned)pfx;
	uint64_t hs = config_time_ms(cfg, "ssl_handshake_timeout");
	set->handshake_ms = hs == 0 ? 5000 : hs > 3600000 ? 3600000 : (int)hs;
	set->postmaster_user = config_str(cfg, "postmaster_user");
	set->loopback_secure = config_bool(cfg, "auth_loopback_secure");
	/* As root the daemon chroots to base_dir, where both sockets live. */
	const char *dir = geteuid() == 0 ? "" : config_str(cfg, "base_dir");
	if ((size_t)snprintf(set->queue_path, sizeof(set->queue_path), "%s/queue", dir) >=
	        sizeof(set->queue_path) ||
	    (size_t)snprintf(set->auth_path, sizeof(set->auth_path), "%s/auth-smtp", dir) >=
	        sizeof(set->auth_path)) {
		snprintf(err, errlen, "base_dir too long");
		return -1;
	}
	return 0;
}

void smtpd_settings_free(struct smtpd_settings *set)
{
	for (size_t i = 0; i < set->n_mydomains; i++)
		free(set->mydomains[i]);
	free(set->mydomains);
	free(set->mynetworks);
	memset(set, 0, sizeof(*set));
}
