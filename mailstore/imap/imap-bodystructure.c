/* imap-bodystructure.c: FETCH BODY and BODYSTRUCTURE (RFC 3501 7.4.2) from
 * a parsed MIME tree, byte for byte as Dovecot 2.3 renders them (defaults,
 * charset for text parts, the empty multipart, extension data). */
#include <string.h>
#include <strings.h>

#include "imap-fetch-render.h"

#define EMPTY_BODY "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0"

static int sp(struct buf *out)
{
	return buf_append(out, " ", 1);
}

static bool is_text(const struct mime_part *part)
{
	return part->type == NULL || strcasecmp(part->type, "text") == 0;
}

static bool is_multipart(const struct mime_part *part)
{
	return part->type != NULL && strcasecmp(part->type, "multipart") == 0;
}

/* ("name" "value" ...) or NIL; a text part without charset gets us-ascii. */
static int append_params(struct buf *out, const struct mime_param *ps, size_t n, bool add_charset)
{
	bool has_charset = false;

	for (size_t i = 0; i < n; i++)
		if (strcasecmp(ps[i].name, "charset") == 0)
			has_charset = true;
	add_charset = add_charset && !has_charset;
	if (n == 0 && !add_charset)
		return buf_append_str(out, "NIL");
	if (buf_append(out, "(", 1) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if ((i > 0 && sp(out) < 0) || imap_append_cstring(out, ps[i].name) < 0 ||
		    sp(out) < 0 || imap_append_cstring(out, ps[i].value) < 0)
			return -1;
	if (add_charset && buf_append_str(out, n > 0 ? " \"charset\" \"us-ascii\""
	                                             : "\"charset\" \"us-ascii\"") < 0)
		return -1;
	return buf_append(out, ")", 1);
}

/* body-ext: disposition, language, location (md5 is the caller's). */
static int append_ext(struct buf *out, const struct mime_part *part)
{
	if (sp(out) < 0)
		return -1;
	if (part->disposition == NULL) {
		if (buf_append_str(out, "NIL") < 0)
			return -1;
	} else if (buf_append(out, "(", 1) < 0 || imap_append_cstring(out, part->disposition) < 0 ||
	           sp(out) < 0 ||
	           append_params(out, part->disp_params, part->n_disp_params, false) < 0 ||
	           buf_append(out, ")", 1) < 0) {
		return -1;
	}
	if (sp(out) < 0)
		return -1;
	if (part->n_languages == 0) {
		if (buf_append_str(out, "NIL") < 0)
			return -1;
	} else {
		if (buf_append(out, "(", 1) < 0)
			return -1;
		for (size_t i = 0; i < part->n_languages; i++)
			if ((i > 0 && sp(out) < 0) ||
			    imap_append_cstring(out, part->languages[i]) < 0)
				return -1;
		if (buf_append(out, ")", 1) < 0)
			return -1;
	}
	if (sp(out) < 0)
		return -1;
	return imap_append_cstring(out, part->location);
}

static int render_part(const struct mime_message *m, const struct mime_part *part, bool ext,
                       struct buf *out);

static int render_multipart(const struct mime_message *m, const struct mime_part *part, bool ext,
                            struct buf *out)
{
	if (buf_append(out, "(", 1) < 0)
		return -1;
	if (part->children == NULL) {
		/* IMAP needs at least one body part; Dovecot sends an empty one */
		if (buf_append_str(out, ext ? EMPTY_BODY " NIL NIL NIL NIL)" : EMPTY_BODY ")") < 0)
			return -1;
	}
	for (const struct mime_part *c = part->children; c != NULL; c = c->next)
		if (render_part(m, c, ext, out) < 0)
			return -1;
	if (sp(out) < 0 || imap_append_cstring(out, part->subtype) < 0)
		return -1;
	if (ext && (sp(out) < 0 || append_params(out, part->params, part->n_params, false) < 0 ||
	            append_ext(out, part) < 0))
		return -1;
	return buf_append(out, ")", 1);
}

static int render_basic(const struct mime_message *m, const struct mime_part *part, bool ext,
                        struct buf *out)
{
	bool text = is_text(part);

	if (buf_append(out, "(", 1) < 0)
		return -1;
	if (part->type == NULL || part->message) {
		/* a message/rfc822 part is named so whatever its case */
		if (buf_append_str(out, part->message ? "\"message\" \"rfc822\""
		                                      : "\"text\" \"plain\"") < 0)
			return -1;
	} else if (imap_append_cstring(out, part->type) < 0 || sp(out) < 0 ||
	           imap_append_cstring(out, part->subtype) < 0) {
		return -1;
	}
	if (sp(out) < 0 || append_params(out, part->params, part->n_params, text) < 0 ||
	    sp(out) < 0 || imap_append_cstring(out, part->id) < 0 || sp(out) < 0 ||
	    imap_append_cstring(out, part->description) < 0 || sp(out) < 0 ||
	    imap_append_cstring(out, part->encoding != NULL ? part->encoding : "7bit") < 0 ||
	    buf_printf(out, " %zu", part->body_len + part->body_bare_lf) < 0)
		return -1;
	if (text && buf_printf(out, " %zu", part->body_lines) < 0)
		return -1;
	if (part->message && part->children != NULL) {
		if (sp(out) < 0 || imap_envelope_render(m, part->children, out) < 0 ||
		    sp(out) < 0 || render_part(m, part->children, ext, out) < 0 ||
		    buf_printf(out, " %zu", part->body_lines) < 0)
			return -1;
	}
	if (ext &&
	    (sp(out) < 0 || imap_append_cstring(out, part->md5) < 0 || append_ext(out, part) < 0))
		return -1;
	return buf_append(out, ")", 1);
}

static int render_part(const struct mime_message *m, const struct mime_part *part, bool ext,
                       struct buf *out)
{
	if (is_multipart(part))
		return render_multipart(m, part, ext, out);
	return render_basic(m, part, ext, out);
}

int imap_bodystructure_render(const struct mime_message *m, const struct mime_part *part,
                              bool extended, struct buf *out)
{
	return render_part(m, part, extended, out);
}
