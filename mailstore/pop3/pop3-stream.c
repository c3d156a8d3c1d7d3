/* pop3-stream.c: turns message file bytes into what RETR and TOP send:
 * every bare LF becomes CRLF (so the octets match the ,W= size), a line
 * starting with '.' gets one more, TOP stops after the header block and n
 * body lines. Pure over the fed bytes; the session writes the result. */
#include "pop3-private.h"

#define STAGE_SIZE 8192

/* Output goes through a small local stage to keep per-byte work cheap. */
struct stage {
	char b[STAGE_SIZE];
	size_t n;
	struct buf *out;
	int err;
};

static void stage_flush(struct stage *sg)
{
	if (sg->n > 0 && sg->err == 0 && buf_append(sg->out, sg->b, sg->n) < 0)
		sg->err = -1;
	sg->n = 0;
}

static inline void stage_put(struct stage *sg, char c)
{
	if (sg->n == STAGE_SIZE)
		stage_flush(sg);
	sg->b[sg->n++] = c;
}

void pop3_stream_init(struct pop3_stream *st, bool top, uint64_t lines)
{
	st->top = top;
	st->lines_left = lines;
	st->in_headers = true;
	st->line_start = true;
	st->prev_cr = false;
	st->line_bytes = 0;
	st->done = false;
	st->sent = 0;
}

/* A line ended: leave the header block at the first empty line; count body
 * lines for TOP. */
static void end_line(struct pop3_stream *st)
{
	bool empty = st->line_bytes == 0 || (st->line_bytes == 1 && st->prev_cr);
	if (st->in_headers) {
		if (empty)
			st->in_headers = false;
	} else if (st->top && st->lines_left > 0) {
		st->lines_left--;
	}
	st->line_start = true;
	st->line_bytes = 0;
}

int pop3_stream_feed(struct pop3_stream *st, const char *p, size_t len, struct buf *out)
{
	struct stage sg = {.n = 0, .out = out, .err = 0};
	for (size_t i = 0; i < len && !st->done; i++) {
		char c = p[i];
		if (st->line_start) {
			if (st->top && !st->in_headers && st->lines_left == 0) {
				st->done = true;
				break;
			}
			if (c == '.')
				stage_put(&sg, '.');
			st->line_start = false;
		}
		if (c == '\n') {
			if (!st->prev_cr) {
				stage_put(&sg, '\r');
				st->sent++;
			}
			stage_put(&sg, '\n');
			st->sent++;
			end_line(st);
			st->prev_cr = false;
			continue;
		}
		stage_put(&sg, c);
		st->sent++;
		st->line_bytes++;
		st->prev_cr = c == '\r';
	}
	stage_flush(&sg);
	return sg.err;
}

int pop3_stream_finish(struct pop3_stream *st, struct buf *out)
{
	/* A last line without LF still needs its CRLF before the terminator. */
	if (!st->line_start && !st->done && buf_append(out, "\r\n", 2) < 0)
		return -1;
	return buf_append(out, ".\r\n", 3);
}
