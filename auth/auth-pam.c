/* auth-pam.c: the PAM worker loop. It keeps whatever privilege the auth
 * process runs with (auth_user; root by default because pam_unix reads
 * /etc/shadow itself only as root). Passwords are wiped after each request
 * and never logged; only the PAM error text and the user name are. */
#include "auth-pam.h"

#include <pwd.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "buf.h"
#include "wire.h"

struct pam_creds {
	const char *user;
	const char *pass;
};

/* Answer every prompt: echo-on prompts get the user, echo-off the password. */
static int pam_conv_cb(int n, const struct pam_message **msg, struct pam_response **resp,
                       void *appdata)
{
	const struct pam_creds *c = appdata;
	if (n <= 0 || n > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	struct pam_response *r = calloc((size_t)n, sizeof(*r));
	if (r == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		const char *ans = NULL;
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF)
			ans = c->pass;
		else if (msg[i]->msg_style == PAM_PROMPT_ECHO_ON)
			ans = c->user;
		else
			continue; /* PAM_TEXT_INFO / PAM_ERROR_MSG: nothing to answer */
		r[i].resp = strdup(ans);
		if (r[i].resp == NULL) {
			for (int k = 0; k < i; k++) {
				if (r[k].resp != NULL)
					OPENSSL_cleanse(r[k].resp, strlen(r[k].resp));
				free(r[k].resp);
			}
			free(r);
			return PAM_BUF_ERR;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

/* Run the PAM stack. 0 with canonical user in out, or -1 with why set. */
static int pam_check(const char *service, const char *user, const char *pass, const char *rip,
                     struct buf *user_out, const char **why, const struct loft_log *lg)
{
	struct pam_creds creds = {user, pass};
	struct pam_conv conv = {pam_conv_cb, &creds};
	pam_handle_t *h = NULL;
	int rc = pam_start(service, user, &conv, &h);
	if (rc != PAM_SUCCESS) {
		log_error(lg, "pam_start(%s) failed: %s", service, pam_strerror(h, rc));
		*why = "error";
		return -1;
	}
	if (rip[0] != '\0')
		(void)pam_set_item(h, PAM_RHOST, rip);
	rc = pam_authenticate(h, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
	*why = "auth";
	if (rc == PAM_SUCCESS) {
		/* Expired, locked or otherwise unusable accounts stop here. */
		rc = pam_acct_mgmt(h, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
		*why = "account";
	}
	const void *item = NULL;
	if (rc == PAM_SUCCESS && pam_get_item(h, PAM_USER, &item) == PAM_SUCCESS && item != NULL)
		rc = buf_append_str(user_out, item) < 0 ? PAM_BUF_ERR : PAM_SUCCESS;
	else if (rc == PAM_SUCCESS)
		rc = buf_append_str(user_out, user) < 0 ? PAM_BUF_ERR : PAM_SUCCESS;
	if (rc != PAM_SUCCESS)
		log_info(lg, "pam(%s): %s failed: %s", user, *why, pam_strerror(h, rc));
	pam_end(h, rc);
	return rc == PAM_SUCCESS ? 0 : -1;
}

/* Handle one decoded request; append the reply line to out. */
static void pam_handle(const struct wire_field *f, int n, const char *service, struct buf *out,
                       const struct loft_log *lg)
{
	if (n != 5 || !wire_field_eq(&f[0], "PAM")) {
		const char *reply[] = {"FAIL", n > 1 ? f[1].p : "0", "error", NULL};
		(void)wire_encode_strs(out, reply);
		return;
	}
	struct buf user;
	buf_init(&user, 1024);
	const char *why = "error";
	if (pam_check(service, f[2].p, f[3].p, f[4].p, &user, &why, lg) < 0) {
		const char *reply[] = {"FAIL", f[1].p, why, NULL};
		(void)wire_encode_strs(out, reply);
		buf_free(&user);
		return;
	}
	struct passwd pw, *pwp = NULL;
	char pwbuf[4096];
	if (getpwnam_r(user.data, &pw, pwbuf, sizeof(pwbuf), &pwp) != 0 || pwp == NULL) {
		log_info(lg, "pam(%s): authenticated but not in the passwd database", user.data);
		const char *reply[] = {"FAIL", f[1].p, "nouser", NULL};
		(void)wire_encode_strs(out, reply);
		buf_free(&user);
		return;
	}
	char uid[16], gid[16];
	snprintf(uid, sizeof(uid), "%lu", (unsigned long)pw.pw_uid);
	snprintf(gid, sizeof(gid), "%lu", (unsigned long)pw.pw_gid);
	const char *reply[] = {"OK", f[1].p, user.data, uid, gid, pw.pw_dir, NULL};
	(void)wire_encode_strs(out, reply);
	buf_free(&user);
}

int auth_pam_worker_run(int fd, const char *pam_service, const struct loft_log *lg)
{
	struct wire_conn c;
	struct wire_field f[8];
	struct buf out;
	wire_conn_init(&c, fd);
	buf_init(&out, 0);
	int status = 0;
	for (;;) {
		int n = wire_conn_next(&c, f, 8);
		if (n < 0) {
			status = 1;
			break;
		}
		if (n == 0) {
			ssize_t r = wire_conn_read(&c);
			if (r <= 0) {
				status = r == 0 ? 0 : 1;
				break;
			}
			continue;
		}
		/* Fields are NUL-terminated; a NUL inside one would truncate the
		 * password PAM sees, so such a request is refused outright. */
		int bad = 0;
		for (int i = 0; i < n; i++)
			bad |= memchr(f[i].p, '\0', f[i].len) != NULL;
		buf_reset(&out);
		if (bad) {
			const char *reply[] = {"FAIL", n > 1 ? f[1].p : "0", "error", NULL};
			(void)wire_encode_strs(&out, reply);
		} else {
			pam_handle(f, n, pam_service, &out, lg);
		}
		if (n > 3)
			OPENSSL_cleanse((void *)f[3].p, f[3].len);
		if (wire_send(fd, out.data, out.len, NULL, 0) < 0) {
			status = 1;
			break;
		}
	}
	if (c.in.data != NULL)
		OPENSSL_cleanse(c.in.data, c.in.cap);
	wire_conn_clear(&c);
	buf_free(&out);
	return status;
}
