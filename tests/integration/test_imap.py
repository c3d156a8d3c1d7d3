"""The IMAP session end to end: the real loft-master, loft-auth,
loft-imap-login and loft-mailstore with passwd-file users, driven by
Python's imaplib, raw sockets and curl (imap://, imaps://). Covers every
RFC 3501 command and the advertised extensions (IDLE, UIDPLUS, MOVE,
LITERAL+, NAMESPACE, ID, ENABLE, UNSELECT, CHILDREN, SPECIAL-USE): a
multipart message with an attachment checked part by part, IDLE woken by
an LMTP delivery, updates caused by another session, the bounds (BAD
without disconnect, NUL refused, resynchronisation after a refused
literal, autologout) and, as root, the worker's privileges."""

import base64
import imaplib
import os
import pwd
import re
import shutil
import smtplib
import socket
import subprocess
import time
import unittest

import lofttest

MAIL_UID = 5000 if lofttest.is_root() else os.getuid()
MAIL_GID = 5000 if lofttest.is_root() else os.getgid()
USERS = ("alice", "bob", "carol", "dave", "erin")


class Raw(lofttest.LineClient):
    """A line-oriented IMAP client on a plain or TLS socket."""

    def line(self, timeout=10):
        return super().line(timeout)

    def until(self, tag):
        """Every line up to and including the tagged one for tag."""
        out = []
        while True:
            ln = self.line()
            out.append(ln)
            if ln.startswith(tag.encode() + b" "):
                return out

    def cmd(self, tag, text):
        self.send("%s %s\r\n" % (tag, text))
        return self.until(tag)


MULTIPART = (
    b"From: Alice Example <alice@example.org>\r\n"
    b"To: Bob <bob@example.org>, carol@example.org\r\n"
    b"Cc: dave@example.org\r\n"
    b"Subject: =?UTF-8?Q?Quarterly_r=C3=A9port?=\r\n"
    b"Date: Tue, 24 Nov 2026 10:00:00 +0100\r\n"
    b"Message-ID: <q3@example.org>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: multipart/mixed; boundary=\"outer\"\r\n"
    b"\r\n"
    b"preamble\r\n"
    b"--outer\r\n"
    b"Content-Type: multipart/alternative; boundary=\"inner\"\r\n"
    b"\r\n"
    b"--inner\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: quoted-printable\r\n"
    b"\r\n"
    b"Numbers are up: caf=C3=A9 sales grew.\r\n"
    b"--inner\r\n"
    b"Content-Type: text/html; charset=utf-8\r\n"
    b"\r\n"
    b"<p>Numbers are up</p>\r\n"
    b"--inner--\r\n"
    b"--outer\r\n"
    b"Content-Type: application/pdf; name=\"report.pdf\"\r\n"
    b"Content-Disposition: attachment; filename=\"report.pdf\"\r\n"
    b"Content-Transfer-Encoding: base64\r\n"
    b"\r\n"
    b"JVBERi0xLjQKJcfsj6IKMSAwIG9iago8PC9UeXBlL0NhdGFsb2c+PgplbmRvYmoK\r\n"
    b"--outer--\r\n")

PLAIN1 = (b"From: Bob <bob@example.org>\r\nTo: alice@example.org\r\n"
          b"Subject: lunch\r\nDate: Mon, 23 Nov 2026 12:00:00 +0000\r\n"
          b"\r\nSandwiches at noon?\r\n")
PLAIN2 = (b"From: Carol <carol@example.org>\r\nTo: alice@example.org\r\n"
          b"Subject: budget numbers\r\nDate: Wed, 25 Nov 2026 09:30:00 +0000\r\n"
          b"\r\nThe budget is attached in spirit.\r\n")


