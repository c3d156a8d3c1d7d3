/* test-config.c: loft.conf parsing end to end: syntax, quoting, comments, every
 * error path with its file:line, includes (relative, glob, try, loops, depth),
 * every unit and overflow, %-expansion, the schema defaults and dist/loft.conf. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config-private.h"
#include "config.h"

/* Load text as "t.conf"; *errs gets the errors. */
static struct config *load(const char *text, struct cfg_errors *errs)
{
	return config_load_buf("t.conf", text, strlen(text), errs);
}

/* Assert that errors hold one at file:line whose message contains substr. */
static void assert_has_error(const struct cfg_errors *e, const char *file, unsigned line,
                             const char *substr)
{
	for (size_t i = 0; i < e->n; i++) {
		if (strcmp(e->v[i].file, file) == 0 && e->v[i].line == line &&
		    strstr(e->v[i].msg, substr) != NULL)
			return;
	}
	for (size_t i = 0; i < e->n; i++)
		print_error("  got %s:%u: %s\n", e->v[i].file, e->v[i].line, e->v[i].msg);
	fail_msg("no error '%s' at %s:%u", substr, file, line);
}

/* Text must fail to load with exactly one error at t.conf:line containing substr. */
static void assert_one_error(const char *text, unsigned line, const char *substr)
{
	struct cfg_errors e;
	struct config *cfg = load(text, &e);
	assert_null(cfg);
	if (e.n != 1)
		print_error("input: %s\n", text);
	assert_has_error(&e, "t.conf", line, substr);
	assert_int_equal(e.n, 1);
	cfg_errors_free(&e);
}

static void test_defaults_parse(void **state)
{
	(void)state;
	size_t n = 0;
	for (const struct cfg_key *k = cfg_schema; k->name != NULL; k++, n++) {
		struct cfg_value v;
		char err[CFG_ERR_MAX] = "";
		if (cfg_value_parse(k, k->def, &v, err, sizeof(err)) != 0)
			fail_msg("default of %s does not parse: %s", k->name, err);
		cfg_value_clear(&v);
		assert_non_null(k->help);
		assert_true(strlen(k->help) > 5 && strchr(k->help, '\n') == NULL);
		assert_ptr_equal(cfg_schema_find(k->name), k);
	}
	assert_true(n > 60);
	assert_null(cfg_schema_find("nope"));

	struct config *cfg = config_defaults();
	assert_non_null(cfg);
	assert_string_equal(config_path(cfg), "");
	assert_int_equal(config_size(cfg, "message_size_limit"), 52428800);
	assert_int_equal(config_size(cfg, "login_max_line_length"), 65536);
	assert_int_equal(config_size(cfg, "imap_max_line_length"), 65536);
	assert_int_equal(config_time_ms(cfg, "queue_lifetime"), 5ull * 86400 * 1000);
	assert_int_equal(config_time_ms(cfg, "login_idle_timeout"), 180000);
	assert_int_equal(config_time_ms(cfg, "auth_failure_delay"), 2000);
	assert_int_equal(config_uint(cfg, "max_hops"), 50);
	assert_int_equal(config_uint(cfg, "smtp_remote_port"), 25);
	assert_true(config_bool(cfg, "disable_plaintext_auth"));
	assert_true(config_bool(cfg, "auth_loopback_secure"));
	assert_string_equal(config_str(cfg, "libexec_dir"), LOFT_LIBEXECDIR);
	assert_string_equal(config_str(cfg, "mail_location"), "maildir:~/Maildir");
	assert_string_equal(config_str(cfg, "ssl_cert_chain"), "");
	assert_string_equal(config_str(cfg, "auth_username_format"), "%Lu");
	size_t np;
	const char *const *p = config_list(cfg, "protocols", &np);
	assert_int_equal(np, 5);
	assert_string_equal(p[0], "imap");
	assert_string_equal(p[4], "submissions");
	assert_null(p[5]);
	assert_false(config_list_has(cfg, "protocols", "pop3"));
	assert_true(config_list_has(cfg, "protocols", "smtp"));
	p = config_list(cfg, "mynetworks", &np);
	assert_int_equal(np, 2);
	assert_string_equal(p[1], "[::1]/128");
	assert_false(config_source(cfg, "protocols", NULL, NULL));
	assert_string_equal(config_raw(cfg, "message_size_limit"), "50M");
	config_free(cfg);
}

