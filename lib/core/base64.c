/* base64.c: strict RFC 4648 base64 encoding and decoding. Decoding refuses
 * anything a canonical encoder would not produce, so one byte string has one
 * accepted spelling (SASL peers cannot smuggle data in padding bits). */
#include "base64.h"

const char base64_std_alphabet[65] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const char base64_imap_alphabet[65] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

int base64_encode(struct buf *out, const void *p, size_t len)
{
	const unsigned char *s = p;
	size_t start = out->len;
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)s[i] << 16;
		size_t n = len - i;
		if (n > 1)
			v |= (unsigned)s[i + 1] << 8;
		if (n > 2)
			v |= s[i + 2];
		char q[4] = {base64_std_alphabet[(v >> 18) & 63],
		             base64_std_alphabet[(v >> 12) & 63],
		             n > 1 ? base64_std_alphabet[(v >> 6) & 63] : '=',
		             n > 2 ? base64_std_alphabet[v & 63] : '='};
		if (buf_append(out, q, 4) < 0) {
			out->len = start;
			if (out->data != NULL)
				out->data[start] = '\0';
			return -1;
		}
	}
	return 0;
}

int base64_value_in(const char alphabet[65], unsigned char c)
{
	/* Every alphabet in use shares its first 62 characters. */
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (unsigned char)alphabet[62])
		return 62;
	if (c == (unsigned char)alphabet[63])
		return 63;
	return -1;
}

int base64_value(unsigned char c)
{
	return base64_value_in(base64_std_alphabet, c);
}

int base64_decode(const char *p, size_t len, unsigned char *out, size_t *outlen_r)
{
	size_t o = 0;
	*outlen_r = 0;
	if (len % 4 != 0)
		return -1;
	for (size_t i = 0; i < len; i += 4) {
		int v[4];
		int pad = 0;
		for (int k = 0; k < 4; k++) {
			unsigned char c = (unsigned char)p[i + k];
			if (c == '=' && i + 4 == len && k >= 2) {
				pad++;
				v[k] = 0;
				continue;
			}
			/* A data byte after padding, or padding too early. */
			if (pad > 0)
				return -1;
			v[k] = base64_value(c);
			if (v[k] < 0)
				return -1;
		}
		unsigned w = (unsigned)v[0] << 18 | (unsigned)v[1] << 12 | (unsigned)v[2] << 6 |
		             (unsigned)v[3];
		if ((pad == 1 && (w & 0xff) != 0) || (pad == 2 && (w & 0xffff) != 0))
			return -1;
		out[o++] = (unsigned char)(w >> 16);
		if (pad < 2)
			out[o++] = (unsigned char)(w >> 8);
		if (pad < 1)
			out[o++] = (unsigned char)w;
	}
	*outlen_r = o;
	return 0;
}