class ImapBase(unittest.TestCase):
    protocols = ["imap", "imaps", "lmtp"]
    extra = {}
    user = None

    @classmethod
    def setUpClass(cls):
        cls.uid, cls.gid = MAIL_UID, MAIL_GID
        if cls.user is not None:
            if not lofttest.is_root():
                raise unittest.SkipTest("needs root to switch users")
            pw = pwd.getpwnam(cls.user)
            cls.uid, cls.gid = pw.pw_uid, pw.pw_gid
        cls.s = lofttest.Suite(protocols=cls.protocols, user=cls.user)
        lofttest.start_suite(cls.s, cls.prepare, r"imap-login\[\d+\]: serving")

    @classmethod
    def tearDownClass(cls):
        lofttest.finish_suite(cls.s)

    @classmethod
    def prepare(cls, s):
        cls.mail, users = lofttest.mail_users(s, USERS, cls.uid, cls.gid)
        if lofttest.is_root():
            # a system account (daemon's uid 1) that can authenticate: its
            # session must be refused (first_valid_uid, issue 18)
            with open(users, "a") as f:
                f.write("sysd:{PLAIN}secret-sysd:1:1::%s/sysd::\n" % cls.mail)
        extra = {"passdb": "passwd-file:" + users,
                 "mail_location": "maildir:%s/%%u/Maildir" % cls.mail,
                 "mydomains": "example.org"}
        extra.update(cls.extra)
        s.write_config(**extra)

    # -- helpers -----------------------------------------------------------

    def maildir(self, user):
        return os.path.join(self.mail, user, "Maildir")

    def reset(self, user):
        shutil.rmtree(self.maildir(user), ignore_errors=True)

    def deliver(self, user, msg):
        """A real delivery over LMTP (TCP)."""
        with smtplib.LMTP("127.0.0.1", self.s.port("lmtp"), timeout=10) as l:
            l.sendmail("sender@example.net", ["%s@example.org" % user], msg)

    def imap(self, user, proto="imap"):
        if proto == "imaps":
            c = imaplib.IMAP4_SSL("127.0.0.1", self.s.port("imaps"),
                                  ssl_context=lofttest.tls_ctx(), timeout=10)
        else:
            c = imaplib.IMAP4("127.0.0.1", self.s.port("imap"), timeout=10)
        self.addCleanup(self._logout, c)
        typ, _ = c.login(user, "secret-" + user)
        self.assertEqual(typ, "OK")
        return c

    @staticmethod
    def _logout(c):
        try:
            c.logout()
        except Exception:
            pass

    def raw(self, user=None, proto="imap"):
        sock = socket.create_connection(("127.0.0.1", self.s.port(proto)),
                                        timeout=10)
        if proto == "imaps":
            sock = lofttest.tls_ctx().wrap_socket(sock, server_hostname="localhost")
        r = Raw(sock)
        self.addCleanup(r.close)
        self.assertTrue(r.line().startswith(b"* OK [CAPABILITY "))
        if user is not None:
            out = r.cmd("L", "LOGIN %s secret-%s" % (user, user))
            self.assertTrue(out[-1].startswith(b"L OK [CAPABILITY "), out)
        return r

    def ok(self, res):
        typ, data = res
        self.assertEqual(typ, "OK", data)
        return data

    def curl(self, *args):
        r = subprocess.run(["curl", "-sS", "--max-time", "20", "-k"] +
                           list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout


class SessionTest(ImapBase):
    def setUp(self):
        self.reset("alice")

    def test_capability_after_login(self):
        c = self.imap("alice")
        typ, data = c.capability()
        self.assertEqual(typ, "OK")
        caps = data[0].decode().upper().split()
        for cap in ("IMAP4REV1", "IDLE", "UIDPLUS", "MOVE", "LITERAL+",
                    "NAMESPACE", "ID", "ENABLE", "UNSELECT", "CHILDREN",
                    "SPECIAL-USE"):
            self.assertIn(cap, caps)

    def test_first_login_creates_special_use_folders(self):
        c = self.imap("alice")
        data = self.ok(c.list())
        lines = {l.decode() for l in data}
        self.assertIn('(\\HasNoChildren) "/" INBOX', lines)
        for name, use in (("Drafts", "\\Drafts"), ("Sent", "\\Sent"),
                          ("Trash", "\\Trash"), ("Junk", "\\Junk"),
                          ("Archive", "\\Archive")):
            self.assertIn('(\\HasNoChildren %s) "/" %s' % (use, name), lines)
            self.assertTrue(os.path.isdir(
                os.path.join(self.maildir("alice"), "." + name, "cur")))

    def test_select_examine_responses(self):
        self.deliver("alice", PLAIN1)
        self.deliver("alice", PLAIN2)
        r = self.raw("alice")
        out = r.cmd("a", "SELECT INBOX")
        text = b"\n".join(out)
        self.assertIn(b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)",
                      out)
        self.assertIn(b"* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted "
                      b"\\Seen \\Draft \\*)] Flags permitted.", out)
        self.assertIn(b"* 2 EXISTS", out)
        self.assertIn(b"* 2 RECENT", out)
        self.assertIn(b"* OK [UNSEEN 1] First unseen.", out)
        self.assertRegex(text, rb"\* OK \[UIDVALIDITY \d+\] UIDs valid")
        self.assertIn(b"* OK [UIDNEXT 3] Predicted next UID", out)
        self.assertEqual(out[-1], b"a OK [READ-WRITE] Select completed.")
        # \Recent was taken by that session: a second one sees none
        r2 = self.raw("alice")
        out2 = r2.cmd("b", "EXAMINE INBOX")
        self.assertIn(b"* 0 RECENT", out2)
        self.assertIn(b"* OK [PERMANENTFLAGS ()] Read-only mailbox.", out2)
        self.assertEqual(out2[-1], b"b OK [READ-ONLY] Examine completed.")
        self.assertEqual(r2.cmd("c", "STORE 1 +FLAGS (\\Seen)")[-1][:4], b"c NO")
        out = r.cmd("d", "SELECT Nope")
        self.assertEqual(out[-1], b"d NO [NONEXISTENT] Mailbox doesn't exist: Nope")

    @unittest.skipUnless(lofttest.is_root(), "uids are only enforced as root")
    def test_system_uid_login_refused(self):
        r = self.raw()
        out = r.cmd("L", "LOGIN sysd secret-sysd")
        self.assertFalse(out[-1].startswith(b"L OK"), out)
        self.assertRegex(out[-1], rb"^(L NO|\* BYE)", out)
        self.s.wait_log(r"uid is below first_valid_uid")
        self.assertFalse(os.path.exists(os.path.join(self.mail, "sysd")))
        # a user above the bound logs in as before
        self.imap("alice")

    def test_list_pattern_cannot_backtrack(self):
        # Issue 18: the recursive matcher took 5.7 s on this pattern over a
        # 200-character name. A denial-of-service bound, not a benchmark.
        c = self.imap("alice")
        long_name = "a" * 200
        self.ok(c.create(long_name))
        for pat in ("*a*a*a*a*a*ab", "%a%a%a%a%a%ab"):
            t0 = time.monotonic()
            self.assertEqual(self.ok(c.list('""', pat)), [None])
            self.assertLess(time.monotonic() - t0, 1.0, pat)
        data = self.ok(c.list('""', "*a*a*a*a*a*a"))
        self.assertEqual(data, [b'(\\HasNoChildren) "/" ' + long_name.encode()])

    def test_create_delete_rename_hierarchy(self):
        c = self.imap("alice")
        self.ok(c.create("Projects/2026/Q4"))
        self.ok(c.create("Projects"))
        data = self.ok(c.list('""', "Projects*"))
        # Maildir++ creates only the leaf; a parent that is no folder lists
        # as \Noselect
        self.assertEqual(sorted(data), sorted([
            b'(\\HasChildren) "/" Projects',
            b'(\\Noselect \\HasChildren) "/" Projects/2026',
            b'(\\HasNoChildren) "/" Projects/2026/Q4']))
        self.assertEqual(self.ok(c.list('""', "Projects/%")),
                         [b'(\\Noselect \\HasChildren) "/" Projects/2026'])
        self.ok(c.rename("Projects", "Work"))
        data = self.ok(c.list('""', "Work/*"))
        self.assertEqual(sorted(data), sorted([
            b'(\\Noselect \\HasChildren) "/" Work/2026',
            b'(\\HasNoChildren) "/" Work/2026/Q4']))
        self.assertEqual(self.ok(c.list('""', "Projects*")), [None])
        self.ok(c.delete("Work/2026/Q4"))
        self.assertEqual(self.ok(c.list('""', "Work*")), [b'(\\HasNoChildren) "/" Work'])
        self.ok(c.create("Work/Sub"))
        typ, data = c.delete("Work")
        self.assertEqual(typ, "NO")
        self.assertIn(b"[INUSE]", data[0])
        typ, data = c.create("INBOX")
        self.assertEqual(typ, "NO")
        self.assertIn(b"ALREADYEXISTS", data[0])
        typ, data = c.delete("INBOX")
        self.assertEqual(typ, "NO")

    def test_rename_inbox_moves_messages(self):
        self.deliver("alice", PLAIN1)
        c = self.imap("alice")
        self.ok(c.rename("INBOX", "Old"))
        c.select("Old")
        self.assertEqual(self.ok(c.search(None, "ALL")), [b"1"])
        c.select("INBOX")
        self.assertEqual(self.ok(c.search(None, "ALL")), [b""])

    def test_subscribe_lsub(self):
        c = self.imap("alice")
        self.ok(c.create("Lists/loft"))
        self.ok(c.subscribe("Lists/loft"))
        self.assertEqual(self.ok(c.lsub('""', "*")), [b'() "/" Lists/loft'])
        self.assertEqual(self.ok(c.lsub('""', "%")),
                         [b'(\\Noselect) "/" Lists'])
        self.ok(c.unsubscribe("Lists/loft"))
        self.assertEqual(self.ok(c.lsub('""', "*")), [None])

    def test_status_namespace_id(self):
        self.deliver("alice", PLAIN1)
        self.deliver("alice", PLAIN2)
        c = self.imap("alice")
        data = self.ok(c.status("INBOX", "(MESSAGES RECENT UIDNEXT UNSEEN)"))
        self.assertEqual(data, [b'INBOX (MESSAGES 2 RECENT 2 UIDNEXT 3 UNSEEN 2)'])
        self.assertEqual(self.ok(c.namespace()), [b'(("" "/")) NIL NIL'])
        typ, data = c.xatom("ID", '("name" "test")')
        self.assertEqual(typ, "OK")
        self.assertEqual(c.untagged_responses.get("ID"), [b'("name" "Loft")'])

    def test_append_flags_date_uidplus(self):
        c = self.imap("alice")
        typ, data = c.append("Drafts", "(\\Draft $Work)",
                             '"05-Nov-2026 10:11:12 +0100"', PLAIN1)
        self.assertEqual(typ, "OK")
        m = re.match(rb"\[APPENDUID (\d+) 1\] Append completed\.", data[0])
        self.assertIsNotNone(m, data)
        c.select("Drafts")
        data = self.ok(c.fetch("1", "(FLAGS INTERNALDATE RFC822.SIZE)"))
        self.assertEqual(data[0], b'1 (FLAGS (\\Draft \\Recent $Work) INTERNALDATE '
                         b'"05-Nov-2026 09:11:12 +0000" RFC822.SIZE %d)'
                         % len(PLAIN1))
        data = self.ok(c.status("Drafts", "(UIDVALIDITY)"))
        self.assertIn(b"UIDVALIDITY " + m.group(1), data[0])
        typ, data = c.append("Nowhere", None, None, PLAIN1)
        self.assertEqual(typ, "NO")
        self.assertIn(b"[TRYCREATE]", data[0])

    def test_append_nonsync_literal_and_bytes_on_disk(self):
        r = self.raw("alice")
        r.send(b"a APPEND INBOX (\\Seen) {%d+}\r\n%s\r\n" % (len(PLAIN2), PLAIN2))
        out = r.until("a")
        self.assertRegex(out[-1], rb"^a OK \[APPENDUID \d+ 1\] Append completed\.$")
        cur = os.path.join(self.maildir("alice"), "cur")
        files = os.listdir(cur)
        self.assertEqual(len(files), 1)
        self.assertTrue(files[0].endswith(":2,S"), files)
        with open(os.path.join(cur, files[0]), "rb") as f:
            self.assertEqual(f.read(), PLAIN2)
        # a synchronising literal waits for the continuation
        r.send(b"b APPEND INBOX {%d}\r\n" % len(PLAIN1))
        self.assertEqual(r.line(), b"+ OK")
        r.send(PLAIN1 + b"\r\n")
        self.assertRegex(r.until("b")[-1], rb"^b OK \[APPENDUID \d+ 2\]")
        # a zero-byte message is refused
        out = r.cmd("c", "APPEND INBOX {0+}\r\n")
        self.assertTrue(out[-1].startswith(b"c NO"), out)

    def test_fetch_multipart_part_by_part(self):
        self.deliver("alice", MULTIPART)
        c = self.imap("alice")
        c.select("INBOX")
        data = self.ok(c.fetch("1", "(BODYSTRUCTURE)"))
        bs = data[0]
        self.assertEqual(bs, (
            b'1 (BODYSTRUCTURE ((("text" "plain" ("charset" "utf-8") NIL NIL '
            b'"quoted-printable" 37 0 NIL NIL NIL NIL)("text" "html" '
            b'("charset" "utf-8") NIL NIL "7bit" 21 0 NIL NIL NIL NIL) '
            b'"alternative" ("boundary" "inner") NIL NIL NIL)("application" '
            b'"pdf" ("name" "report.pdf") NIL NIL "base64" 64 NIL '
            b'("attachment" ("filename" "report.pdf")) NIL NIL) "mixed" '
            b'("boundary" "outer") NIL NIL NIL))'))
        parts = {}
        for sec in ("1.1", "1.2", "2", "2.MIME", "1.1.MIME", "HEADER.FIELDS (SUBJECT)"):
            data = self.ok(c.fetch("1", "(BODY.PEEK[%s])" % sec))
            parts[sec] = data[0][1]
        self.assertEqual(parts["1.1"], b"Numbers are up: caf=C3=A9 sales grew.")
        self.assertEqual(parts["1.2"], b"<p>Numbers are up</p>")
        self.assertEqual(base64.b64decode(parts["2"])[:8], b"%PDF-1.4")
        self.assertEqual(parts["2.MIME"],
                         b"Content-Type: application/pdf; name=\"report.pdf\"\r\n"
                         b"Content-Disposition: attachment; filename=\"report.pdf\"\r\n"
                         b"Content-Transfer-Encoding: base64\r\n\r\n")
        self.assertEqual(parts["1.1.MIME"],
                         b"Content-Type: text/plain; charset=utf-8\r\n"
                         b"Content-Transfer-Encoding: quoted-printable\r\n\r\n")
        self.assertEqual(parts["HEADER.FIELDS (SUBJECT)"],
                         b"Subject: =?UTF-8?Q?Quarterly_r=C3=A9port?=\r\n\r\n")
        data = self.ok(c.fetch("1", "(BODY.PEEK[2]<0.8> FLAGS)"))
        self.assertEqual(data[0][0], b"1 (BODY[2]<0> {8}")
        self.assertEqual(data[0][1], b"JVBERi0x")
        data = self.ok(c.fetch("1", "(ENVELOPE)"))
        self.assertEqual(data[0], (
            b'1 (ENVELOPE ("Tue, 24 Nov 2026 10:00:00 +0100" '
            b'"=?UTF-8?Q?Quarterly_r=C3=A9port?=" (("Alice Example" NIL "alice" '
            b'"example.org")) (("Alice Example" NIL "alice" "example.org")) '
            b'(("Alice Example" NIL "alice" "example.org")) ((\"Bob\" NIL "bob" '
            b'"example.org")(NIL NIL "carol" "example.org")) ((NIL NIL "dave" '
            b'"example.org")) NIL NIL "<q3@example.org>"))'))
        # the PEEKs left \Seen alone; a plain BODY[] sets it
        self.assertEqual(self.ok(c.fetch("1", "(FLAGS)"))[0],
                         b"1 (FLAGS (\\Recent))")
        data = self.ok(c.fetch("1", "(BODY[TEXT])"))
        self.assertIn(b"\\Seen", data[0][0] + data[1])
        data = self.ok(c.fetch("1", "(RFC822)"))
        self.assertTrue(data[0][1].startswith(b"Return-Path: <sender@example.net>\r\n"))
        self.assertTrue(data[0][1].endswith(MULTIPART))

    def test_store_flags_and_keywords(self):
        for _ in range(3):
            self.deliver("alice", PLAIN1)
        c = self.imap("alice")
        c.select("INBOX")
        data = self.ok(c.store("1:2", "+FLAGS", "(\\Flagged $Important)"))
        self.assertEqual(data, [b"1 (FLAGS (\\Flagged \\Recent $Important))",
                                b"2 (FLAGS (\\Flagged \\Recent $Important))"])
        data = self.ok(c.store("2", "-FLAGS", "($Important)"))
        self.assertEqual(data, [b"2 (FLAGS (\\Flagged \\Recent))"])
        data = self.ok(c.store("3", "FLAGS.SILENT", "(\\Seen \\Answered)"))
        self.assertEqual(data, [None])
        data = self.ok(c.uid("STORE", "3", "FLAGS", "(\\Deleted)"))
        self.assertEqual(data, [b"3 (UID 3 FLAGS (\\Deleted \\Recent))"])
        with self.assertRaisesRegex(imaplib.IMAP4.error, r"BAD.*\\\\Recent"):
            c.store("1", "+FLAGS", "(\\Recent)")
        names = sorted(os.listdir(os.path.join(self.maildir("alice"), "cur")))
        infos = sorted(n.split(":2,")[1] for n in names)
        self.assertEqual(infos, ["F", "Fa", "T"])
        # keywords survive in the folder's keyword list
        with open(os.path.join(self.maildir("alice"), "loft-keywords")) as f:
            self.assertIn("$Important", f.read())

    def test_expunge_and_close(self):
        for _ in range(4):
            self.deliver("alice", PLAIN1)
        c = self.imap("alice")
        c.select("INBOX")
        c.store("2,4", "+FLAGS.SILENT", "(\\Deleted)")
        data = self.ok(c.expunge())
        self.assertEqual(data, [b"4", b"2"])
        self.assertEqual(self.ok(c.search(None, "ALL")), [b"1 2"])
        self.assertEqual(len(os.listdir(os.path.join(self.maildir("alice"), "cur"))), 2)
        c.store("1", "+FLAGS.SILENT", "(\\Deleted)")
        self.ok(c.close())
        c.select("INBOX")
        self.assertEqual(self.ok(c.uid("SEARCH", None, "ALL")), [b"3"])
        # UID EXPUNGE removes only the named \Deleted messages
        self.deliver("alice", PLAIN1)
        c.noop()
        c.uid("STORE", "3,5", "+FLAGS.SILENT", "(\\Deleted)")
        data = self.ok(c.uid("EXPUNGE", "5"))
        self.assertEqual(c.untagged_responses.pop("EXPUNGE", None) or data, [b"2"])
        self.assertEqual(self.ok(c.uid("SEARCH", None, "ALL")), [b"3"])

    def test_copy_and_move_with_copyuid(self):
        for _ in range(3):
            self.deliver("alice", PLAIN1)
        c = self.imap("alice")
        c.select("INBOX")
        c.store("1", "+FLAGS.SILENT", "(\\Flagged $Keep)")
        typ, data = c.copy("1:2", "Archive")
        self.assertEqual(typ, "OK")
        self.assertRegex(data[0], rb"^\[COPYUID \d+ 1:2 1:2\] Copy completed\.$")
        typ, data = c.copy("1", "Nowhere")
        self.assertEqual(typ, "NO")
        self.assertIn(b"[TRYCREATE]", data[0])
        typ, data = c._simple_command("MOVE", "3", "Trash")
        self.assertEqual(typ, "OK")
        self.assertEqual(c.untagged_responses.pop("EXPUNGE", None), [b"3"])
        ok_lines = c.untagged_responses.pop("OK", [])
        self.assertTrue(any(re.match(rb"\[COPYUID \d+ 3 1\]", l) for l in ok_lines),
                        ok_lines)
        self.assertEqual(self.ok(c.search(None, "ALL")), [b"1 2"])
        c.select("Archive")
        data = self.ok(c.fetch("1", "(FLAGS)"))
        self.assertEqual(data[0], b"1 (FLAGS (\\Flagged \\Recent $Keep))")
        c.select("Trash")
        self.assertEqual(self.ok(c.search(None, "ALL")), [b"1"])

    def test_search_keys(self):
        self.deliver("alice", PLAIN1)      # 1 lunch, Bob
        self.deliver("alice", PLAIN2)      # 2 budget, Carol
        self.deliver("alice", MULTIPART)   # 3 report, Alice, multipart
        c = self.imap("alice")
        c.select("INBOX")
        c.store("2", "+FLAGS.SILENT", "(\\Flagged)")
        cases = [
            (("ALL",), b"1 2 3"),
            (("FROM", "carol"), b"2"),
            (("SUBJECT", "lunch"), b"1"),
            (("TEXT", "sandwiches"), b"1"),
            (("FLAGGED",), b"2"),
            (("UNFLAGGED",), b"1 3"),
            (("OR", "FROM", "bob", "FROM", "carol"), b"1 2"),
            (("NOT", "(FROM bob)"), b"2 3"),
            (("SENTBEFORE", "24-Nov-2026"), b"1"),
            (("SENTSINCE", "25-Nov-2026"), b"2"),
            (("LARGER", "500"), b"3"),
            (("HEADER", "Message-ID", "q3@"), b"3"),
            (("2:3", "NOT", "FLAGGED"), b"3"),
            (("UID", "1,3"), b"1 3"),
        ]
        for crit, want in cases:
            self.assertEqual(c.search("UTF-8", *crit), ("OK", [want]), crit)
        # UTF-8 strings travel as literals: a RFC 2047 subject and a
        # quoted-printable body part, both decoded before matching
        r = self.raw("alice")
        r.cmd("s", "SELECT INBOX")
        word = "r\u00e9port".encode()
        r.send(b"t SEARCH CHARSET UTF-8 SUBJECT {%d+}\r\n%s\r\n" % (len(word), word))
        self.assertEqual(r.until("t")[-2:], [b"* SEARCH 3", b"t OK Search completed."])
        word = "caf\u00e9".encode()
        r.send(b"u SEARCH CHARSET UTF-8 BODY {%d+}\r\n%s\r\n" % (len(word), word))
        self.assertEqual(r.until("u")[-2:], [b"* SEARCH 3", b"u OK Search completed."])
        typ, data = c.search("KOI8-R", "ALL")
        self.assertEqual(typ, "NO")
        self.assertIn(b"[BADCHARSET", data[0])
        self.assertEqual(self.ok(c.uid("SEARCH", None, "FROM", "bob")), [b"1"])

    def test_unselect_check_noop(self):
        self.deliver("alice", PLAIN1)
        r = self.raw("alice")
        r.cmd("a", "SELECT INBOX")
        self.assertEqual(r.cmd("b", "CHECK")[-1], b"b OK Check completed.")
        self.assertEqual(r.cmd("c", "UNSELECT")[-1], b"c OK Unselect completed.")
        self.assertEqual(r.cmd("d", "FETCH 1 FLAGS")[-1], b"d BAD No mailbox selected.")
        self.assertEqual(r.cmd("e", "NOOP")[-1], b"e OK NOOP completed.")

    def test_enable(self):
        r = self.raw("alice")
        out = r.cmd("a", "ENABLE CONDSTORE")
        self.assertEqual(out, [b"* ENABLED", b"a OK Enabled."])

    def test_other_session_updates(self):
        self.deliver("alice", PLAIN1)
        self.deliver("alice", PLAIN1)
        a = self.raw("alice")
        a.cmd("a1", "SELECT INBOX")
        b = self.raw("alice")
        b.cmd("b1", "SELECT INBOX")
        b.cmd("b2", "STORE 1 +FLAGS (\\Deleted)")
        b.cmd("b3", "EXPUNGE")
        self.deliver("alice", PLAIN2)
        b.cmd("b4", "STORE 1 +FLAGS (\\Seen)")
        # a FETCH may tell flags and EXISTS, never EXPUNGE: the vanished
        # message keeps its number, so b's \Seen on UID 2 is "* 2 FETCH"
        out = a.cmd("a2", "FETCH 1:* (UID)")
        self.assertFalse(any(l.endswith(b" EXPUNGE") for l in out), out)
        self.assertIn(b"* 3 EXISTS", out)
        self.assertIn(b"* 2 FETCH (FLAGS (\\Seen \\Recent))", out)
        # a NOOP delivers the withheld EXPUNGE
        out = a.cmd("a3", "NOOP")
        self.assertEqual(out, [b"* 1 EXPUNGE", b"a3 OK NOOP completed."])
        out = a.cmd("a4", "FETCH 1:* (UID FLAGS)")
        self.assertEqual(out[0], b"* 1 FETCH (UID 2 FLAGS (\\Seen \\Recent))")
        self.assertTrue(out[1].startswith(b"* 2 FETCH (UID 3 FLAGS ("), out)

    def test_idle_woken_by_lmtp_delivery(self):
        self.deliver("alice", PLAIN1)
        r = self.raw("alice")
        r.cmd("a", "SELECT INBOX")
        r.send("b IDLE\r\n")
        self.assertEqual(r.line(), b"+ idling")
        t0 = time.monotonic()
        self.deliver("alice", PLAIN2)
        seen = []
        while b"* 2 EXISTS" not in seen:
            seen.append(r.line(timeout=5))
        self.assertLess(time.monotonic() - t0, 5)
        r.send("DONE\r\n")
        self.assertEqual(r.until("b")[-1], b"b OK Idle completed.")
        # anything but DONE ends IDLE with BAD
        r.send("c IDLE\r\n")
        self.assertEqual(r.line(), b"+ idling")
        r.send("FOO\r\n")
        self.assertEqual(r.until("c")[-1], b"c BAD Expected DONE.")

    def test_bounds(self):
        r = self.raw("alice")
        # BAD for syntax errors, and the session goes on
        self.assertTrue(r.cmd("a", "SELECT")[-1].startswith(b"a BAD"))
        self.assertTrue(r.cmd("b", 'LIST "" "a\\q"')[-1].startswith(b"b BAD"))
        # NUL inside a quoted string and inside a literal: BAD
        r.send(b'c SELECT "IN\x00BOX"\r\n')
        self.assertTrue(r.until("c")[-1].startswith(b"c BAD"))
        r.send(b"d SELECT {5}\r\n")
        self.assertEqual(r.line(), b"+ OK")
        r.send(b"IN\x00OX\r\n")
        self.assertTrue(r.until("d")[-1].startswith(b"d BAD"))
        # a literal over the limit is refused before it is sent, and the
        # next command is parsed normally (resynchronisation)
        r.send(b"e APPEND INBOX {999999999}\r\n")
        self.assertRegex(r.until("e")[-1], rb"^e (BAD|NO) .*[Ll]iteral too large")
        self.assertEqual(r.cmd("f", "NOOP")[-1], b"f OK NOOP completed.")

    def test_curl_imap_and_imaps(self):
        self.deliver("alice", PLAIN1)
        self.deliver("alice", MULTIPART)
        url = "imap://127.0.0.1:%d" % self.s.port("imap")
        out = self.curl("--user", "alice:secret-alice", url + "/")
        self.assertIn(b'* LIST (\\HasNoChildren) "/" INBOX', out)
        out = self.curl("--user", "alice:secret-alice", url + "/INBOX;UID=1")
        self.assertTrue(out.startswith(b"Return-Path: <sender@example.net>"), out)
        self.assertTrue(out.endswith(PLAIN1), out)
        out = self.curl("--user", "alice:secret-alice",
                        url + "/INBOX;UID=2;SECTION=1.1")
        self.assertEqual(out, b"Numbers are up: caf=C3=A9 sales grew.")
        out = self.curl("--user", "alice:secret-alice", url + "/INBOX?SUBJECT%20lunch")
        self.assertEqual(out.strip(), b"* SEARCH 1")
        surl = "imaps://127.0.0.1:%d" % self.s.port("imaps")
        out = self.curl("--user", "alice:secret-alice", surl + "/INBOX;UID=2")
        self.assertTrue(out.endswith(MULTIPART), out)
        out = self.curl("--user", "alice:secret-alice", "--ssl-reqd",
                        url + "/INBOX;UID=1")
        self.assertTrue(out.endswith(PLAIN1), out)
        out = self.curl("--user", "alice:secret-alice", url + "/INBOX",
                        "-X", "EXAMINE INBOX")
        self.assertIn(b"* 2 EXISTS", out)
        # curl's upload is APPEND
        msg = os.path.join(self.s.tmpdir, "upload.eml")
        with open(msg, "wb") as f:
            f.write(PLAIN2)
        self.curl("--user", "alice:secret-alice", "-T", msg, url + "/Sent")
        c = self.imap("alice")
        c.select("Sent")
        self.assertEqual(self.ok(c.fetch("1", "(BODY.PEEK[])"))[0][1], PLAIN2)