static void test_syntax(void **state)
{
	(void)state;
	const char *text = "# a comment\n"
	                   "   \t\n"
	                   "  protocols = imap imaps   # POP3 off\n"
	                   "pam_service=a#b\n"
	                   "mydomains =\n"
	                   "myhostname = mx.example.org \t \r\n"
	                   "  #relayhost = nothing\n"
	                   "max_hops = 10\n"
	                   "max_hops = 20\n"
	                   "auth_default_domain = #just a comment\n"
	                   "ssl_cipher_list =#kept\n";
	struct cfg_errors e;
	struct config *cfg = load(text, &e);
	assert_non_null(cfg);
	assert_int_equal(e.n, 0);
	size_t n;
	const char *const *p = config_list(cfg, "protocols", &n);
	assert_int_equal(n, 2);
	assert_string_equal(p[1], "imaps");
	assert_string_equal(config_raw(cfg, "protocols"), "imap imaps");
	assert_string_equal(config_str(cfg, "pam_service"), "a#b");
	config_list(cfg, "mydomains", &n);
	assert_int_equal(n, 0);
	assert_string_equal(config_str(cfg, "myhostname"), "mx.example.org");
	assert_string_equal(config_str(cfg, "relayhost"), "");
	assert_int_equal(config_uint(cfg, "max_hops"), 20); /* the later one wins */
	assert_string_equal(config_str(cfg, "auth_default_domain"), "");
	assert_string_equal(config_str(cfg, "ssl_cipher_list"), "#kept");
	const char *file;
	unsigned line;
	assert_true(config_source(cfg, "max_hops", &file, &line));
	assert_string_equal(file, "t.conf");
	assert_int_equal(line, 9);
	assert_true(config_source(cfg, "mydomains", &file, &line));
	assert_int_equal(line, 5);
	assert_false(config_source(cfg, "relayhost", &file, &line));
	config_free(cfg);
}

static void test_quoting(void **state)
{
	(void)state;
	const char *text = "pam_service = \"a # b\"\n"
	                   "myhostname = \"  spaced  \"   # trailing comment\n"
	                   "relayhost = \"q\\\"uote \\\\ back\\slash\"\n"
	                   "auth_default_domain = \"\"\n"
	                   "mail_uid = say \"hi\"\n";
	struct cfg_errors e;
	struct config *cfg = load(text, &e);
	assert_non_null(cfg);
	assert_string_equal(config_str(cfg, "pam_service"), "a # b");
	assert_string_equal(config_str(cfg, "myhostname"), "  spaced  ");
	assert_string_equal(config_str(cfg, "relayhost"), "q\"uote \\ back\\slash");
	assert_string_equal(config_str(cfg, "auth_default_domain"), "");
	assert_string_equal(config_str(cfg, "mail_uid"), "say \"hi\"");
	config_free(cfg);

	assert_one_error("\nrelayhost = \"open\n", 2, "unterminated quote");
	assert_one_error("relayhost = \"ends with backslash\\\"\n", 1, "unterminated quote");
	assert_one_error("relayhost = \"a\" b\n", 1, "after closing quote");
}

