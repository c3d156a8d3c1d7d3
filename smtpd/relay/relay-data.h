/* relay-data.h: the wire form of a message for DATA, as a pure streaming
 * encoder: every line end (CRLF, bare LF, bare CR) goes out as CRLF and a
 * "." is doubled at the start of every line, so no byte of the message can
 * end the DATA or start a command at the next hop. */
#ifndef LOFT_RELAY_DATA_H
#define LOFT_RELAY_DATA_H

#include <stdbool.h>
#include <stddef.h>

/* The most relay_data_encode writes per input byte (a CR held back, then
 * "\r\n" and a stuffed ".") and relay_data_finish writes in all. */
#define RELAY_DATA_GROWTH 4
#define RELAY_DATA_TAIL   5

struct relay_data_enc {
	bool bol; /* the next byte starts a line */
	bool cr;  /* a CR was read and not written: is an LF next? */
};

void relay_data_init(struct relay_data_enc *e);
/* Encode p[0..len) into out, which has room for RELAY_DATA_GROWTH * len
 * bytes. Returns the bytes written. */
size_t relay_data_encode(struct relay_data_enc *e, const char *p, size_t len, char *out);
/* The end: a held CR, a last line end if the message lacked one, ".\r\n".
 * out has room for RELAY_DATA_TAIL bytes; returns the bytes written. */
size_t relay_data_finish(struct relay_data_enc *e, char *out);

#endif
