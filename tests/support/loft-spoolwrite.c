/* loft-spoolwrite: a test helper that spools one message the way smtpd does
 * (queue_writer_begin/body/commit into DIR/queue/active/), so integration
 * tests can hand real spool files to loft-relay without a running queue.
 *   loft-spoolwrite DIR SENDER RCPT... < message   (CRLF line ends as given)
 * Prints "<queue id> TAB <path of the spool file>" and exits 0, or 1. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "queue-store.h"

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: loft-spoolwrite DIR SENDER RCPT... < message\n");
		return 2;
	}
	struct queue_store qs;
	struct queue_writer w;
	struct queue_rcpt rcpts[64];
	const char *err;
	size_t n = (size_t)argc - 3;
	if (n > sizeof(rcpts) / sizeof(rcpts[0])) {
		fprintf(stderr, "too many recipients\n");
		return 2;
	}
	memset(rcpts, 0, sizeof(rcpts));
	for (size_t i = 0; i < n; i++)
		rcpts[i].addr = argv[3 + i];
	struct queue_msg m = {.sender = argv[2], .rcpts = rcpts, .nrcpt = n};
	if (queue_store_open(&qs, argv[1], &err) < 0 || queue_writer_begin(&qs, &m, &w, &err) < 0) {
		fprintf(stderr, "loft-spoolwrite: %s\n", err);
		return 1;
	}
	char buf[65536];
	ssize_t r;
	while ((r = read(0, buf, sizeof(buf))) > 0) {
		if (queue_writer_body(&w, buf, (size_t)r, &err) < 0) {
			fprintf(stderr, "loft-spoolwrite: %s\n", err);
			queue_writer_abort(&w);
			return 1;
		}
	}
	if (r < 0 || queue_writer_commit(&w, &err) < 0) {
		fprintf(stderr, "loft-spoolwrite: %s\n", r < 0 ? "read error" : err);
		return 1;
	}
	printf("%s\t%s/queue/active/%s\n", m.id, argv[1], m.id);
	queue_store_close(&qs);
	return 0;
}