static void test_error_paths(void **state)
{
	(void)state;
	assert_one_error("foo = bar\n", 1, "unknown setting 'foo'");
	assert_one_error("\n\nprotocols imap\n", 3, "missing '='");
	assert_one_error("protocols # = imap\n", 1, "missing '='");
	assert_one_error(" = x\n", 1, "missing setting name");
	assert_one_error("mail_fsync = maybe\n", 1, "boolean");
	assert_one_error("mail_fsync = maybe\n", 1, "'maybe'");
	assert_one_error("max_hops = ten\n", 1, "number");
	assert_one_error("max_hops = ten\n", 1, "'ten'");
	assert_one_error("max_hops = 18446744073709551616\n", 1, "number");
	assert_one_error("message_size_limit = 10X\n", 1, "size");
	assert_one_error("message_size_limit = 10X\n", 1, "'10X'");
	assert_one_error("message_size_limit = 17179869184G\n", 1, "size");
	assert_one_error("smtpd_timeout = 5 fortnights\n", 1, "time");
	assert_one_error("smtpd_timeout = 5 fortnights\n", 1, "'5 fortnights'");
	assert_one_error("!frobnicate x\n", 1, "unknown directive '!frobnicate'");
	assert_one_error("!include\n", 1, "missing path");
	assert_one_error("!include_try   # nothing\n", 1, "missing path");
	assert_one_error("protocols = imap pop4 smtp\n", 1, "unknown protocol 'pop4'");
	assert_one_error("log_level = verbose\n", 1, "log_level");
	assert_one_error("ssl = maybe\n", 1, "ssl");
	assert_one_error("ssl_min_protocol = TLSv1.1\n", 1, "TLSv1.1");
	assert_one_error("passdb = ldap\n", 1, "passdb");
	assert_one_error("passdb = passwd-file:\n", 1, "passdb");
	assert_one_error("syslog_facility = mial\n", 1, "syslog_facility");

	/* listen syntax */
	static const char *const bad_listen[] = {
	    "imap_listen = *:0\n",
	    "imap_listen = *:65536\n",
	    "imap_listen = *:\n",
	    "imap_listen = 143\n",
	    "imap_listen = [::1:143\n",
	    "imap_listen = [::1]143\n",
	    "imap_listen = [nope]:143\n",
	    "imap_listen = ho_st:143\n",
	    "imap_listen = :143\n",
	    "imap_listen = *:14x3\n",
	    "lmtp_listen = ::1:24\n",
	    "imap_listen = []:1\n",
	    "imap_listen = *:143 *:-1\n",
	    "imap_listen = *:1234567\n",
	    "imap_listen = 999.1.1.1:143\n",
	    "imap_listen = 127.0.0.1.5:25\n",
	};
	for (size_t i = 0; i < sizeof(bad_listen) / sizeof(*bad_listen); i++)
		assert_one_error(bad_listen[i], 1, "invalid listen address");
	struct cfg_errors e;
	struct config *cfg = load("imap_listen = 127.0.0.1:10143 [::1]:10143 *:1 [::]:65535 "
	                          "mail.example.org:143\nlmtp_listen =\n",
	                          &e);
	assert_non_null(cfg);
	size_t n;
	const char *const *l = config_list(cfg, "imap_listen", &n);
	assert_int_equal(n, 5);
	assert_string_equal(l[1], "[::1]:10143");
	config_free(cfg);

	/* pop3 pop3s lmtp are fine protocols, passwd-file with a path is a fine passdb */
	cfg = load("protocols = imap imaps pop3 pop3s smtp submission submissions lmtp\n"
	           "passdb = passwd-file:/etc/loft/users\nlog_level = debug\nssl = required\n"
	           "ssl_min_protocol = TLSv1.3\nsyslog_facility = local3\n",
	           &e);
	assert_non_null(cfg);
	assert_true(config_list_has(cfg, "protocols", "pop3s"));
	assert_string_equal(config_str(cfg, "passdb"), "passwd-file:/etc/loft/users");
	config_free(cfg);
}

static void test_long_line_and_nul(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 0);
	buf_append_str(&b, "max_hops = 1\nrelayhost = ");
	for (int i = 0; i < CFG_LINE_MAX - 12; i++)
		buf_append(&b, "x", 1);
	buf_append_str(&b, "\n"); /* line 2 is exactly CFG_LINE_MAX bytes: fine */
	buf_append_str(&b, "relayhost = ");
	for (int i = 0; i < CFG_LINE_MAX - 11; i++)
		buf_append(&b, "y", 1);
	buf_append_str(&b, "\nmax_hops = 2\n"); /* line 3 is one byte too long */
	struct cfg_errors e;
	struct config *cfg = config_load_buf("t.conf", b.data, b.len, &e);
	assert_null(cfg);
	assert_int_equal(e.n, 1);
	assert_has_error(&e, "t.conf", 3, "line too long");
	cfg_errors_free(&e);

	static const char nul[] = "max_hops = 1\nrelayhost = a\0b\nmax_hops = 2\n";
	cfg = config_load_buf("t.conf", nul, sizeof(nul) - 1, &e);
	assert_null(cfg);
	assert_int_equal(e.n, 1);
	assert_has_error(&e, "t.conf", 2, "NUL byte");
	cfg_errors_free(&e);

	/* a UTF-8 byte order mark is skipped, anywhere else it is text */
	cfg = load("\xef\xbb\xbfmax_hops = 5\n", &e);
	assert_non_null(cfg);
	assert_int_equal(config_uint(cfg, "max_hops"), 5);
	config_free(cfg);
	assert_one_error("\n\xef\xbb\xbfmax_hops = 5\n", 2, "unknown setting");
	/* the last line needs no LF; CRLF lines are fine */
	cfg = load("max_hops = 3\r\nmax_hops = 4", &e);
	assert_non_null(cfg);
	assert_int_equal(config_uint(cfg, "max_hops"), 4);
	config_free(cfg);
	buf_free(&b);
}