class AutologoutTest(ImapBase):
    extra = {"imap_idle_timeout": "2s"}

    def test_autologout(self):
        r = self.raw("alice")
        t0 = time.monotonic()
        self.assertEqual(r.line(timeout=10), b"* BYE Disconnected for inactivity.")
        self.assertTrue(r.closed())
        self.assertLess(time.monotonic() - t0, 8)


class MbsyncTest(ImapBase):
    """A real client round trip: mbsync pulls a mailbox down, then pushes
    flag changes, a moved message and a new folder back up."""

    def mbsync(self, conf, *args):
        # scripts/deps.sh installs isync: a missing mbsync is a failure,
        # not a reason to skip the real-client round trip
        self.assertIsNotNone(shutil.which("mbsync"), "mbsync (isync) is not installed")
        r = subprocess.run(["mbsync", "-c", conf] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout.decode(errors="replace"))

    def test_round_trip(self):
        self.reset("bob")
        for m in (PLAIN1, PLAIN2, MULTIPART):
            self.deliver("bob", m)
        c = self.imap("bob")
        self.ok(c.create("Lists"))
        c.logout()
        local = os.path.join(self.s.tmpdir, "mbsync-local")
        shutil.rmtree(local, ignore_errors=True)
        os.makedirs(local)
        conf = os.path.join(self.s.tmpdir, "mbsyncrc")
        with open(conf, "w") as f:
            f.write("""IMAPAccount loft
Host localhost
Port %d
User bob
Pass secret-bob
SSLType IMAPS
CertificateFile %s

IMAPStore remote
Account loft

MaildirStore local
Path %s/
Inbox %s/INBOX
SubFolders Verbatim

Channel sync
Far :remote:
Near :local:
Patterns *
Create Both
Expunge Both
SyncState *
""" % (self.s.port("imaps"), self.s.cert_path, local, local))
        self.mbsync(conf, "-a")
        inbox_new = os.listdir(os.path.join(local, "INBOX", "new")) + \
            os.listdir(os.path.join(local, "INBOX", "cur"))
        self.assertEqual(len(inbox_new), 3)
        for name in ("Lists", "Sent", "Trash"):
            self.assertTrue(os.path.isdir(os.path.join(local, name)), (name, os.listdir(local)))
        # local changes: flag one message, move one to Trash, a new folder
        cur = os.path.join(local, "INBOX", "cur")
        new = os.path.join(local, "INBOX", "new")
        files = sorted(os.listdir(new)) + sorted(os.listdir(cur))
        by_subject = {}
        for fn in files:
            p = os.path.join(new, fn) if os.path.exists(os.path.join(new, fn)) \
                else os.path.join(cur, fn)
            with open(p, "rb") as f:
                m = re.search(rb"^Subject: (.*)$", f.read(), re.M)
            by_subject[m.group(1).strip()] = p
        lunch = by_subject[b"lunch"]
        base = os.path.basename(lunch).split(":2,")[0]
        os.rename(lunch, os.path.join(cur, base + ":2,FS"))
        budget = by_subject[b"budget numbers"]
        bbase = os.path.basename(budget).split(":2,")[0]
        trash_cur = os.path.join(local, "Trash", "cur")
        # a moved message: a new copy (without the X-TUID) in Trash, the
        # original gone from INBOX
        with open(budget, "rb") as f:
            data = re.sub(rb"^X-TUID: .*\r?\n", b"", f.read(), flags=re.M)
        with open(os.path.join(trash_cur, "moved.1:2,S"), "wb") as f:
            f.write(data)
        os.unlink(budget)
        newf = os.path.join(local, "Projects")
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(newf, sub))
        with open(os.path.join(newf, "cur", "p.1:2,S"), "wb") as f:
            f.write(PLAIN1.replace(b"lunch", b"project"))
        self.mbsync(conf, "-a")
        # verified on the server side
        c = self.imap("bob")
        c.select("INBOX")
        self.assertEqual(self.ok(c.search(None, "ALL")), [b"1 2"])
        data = self.ok(c.search(None, "FLAGGED SUBJECT lunch"))
        self.assertEqual(data, [b"1"])
        self.assertEqual(self.ok(c.search(None, "SUBJECT budget")), [b""])
        c.select("Trash")
        self.assertEqual(self.ok(c.search(None, "SUBJECT budget")), [b"1"])
        c.select("Projects")
        self.assertEqual(self.ok(c.search(None, "SUBJECT project SEEN")), [b"1"])


