/* cli-queue.c: `loft queue list|flush|delete ID|hold ID|release ID`: the
 * administrator's view of the mail queue. Speaks the QUEUE administration
 * verbs to loft-queue on base_dir/pickup (docs/queue-protocol.md); the queue
 * only obeys root, and so this refuses other users up front. */
#include <stdio.h>
#include <string.h>

#include "cli-main.h"
#include "queue-id.h"
#include "queue-client.h"

struct queue_verb {
	const char *word;
	enum queue_admin_verb verb;
	bool needs_id;
};

static const struct queue_verb verbs[] = {
    {"list", QUEUE_ADMIN_LIST, false},      {"flush", QUEUE_ADMIN_FLUSH, false},
    {"delete", QUEUE_ADMIN_DELETE, true},   {"hold", QUEUE_ADMIN_HOLD, true},
    {"release", QUEUE_ADMIN_RELEASE, true}, {NULL, QUEUE_ADMIN_LIST, false},
};

static void queue_usage(FILE *out)
{
	fprintf(out, "usage: loft queue list | flush | delete ID | hold ID | release ID\n");
}

int cli_cmd_queue(struct cli *c, int argc, char **argv)
{
	if (argc < 2) {
		queue_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	const struct queue_verb *v = verbs;
	while (v->word != NULL && strcmp(v->word, argv[1]) != 0)
		v++;
	if (v->word == NULL || argc != (v->needs_id ? 3 : 2)) {
		queue_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	const char *id = v->needs_id ? argv[2] : NULL;
	if (id != NULL && !queue_id_valid(id, strlen(id))) {
		fprintf(stderr,
		        "loft: '%s' is not a queue id (24 hex digits, see `loft queue list`)\n",
		        id);
		return CLI_EXIT_USAGE;
	}
	struct config *cfg = cli_config(c);
	if (cfg == NULL)
		return CLI_EXIT_FAIL;
	const char *base_dir = cli_cfg_str(cfg, "base_dir", "/run/loft");
	if (!queue_client_may_admin(base_dir)) {
		fprintf(stderr, "loft: permission denied: only root may manage the mail queue\n");
		return CLI_EXIT_FAIL;
	}

	struct queue_client qc;
	struct buf text;
	buf_init(&text, 0);
	queue_client_init(&qc);
	enum queue_result r = queue_client_connect_pickup(&qc, base_dir, 300 * 1000);
	if (r == QUEUE_OK)
		r = queue_client_admin(&qc, v->verb, id, &text);
	int rc = CLI_EXIT_OK;
	if (r != QUEUE_OK) {
		fprintf(stderr, "loft: queue %s: %s\n", v->word, qc.err);
		rc = CLI_EXIT_FAIL;
	} else if (text.len > 0) {
		fwrite(text.data, 1, text.len, stdout);
		if (text.data[text.len - 1] != '\n')
			putchar('\n');
	}
	queue_client_close(&qc);
	buf_free(&text);
	return rc;
}