static void test_multiple_errors(void **state)
{
	(void)state;
	const char *text = "max_hops = 5\n"
	                   "bogus = 1\n"
	                   "protocols imap\n"
	                   "mail_fsync = perhaps\n"
	                   "relayhost = \"x\n"
	                   "message_size_limit = 1Q\n"
	                   "smtpd_timeout = 5m\n";
	struct cfg_errors e;
	assert_null(load(text, &e));
	assert_int_equal(e.n, 5);
	assert_has_error(&e, "t.conf", 2, "unknown setting 'bogus'");
	assert_has_error(&e, "t.conf", 3, "missing '='");
	assert_has_error(&e, "t.conf", 4, "perhaps");
	assert_has_error(&e, "t.conf", 5, "unterminated quote");
	assert_has_error(&e, "t.conf", 6, "1Q");
	/* reported in file order */
	for (size_t i = 1; i < e.n; i++)
		assert_true(e.v[i - 1].line < e.v[i].line);
	cfg_errors_free(&e);
	/* a file full of errors: the first 200 and one line saying there were more */
	struct buf many;
	buf_init(&many, 0);
	for (int i = 0; i < 300; i++)
		buf_printf(&many, "bad%d = 1\n", i);
	assert_null(config_load_buf("t.conf", many.data, many.len, &e));
	assert_int_equal(e.n, 201);
	assert_has_error(&e, "t.conf", 200, "unknown setting 'bad199'");
	assert_non_null(strstr(e.v[200].msg, "too many errors"));
	cfg_errors_free(&e);
	buf_free(&many);
	/* errs may be NULL: still NULL, nothing leaks */
	assert_null(load(text, NULL));
	/* a good load empties errs */
	struct config *cfg = load("max_hops = 1\n", &e);
	assert_non_null(cfg);
	assert_int_equal(e.n, 0);
	assert_null(e.v);
	config_free(cfg);
}

/* ---- includes: a scratch directory per test ---- */

static char tmpdir[64];

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