class ResourceTest(ImapBase):
    """Bounds on what one command can make the worker hold (issue 18):
    FETCH of many BODY[] items is streamed, and the literals of one command
    are capped by imap_max_command_size with a clean BAD; an idle logged-in
    session's worker does not grow with the INBOX (issue 16)."""
    extra = {"message_size_limit": "8M", "imap_max_command_size": "9M"}

    def worker_pids(self):
        return {p for p in lofttest.pids_with_arg("loft-mailstore") if lofttest.pid_alive(p)}

    def session_worker(self, before):
        """The one mailstore process that appeared for our session."""
        deadline = time.time() + 5
        while time.time() < deadline:
            new = self.worker_pids() - before
            if len(new) == 1:
                return new.pop()
            time.sleep(0.05)
        self.fail("no single new mailstore worker: %r" % (self.worker_pids() - before))

    @staticmethod
    def kib(pid, key):
        return int(lofttest.proc_status(pid)[key].split()[0])

    def test_fetch_many_bodies_is_streamed(self):
        self.reset("erin")
        line = b"%s\r\n" % (b"0123456789abcdef" * 6)
        size = 3 << 20
        body = line * (size // len(line))
        msg = (b"From: a@example.org\r\nTo: erin@example.org\r\nSubject: big\r\n\r\n" +
               body)
        self.deliver("erin", msg)
        before = self.worker_pids()
        r = self.raw("erin")
        worker = self.session_worker(before)
        r.cmd("s", "SELECT INBOX")
        base = self.kib(worker, "VmHWM")
        items = 25
        r.send("f FETCH 1 (%s)\r\n" % " ".join(["BODY.PEEK[]"] * items))
        got, tail = 0, b""
        r.sock.settimeout(60)
        data = r.buf
        r.buf = b""
        while True:
            got += len(data)
            tail = (tail + data)[-200:]
            if re.search(rb"\r\nf OK [^\r\n]*\r\n$", tail):
                break
            data = r.sock.recv(1 << 20)
            self.assertTrue(data, "connection closed after %d bytes" % got)
        self.assertGreater(got, items * len(msg))
        peak = self.kib(worker, "VmHWM")
        # held whole, the reply alone would be items x 3 MiB = 75 MiB; streamed,
        # the worker holds the message, one rendered copy and the buffer
        self.assertLess((peak - base) * 1024, 6 * len(msg),
                        "worker peak RSS grew from %d to %d KiB" % (base, peak))
        self.assertTrue(r.cmd("n", "NOOP")[-1].startswith(b"n OK"))

    def fill_inbox(self, user, count):
        """count small messages written straight into new/ (no delivery
        needed: only their number matters here)."""
        self.reset(user)
        new = os.path.join(self.maildir(user), "new")
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(self.maildir(user), sub))
        for i in range(count):
            with open(os.path.join(new, "1700000000.M%dP1.test" % i), "wb") as f:
                f.write(b"From: a@example.org\r\nSubject: m%d\r\n\r\nbody\r\n" % i)
        for root, dirs, files in os.walk(os.path.join(self.mail, user)):
            for n in [root] + [os.path.join(root, x) for x in dirs + files]:
                os.lchown(n, self.uid, self.gid)

    def idle_worker_pss(self, user):
        """PSS KiB of the worker of a session of user after LOGIN and a
        NOOP (no SELECT)."""
        before = self.worker_pids()
        r = self.raw(user)
        worker = self.session_worker(before)
        self.assertTrue(r.cmd("n", "NOOP")[-1].startswith(b"n OK"))
        with open("/proc/%d/smaps_rollup" % worker) as f:
            pss = int(re.search(r"^Pss:\s+(\d+) kB", f.read(), re.M).group(1))
        r.cmd("z", "LOGOUT")
        return pss

    def test_idle_session_memory_flat_in_inbox_size(self):
        # issue 16: LOGIN used to open INBOX, so an idle session held
        # about 0.1-0.2 KB per message (600+ KiB more at 5,000 messages)
        self.fill_inbox("carol", 10)
        self.fill_inbox("dave", 5000)
        self.idle_worker_pss("carol")  # first logins: autocreate folders
        self.idle_worker_pss("dave")
        small = self.idle_worker_pss("carol")
        large = self.idle_worker_pss("dave")
        self.assertLess(abs(large - small), 100,
                        "idle worker PSS %d KiB at 10 messages, %d at 5,000"
                        % (small, large))
        # nothing was read or indexed: the messages are still unnumbered
        self.assertFalse(os.path.exists(os.path.join(self.maildir("dave"),
                                                     "loft-uidlist")))
        self.assertEqual(len(os.listdir(os.path.join(self.maildir("dave"), "new"))), 5000)

    def test_command_literals_bounded(self):
        r = self.raw("erin")
        r.cmd("s", "SELECT INBOX")
        chunk = b"x" * (5 << 20)
        # two 5 MiB literals: each under message_size_limit, together over
        # imap_max_command_size (9M)
        r.send(b"t SEARCH TEXT {%d+}\r\n" % len(chunk) + chunk +
               b" TEXT {%d+}\r\n" % len(chunk) + chunk + b"\r\n")
        out = r.until("t")
        self.assertRegex(out[-1], rb"^t BAD .*Literal too large")
        # the session goes on, and the skipped bytes were not run as commands
        self.assertTrue(r.cmd("n", "NOOP")[-1].startswith(b"n OK"))
        # a single literal as big as the limit allows still works
        big = b"y" * (8 << 20)
        r.send(b"u SEARCH TEXT {%d+}\r\n" % len(big) + big + b"\r\n")
        self.assertTrue(r.until("u")[-1].startswith(b"u OK"))


