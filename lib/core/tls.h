/* tls.h: OpenSSL 3 contexts for servers and clients. TLS 1.2 is the floor;
 * certificate, key and chain come from config; a key file that others may
 * read is refused. Errors come back as text for the caller to log. */
#ifndef LOFT_TLS_H
#define LOFT_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <openssl/ssl.h>

/* ca_chain may be NULL (the chain can also sit in cert after the leaf).
 * min_proto: "TLSv1.2" or "TLSv1.3" (NULL = TLSv1.2). */
SSL_CTX *tls_server_ctx_new(const char *cert, const char *key, const char *ca_chain,
                            const char *min_proto, char *err, size_t errlen);
/* verify: check the peer against ca_file (NULL = system store) and host name. */
/* The host name is per connection: the caller sets SSL_set1_host() and SNI. */
SSL_CTX *tls_client_ctx_new(const char *ca_file, bool verify, char *err, size_t errlen);
/* Refuse a key file that is not a regular file or grants any permission to
 * others (mode & 007). 0 or -1 with err. */
int tls_check_key_file(const char *path, char *err, size_t errlen);
/* Last OpenSSL error queue as text (clears it). */
void tls_errors(char *err, size_t errlen);

#endif