static int make_tmp(void **state)
{
	(void)state;
	strcpy(tmpdir, "/tmp/test-config-XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int remove_tmp(void **state)
{
	(void)state;
	return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Full path of rel in the scratch dir (static buffer, one at a time). */
static const char *tpath(const char *rel)
{
	static char p[256];
	snprintf(p, sizeof(p), "%s/%s", tmpdir, rel);
	return p;
}

static void put(const char *rel, const char *text)
{
	const char *p = tpath(rel);
	char dir[256];
	snprintf(dir, sizeof(dir), "%s", p);
	*strrchr(dir, '/') = '\0';
	mkdir(dir, 0700);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_include_relative_and_glob(void **state)
{
	(void)state;
	put("loft.conf", "max_hops = 1\n"
	                 "!include sub/a.conf\n"
	                 "!include conf.d/*.conf\n"
	                 "!include_try missing.conf\n"
	                 "!include_try nothing.d/*.conf\n"
	                 "relayhost = \"smarthost\"\n");
	put("sub/a.conf", "# included\nmax_hops = 2\n!include b.conf\n");
	put("sub/b.conf", "mydomains = b.example\n");
	put("conf.d/10-first.conf", "myhostname = first\npam_service = first\n");
	put("conf.d/20-second.conf", "myhostname = second\n");
	put("conf.d/skip.txt", "this is not = a config\n");
	struct cfg_errors e;
	struct config *cfg = config_load(tpath("loft.conf"), &e);
	for (size_t i = 0; i < e.n; i++)
		print_error("%s:%u: %s\n", e.v[i].file, e.v[i].line, e.v[i].msg);
	assert_non_null(cfg);
	assert_string_equal(config_path(cfg), tpath("loft.conf"));
	assert_int_equal(config_uint(cfg, "max_hops"), 2);
	assert_true(config_list_has(cfg, "mydomains", "b.example"));
	assert_string_equal(config_str(cfg, "myhostname"), "second"); /* glob is sorted */
	assert_string_equal(config_str(cfg, "pam_service"), "first");
	assert_string_equal(config_str(cfg, "relayhost"), "smarthost");
	const char *file;
	unsigned line;
	assert_true(config_source(cfg, "mydomains", &file, &line));
	assert_non_null(strstr(file, "sub/b.conf"));
	assert_int_equal(line, 1);
	assert_true(config_source(cfg, "max_hops", &file, &line));
	assert_non_null(strstr(file, "sub/a.conf"));
	assert_int_equal(line, 2);
	config_free(cfg);

	/* absolute include path, from a buffer */
	char text[512];
	snprintf(text, sizeof(text), "!include %s\n", tpath("sub/b.conf"));
	cfg = load(text, &e);
	assert_non_null(cfg);
	assert_true(config_list_has(cfg, "mydomains", "b.example"));
	config_free(cfg);
	/* a relative include from a buffer is relative to the current directory */
	char cwd[512];
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(tmpdir), 0);
	cfg = load("!include sub/b.conf\n", &e);
	assert_int_equal(chdir(cwd), 0);
	assert_non_null(cfg);
	assert_true(config_list_has(cfg, "mydomains", "b.example"));
	config_free(cfg);
	/* unless includes are off (the fuzz target) */
	assert_null(config_load_buf_flags("t.conf", text, strlen(text), CFG_LOAD_NO_INCLUDES, &e));
	assert_has_error(&e, "t.conf", 1, "not allowed");
	cfg_errors_free(&e);
}

static void test_include_errors(void **state)
{
	(void)state;
	put("main.conf", "max_hops = 1\n"
	                 "!include nope.conf\n"
	                 "!include none.d/*.conf\n"
	                 "!include bad.conf\n"
	                 "!include_try bad.conf\n"
	                 "!include .\n");
	put("bad.conf", "\nmax_hops = x\n");
	struct cfg_errors e;
	char main_path[256];
	snprintf(main_path, sizeof(main_path), "%s", tpath("main.conf"));
	assert_null(config_load(main_path, &e));
	char bad_path[256];
	snprintf(bad_path, sizeof(bad_path), "%s", tpath("bad.conf"));
	assert_has_error(&e, main_path, 2, "cannot open");
	assert_has_error(&e, main_path, 2, "nope.conf");
	assert_has_error(&e, main_path, 3, "no files match");
	assert_has_error(&e, bad_path, 2, "'x'"); /* errors name the included file */
	assert_has_error(&e, main_path, 6, "not a regular file");
	assert_int_equal(e.n, 5); /* bad.conf's error twice (include and include_try) */
	cfg_errors_free(&e);

	/* the top file itself missing: error names it, line 0 */
	assert_null(config_load(tpath("absent.conf"), &e));
	assert_int_equal(e.n, 1);
	assert_int_equal(e.v[0].line, 0);
	assert_non_null(strstr(e.v[0].msg, "No such file"));
	cfg_errors_free(&e);
}

static void test_include_loop_and_depth(void **state)
{
	(void)state;
	put("a.conf", "max_hops = 1\n!include b.conf\n");
	put("b.conf", "\n\n!include a.conf\n");
	struct cfg_errors e;
	char a[256], b[256];
	snprintf(a, sizeof(a), "%s", tpath("a.conf"));
	snprintf(b, sizeof(b), "%s", tpath("b.conf"));
	assert_null(config_load(a, &e));
	assert_int_equal(e.n, 1);
	assert_has_error(&e, b, 3, "include loop");
	cfg_errors_free(&e);

	put("self.conf", "!include_try self.conf\n");
	assert_null(config_load(tpath("self.conf"), &e));
	assert_int_equal(e.n, 1);
	assert_non_null(strstr(e.v[0].msg, "include loop"));
	cfg_errors_free(&e);

	/* d0 includes d1 ... : 8 levels are fine, the 9th is refused */
	for (int i = 0; i <= 9; i++) {
		char name[32], text[64];
		snprintf(name, sizeof(name), "d%d.conf", i);
		snprintf(text, sizeof(text), "max_hops = %d\n!include d%d.conf\n", i, i + 1);
		put(name, i < 8 ? text : "max_hops = 8\n");
	}
	struct config *cfg = config_load(tpath("d0.conf"), &e);
	assert_non_null(cfg);
	assert_int_equal(config_uint(cfg, "max_hops"), 8);
	config_free(cfg);
	put("d8.conf", "!include d9.conf\n");
	put("d9.conf", "max_hops = 9\n");
	char d8[256];
	snprintf(d8, sizeof(d8), "%s", tpath("d8.conf"));
	assert_null(config_load(tpath("d0.conf"), &e));
	assert_int_equal(e.n, 1);
	assert_has_error(&e, d8, 1, "nested deeper than 8");
	cfg_errors_free(&e);
}

static void test_size_units(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		uint64_t v;
	} sizes[] = {
	    /* clang-format off */
		{"0", 0}, {"512", 512}, {"100B", 100}, {"10k", 10240}, {"10K", 10240},
		{"10kB", 10240}, {"10KB", 10240}, {"10 kb", 10240}, {"50M", 52428800},
		{"50m", 52428800}, {"1G", 1073741824}, {"1gb", 1073741824},
		{"2T", 2199023255552ull}, {"16777215T", 18446742974197923840ull},
		{"18446744073709551615", UINT64_MAX},
	    /* clang-format on */
	};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(*sizes); i++) {
		uint64_t v = 1;
		if (config_parse_size(sizes[i].s, &v) != 0)
			fail_msg("size '%s' refused", sizes[i].s);
		assert_int_equal(v, sizes[i].v);
	}
	static const char *const bad_sizes[] = {
	    "",
	    "k",
	    "-1",
	    "+1",
	    "1.5M",
	    "10X",
	    "10MM",
	    "10Bk",
	    " 10",
	    "16777216T",
	    "18446744073709551616",
	    "17179869184G",
	    "0x10",
	    "10 M B",
	};
	for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(*bad_sizes); i++) {
		uint64_t v = 7;
		if (config_parse_size(bad_sizes[i], &v) != -1)
			fail_msg("size '%s' accepted", bad_sizes[i]);
		assert_int_equal(v, 7); /* untouched on error */
	}
}

