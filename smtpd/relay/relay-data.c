/* relay-data.c: DATA encoding for loft-relay (relay-data.h). A CR is held
 * until the next byte shows whether it is half of a CRLF; either way one
 * CRLF goes out, so the wire never carries a bare CR or LF. */
#include "relay-data.h"

void relay_data_init(struct relay_data_enc *e)
{
	e->bol = true;
	e->cr = false;
}

static size_t line_end(struct relay_data_enc *e, char *out)
{
	out[0] = '\r';
	out[1] = '\n';
	e->bol = true;
	return 2;
}

size_t relay_data_encode(struct relay_data_enc *e, const char *p, size_t len, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		char ch = p[i];
		if (e->cr) {
			e->cr = false;
			o += line_end(e, out + o); /* CRLF, or a bare CR as one */
			if (ch == '\n')
				continue;
		}
		if (ch == '\r') {
			e->cr = true;
			continue;
		}
		if (ch == '\n') {
			o += line_end(e, out + o); /* a bare LF */
			continue;
		}
		if (e->bol && ch == '.')
			out[o++] = '.';
		out[o++] = ch;
		e->bol = false;
	}
	return o;
}

size_t relay_data_finish(struct relay_data_enc *e, char *out)
{
	size_t o = 0;
	if (e->cr || !e->bol) {
		e->cr = false;
		o += line_end(e, out);
	}
	out[o++] = '.';
	out[o++] = '\r';
	out[o++] = '\n';
	return o;
}