class PrivilegeTest(ImapBase):
    """As root: imap-login unprivileged and chrooted, the session worker
    as the mail user, neither with capabilities."""

    @classmethod
    def setUpClass(cls):
        if not lofttest.is_root():
            raise unittest.SkipTest("needs root")
        lofttest.ensure_system_users()
        super().setUpClass()

    def test_privileges_while_session_open(self):
        r = self.raw("alice")
        r.cmd("a", "SELECT INBOX")
        login = [p for p in lofttest.pids_with_arg("loft-imap-login")
                 if lofttest.pid_alive(p)]
        self.assertTrue(login)
        st = lofttest.proc_status(login[0])
        lu = pwd.getpwnam("loft-login")
        self.assertEqual(st["Uid"].split()[0], str(lu.pw_uid))
        self.assertEqual(int(st["CapEff"], 16), 0)
        self.assertEqual(int(st["CapBnd"], 16), 0)
        self.assertEqual(st["NoNewPrivs"], "1")
        self.assertNotEqual(os.readlink("/proc/%d/root" % login[0]), "/")
        workers = [p for p in lofttest.pids_with_arg("loft-mailstore")
                   if lofttest.pid_alive(p) and
                   lofttest.proc_status(p)["Uid"].split()[0] == str(MAIL_UID)]
        self.assertTrue(workers, "no IMAP worker running as the mail user")
        st = lofttest.proc_status(workers[0])
        self.assertEqual(st["Uid"].split(), [str(MAIL_UID)] * 4)
        self.assertEqual(st["Gid"].split(), [str(MAIL_GID)] * 4)
        self.assertEqual(int(st["CapEff"], 16), 0)
        self.assertEqual(int(st["CapBnd"], 16), 0)
        self.assertEqual(st["NoNewPrivs"], "1")


if __name__ == "__main__":
    unittest.main()