static void test_time_units(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		uint64_t ms;
	} times[] = {
	    {"500ms", 500},
	    {"0", 0},
	    {"30", 30000},
	    {"30s", 30000},
	    {"5m", 300000},
	    {"2h", 7200000},
	    {"5d", 432000000},
	    {"1w", 604800000},
	    {"10 secs", 10000},
	    {"10seconds", 10000},
	    {"1 sec", 1000},
	    {"1 min", 60000},
	    {"3 mins", 180000},
	    {"2 minutes", 120000},
	    {"1 hour", 3600000},
	    {"2 hours", 7200000},
	    {"1 day", 86400000},
	    {"3 days", 259200000},
	    {"1 week", 604800000},
	    {"2weeks", 1209600000},
	    {"10SECS", 10000},
	    {"250 msecs", 250},
	    {"18446744073709551615ms", UINT64_MAX},
	    {"18446744073709551s", 18446744073709551000ull},
	};
	for (size_t i = 0; i < sizeof(times) / sizeof(*times); i++) {
		uint64_t v = 1;
		if (config_parse_time_ms(times[i].s, &v) != 0)
			fail_msg("time '%s' refused", times[i].s);
		assert_int_equal(v, times[i].ms);
	}
	static const char *const bad_times[] = {
	    "",
	    "s",
	    "5x",
	    "-5s",
	    "1.5h",
	    "5 fortnights",
	    "5ss",
	    "18446744073709552s",
	    "30500000000000w",
	    "18446744073709551616",
	    "18446744073709551615",
	};
	for (size_t i = 0; i < sizeof(bad_times) / sizeof(*bad_times); i++) {
		uint64_t v = 7;
		if (config_parse_time_ms(bad_times[i], &v) != -1)
			fail_msg("time '%s' accepted", bad_times[i]);
		assert_int_equal(v, 7);
	}
}

static void test_uint_and_bool(void **state)
{
	(void)state;
	uint64_t u = 1;
	assert_int_equal(config_parse_uint("0", &u), 0);
	assert_int_equal(u, 0);
	assert_int_equal(config_parse_uint("0042", &u), 0);
	assert_int_equal(u, 42);
	assert_int_equal(config_parse_uint("18446744073709551615", &u), 0);
	assert_int_equal(u, UINT64_MAX);
	static const char *const bad_uints[] = {"",
	                                        "-1",
	                                        "+1",
	                                        "1k",
	                                        " 1",
	                                        "1 ",
	                                        "0x1",
	                                        "18446744073709551616",
	                                        "99999999999999999999"};
	for (size_t i = 0; i < sizeof(bad_uints) / sizeof(*bad_uints); i++)
		assert_int_equal(config_parse_uint(bad_uints[i], &u), -1);

	static const char *const yes[] = {"yes", "YES", "true", "True", "on", "ON", "1"};
	static const char *const no[] = {"no", "No", "false", "FALSE", "off", "Off", "0"};
	for (size_t i = 0; i < 7; i++) {
		bool b = false;
		assert_int_equal(config_parse_bool(yes[i], &b), 0);
		assert_true(b);
		assert_int_equal(config_parse_bool(no[i], &b), 0);
		assert_false(b);
	}
	static const char *const bad_bools[] = {"", "2", "yess", "y", "n", "enable", "on "};
	for (size_t i = 0; i < sizeof(bad_bools) / sizeof(*bad_bools); i++) {
		bool b = true;
		assert_int_equal(config_parse_bool(bad_bools[i], &b), -1);
	}
}

/* Through the loader the getters give the parsed values. */
static void test_typed_getters(void **state)
{
	(void)state;
	struct cfg_errors e;
	struct config *cfg = load("message_size_limit = 10M\nsmtpd_timeout = 90\n"
	                          "queue_retry_min = 250ms\nmail_fsync = off\nmax_hops = 7\n",
	                          &e);
	assert_non_null(cfg);
	assert_int_equal(config_size(cfg, "message_size_limit"), 10485760);
	assert_int_equal(config_time_ms(cfg, "smtpd_timeout"), 90000);
	assert_int_equal(config_time_ms(cfg, "queue_retry_min"), 250);
	assert_false(config_bool(cfg, "mail_fsync"));
	assert_int_equal(config_uint(cfg, "max_hops"), 7);
	assert_string_equal(config_raw(cfg, "smtpd_timeout"), "90");
	config_free(cfg);
}

static void assert_expand(const char *tmpl, const char *user, const char *home, const char *want)
{
	struct expand_vars v = {user, home};
	const char *err = NULL;
	char *s = config_expand(tmpl, &v, &err);
	if (s == NULL)
		fail_msg("expand '%s' failed: %s", tmpl, err);
	assert_string_equal(s, want);
	free(s);
}

static void assert_expand_fails(const char *tmpl, const char *user, const char *home,
                                const char *substr)
{
	struct expand_vars v = {user, home};
	const char *err = NULL;
	char *s = config_expand(tmpl, &v, &err);
	if (s != NULL)
		fail_msg("expand '%s' gave '%s'", tmpl, s);
	assert_non_null(err);
	if (strstr(err, substr) == NULL)
		fail_msg("expand '%s' error '%s' lacks '%s'", tmpl, err, substr);
}

static void test_expand(void **state)
{
	(void)state;
	assert_expand("/var/mail/%d/%n", "bob@example.org", NULL, "/var/mail/example.org/bob");
	assert_expand("%u|%n|%d", "a@b@c.org", NULL, "a@b@c.org|a@b|c.org");
	assert_expand("%n", "bob", NULL, "bob");
	assert_expand("%h/Maildir", NULL, "/home/bob", "/home/bob/Maildir");
	assert_expand("~/Maildir", NULL, "/home/bob", "/home/bob/Maildir");
	assert_expand("~", NULL, "/home/bob", "/home/bob");
	assert_expand("~bob/x", NULL, NULL, "~bob/x");
	assert_expand("/a/~/b", NULL, NULL, "/a/~/b");
	assert_expand("100%%", NULL, NULL, "100%");
	assert_expand("%%u", NULL, NULL, "%u");
	assert_expand("", NULL, NULL, "");
	assert_expand("plain", "u", "/h", "plain");

	assert_expand_fails("%x", "u", "/h", "unknown");
	assert_expand_fails("%Lu", "u", "/h", "unknown");
	assert_expand_fails("abc%", "u", "/h", "end");
	assert_expand_fails("%u", NULL, "/h", "%u");
	assert_expand_fails("%u", "", "/h", "%u");
	assert_expand_fails("%n", NULL, "/h", "%n");
	assert_expand_fails("%n", "@example.org", "/h", "%n");
	assert_expand_fails("%d", "bob", "/h", "%d");
	assert_expand_fails("%d", "bob@", "/h", "%d");
	assert_expand_fails("%h", "u", NULL, "%h");
	assert_expand_fails("%h", "u", "", "%h");
	assert_expand_fails("~/Maildir", "u", NULL, "~");
	assert_expand_fails("~", "u", "", "~");
}

/* Run fn in a child; it must die of SIGABRT. */
static void assert_aborts(void (*fn)(const struct config *), const struct config *cfg)
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* keep the expected abort's message out of the test output */
		freopen("/dev/null", "w", stderr);
		fn(cfg);
		_exit(0);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGABRT);
}

static void get_unknown(const struct config *cfg)
{
	config_str(cfg, "no_such_key");
}

static void get_wrong_type(const struct config *cfg)
{
	config_uint(cfg, "message_size_limit");
}

static void get_str_of_bool(const struct config *cfg)
{
	config_str(cfg, "mail_fsync");
}

static void get_list_of_string(const struct config *cfg)
{
	config_list(cfg, "myhostname", NULL);
}

static void raw_unknown(const struct config *cfg)
{
	config_raw(cfg, "nope");
}

static void test_getters_abort(void **state)
{
	(void)state;
	struct config *cfg = config_defaults();
	assert_aborts(get_unknown, cfg);
	assert_aborts(get_wrong_type, cfg);
	assert_aborts(get_str_of_bool, cfg);
	assert_aborts(get_list_of_string, cfg);
	assert_aborts(raw_unknown, cfg);
	config_free(cfg);
}

static void test_dist_conf(void **state)
{
	(void)state;
	const char *src = getenv("LOFT_SOURCE_DIR");
	if (src == NULL)
		fail_msg("LOFT_SOURCE_DIR is not set (run through ctest)");
	char path[1024];
	snprintf(path, sizeof(path), "%s/dist/loft.conf", src);
	struct cfg_errors e;
	struct config *cfg = config_load(path, &e);
	for (size_t i = 0; i < e.n; i++)
		print_error("%s:%u: %s\n", e.v[i].file, e.v[i].line, e.v[i].msg);
	assert_non_null(cfg);
	/* what ships equals the defaults, and protocols is the one line set */
	for (const struct cfg_key *k = cfg_schema; k->name != NULL; k++)
		assert_string_equal(config_raw(cfg, k->name), k->def);
	assert_true(config_source(cfg, "protocols", NULL, NULL));
	config_free(cfg);

	FILE *f = fopen(path, "r");
	assert_non_null(f);
	static char text[1 << 17];
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	for (const struct cfg_key *k = cfg_schema; k->name != NULL; k++) {
		char want[128];
		bool found = false;
		for (const char *line = text; line != NULL && *line != '\0';) {
			const char *p = line;
			if (*p == '#')
				p++;
			snprintf(want, sizeof(want), "%s =", k->name);
			if (strncmp(p, want, strlen(want)) == 0)
				found = true;
			line = strchr(line, '\n');
			if (line != NULL)
				line++;
		}
		if (!found)
			fail_msg("dist/loft.conf lacks '%s =' or '#%s ='", k->name, k->name);
	}
	assert_non_null(strstr(text, "\nprotocols = imap imaps smtp submission submissions\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults_parse),
	    cmocka_unit_test(test_syntax),
	    cmocka_unit_test(test_quoting),
	    cmocka_unit_test(test_error_paths),
	    cmocka_unit_test(test_long_line_and_nul),
	    cmocka_unit_test(test_multiple_errors),
	    cmocka_unit_test_setup_teardown(test_include_relative_and_glob, make_tmp, remove_tmp),
	    cmocka_unit_test_setup_teardown(test_include_errors, make_tmp, remove_tmp),
	    cmocka_unit_test_setup_teardown(test_include_loop_and_depth, make_tmp, remove_tmp),
	    cmocka_unit_test(test_size_units),
	    cmocka_unit_test(test_time_units),
	    cmocka_unit_test(test_uint_and_bool),
	    cmocka_unit_test(test_typed_getters),
	    cmocka_unit_test(test_expand),
	    cmocka_unit_test(test_getters_abort),
	    cmocka_unit_test(test_dist_conf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
