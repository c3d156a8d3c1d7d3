"""Integration tests for loft-relay (docs/relay.md) on its own: a real
loft-master runs loft-relay (the other daemons are loft-testsvc stand-ins,
so these tests depend on nothing but the relay); the test speaks the RELAY
protocol to base_dir/relay like loft-queue, handing over spool files written
by tests/support/loft-spoolwrite (the queue's own writer code). DNS answers
come from dnsstub.py, the remote MX hosts are smtpsink.py servers on
loopback addresses sharing smtp_remote_port."""

import os
import socket
import subprocess
import unittest

import lofttest
from dnsstub import DnsStub
from smtpsink import SmtpSink

RELAY = os.path.join(lofttest.BIN_DIR, "loft-relay")
SPOOLWRITE = os.path.join(lofttest.BIN_DIR, "loft-spoolwrite")
TESTSVC = os.path.join(lofttest.BIN_DIR, "loft-testsvc")

UNESCAPE = {"t": "\t", "n": "\n", "r": "\r", "0": "\0", "\\": "\\"}


def wire_escape(s):
    """One lib/core/wire.h field, escaped."""
    for raw, esc in (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"),
                     ("\0", "\\0")):
        s = s.replace(raw, esc)
    return s


def wire_fields(line):
    """Split and unescape one lib/core/wire.h line (without its LF)."""
    out = []
    for raw in line.split("\t"):
        s, i = "", 0
        while i < len(raw):
            if raw[i] == "\\" and i + 1 < len(raw):
                s += UNESCAPE.get(raw[i + 1], "?")
                i += 2
            else:
                s += raw[i]
                i += 1
        out.append(s)
    return out


def start_suite(extra):
    """A suite whose loft-relay is real and every other daemon a stub."""
    s = lofttest.Suite(protocols=["smtp"], extra=extra)
    d = os.path.join(s.tmpdir, "libexec")
    os.makedirs(d)
    for exe, _ in lofttest.SERVICES.values():
        os.symlink(RELAY if exe == "loft-relay" else TESTSVC, os.path.join(d, exe))
    s.write_config(libexec_dir=d)
    s.spool = os.path.join(s.tmpdir, "spool")
    os.makedirs(s.spool)
    try:
        s.start()
    except Exception:
        s.cleanup()
        raise
    return s


def spool(suite, sender, rcpts, body):
    """Write a spool file; returns (queue id, path)."""
    r = subprocess.run([SPOOLWRITE, suite.spool, sender] + list(rcpts),
                       input=body, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       check=True)
    qid, path = r.stdout.decode().strip().split("\t")
    return qid, path


def relay_job(suite, domain, msgs, timeout=60):
    """Run one RELAY job. msgs: [(qid, sender, rcpts, path)]. Returns
    {(qid, index): (status, text)} and checks DONE ends it."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.connect(os.path.join(suite.base_dir, "relay"))
    f = sock.makefile("rb")
    try:
        sock.sendall(b"VERSION\tRELAY\t1\t0\n")
        assert f.readline() == b"VERSION\tRELAY\t1\t0\n"
        sock.sendall(("JOB\t%s\n" % domain).encode())
        for qid, sender, rcpts, path in msgs:
            fd = os.open(path, os.O_RDONLY)
            try:
                line = "\t".join(wire_escape(x) for x in ["MSG", qid, sender] + list(rcpts))
                line += "\n"
                socket.send_fds(sock, [line.encode()], [fd])
            finally:
                os.close(fd)
        sock.sendall(b"END\n")
        results, done = {}, False
        for raw in f:
            fl = wire_fields(raw.decode().rstrip("\n"))
            if fl == ["DONE"]:
                done = True
                break
            assert fl[0] == "RCPT" and len(fl) == 5, fl
            results[(fl[1], int(fl[2]))] = (fl[3], fl[4])
        assert done, "no DONE from the relay"
        assert f.read() == b"", "bytes after DONE"
        return results
    finally:
        f.close()
        sock.close()


BODY = b"From: a@sender.test\r\nSubject: relay test\r\n\r\nHello.\r\n.leading dot\r\n"


def skip_unless_built(tc):
    for p in (RELAY, SPOOLWRITE, TESTSVC):
        if not os.path.exists(p):
            tc.skipTest("%s not built" % os.path.basename(p))


class RelayMxTest(unittest.TestCase):
    """Routing by MX records: one suite, two sinks on 127.0.0.1 and
    127.0.0.2 at the same port, nothing listening on 127.0.0.3."""

    @classmethod
    def setUpClass(cls):
        cls.suite, cls.sinks = None, []
        cls.port = lofttest.free_port()
        cls.dns = DnsStub({
            "two.test": {"MX": [(20, "mx2.two.test"), (10, "mx1.two.test")]},
            "mx1.two.test": {"A": ["127.0.0.1"]},
            "mx2.two.test": {"A": ["127.0.0.2"]},
            "down.test": {"MX": [(10, "mxdown.down.test"), (20, "mx2.two.test")]},
            "mxdown.down.test": {"A": ["127.0.0.3"]},
            "amx.test": {"A": ["127.0.0.2"]},
            "nullmx.test": {"MX": [(0, "")]},
            "broken.test": "SERVFAIL",
        }).start()
        if not all(os.path.exists(p) for p in (RELAY, SPOOLWRITE, TESTSVC)):
            return  # each test skips
        try:
            cls.suite = start_suite({
                "smtp_dns_server": cls.dns.server,
                "smtp_remote_port": cls.port,
                "myhostname": "relay.loft.test",
            })
            tls = (cls.suite.cert_path, cls.suite.extra["ssl_key"])
            cls.mx1 = SmtpSink("127.0.0.1", cls.port, "mx1.two.test", tls=tls).start()
            cls.sinks.append(cls.mx1)
            cls.mx2 = SmtpSink("127.0.0.2", cls.port, "mx2.two.test").start()
            cls.sinks.append(cls.mx2)
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for s in cls.sinks:
            s.stop()
        cls.dns.stop()
        if cls.suite is not None:
            cls.suite.cleanup()

    def setUp(self):
        skip_unless_built(self)
        for s in self.sinks:
            s.reset()

    def test_preferred_mx_gets_the_mail(self):
        qid, path = spool(self.suite, "a@sender.test", ["u1@two.test", "u2@two.test"], BODY)
        res = relay_job(self.suite, "two.test",
                        [(qid, "a@sender.test", ["u1@two.test", "u2@two.test"], path)])
        self.assertEqual(res[(qid, 0)][0], "ok", res)
        self.assertEqual(res[(qid, 1)][0], "ok", res)
        self.assertRegex(res[(qid, 0)][1],
                         r"^mx1\.two\.test\[127\.0\.0\.1\] said: 250 2\.0\.0 Ok")
        msgs = self.mx1.wait_messages(1)
        self.assertEqual(self.mx2.messages, [])
        m = msgs[0]
        self.assertEqual(m["mail_from"], "a@sender.test")
        self.assertEqual(m["rcpts"], ["u1@two.test", "u2@two.test"])
        self.assertEqual(m["data"], BODY)  # dot-stuffing undone by the sink
        self.assertIn("SIZE=%d" % len(BODY), m["mail_params"])
        self.assertNotIn("BODY=8BITMIME", m["mail_params"])
        ehlos = [c for c in self.mx1.connections[0]["commands"] if c.startswith("EHLO")]
        self.assertEqual(ehlos[0], "EHLO relay.loft.test")

    def test_starttls_used_when_offered(self):
        qid, path = spool(self.suite, "a@sender.test", ["tls@two.test"], BODY)
        res = relay_job(self.suite, "two.test", [(qid, "a@sender.test", ["tls@two.test"], path)])
        self.assertEqual(res[(qid, 0)][0], "ok", res)
        m = self.mx1.wait_messages(1)[0]
        self.assertTrue(m["tls"])
        cmds = self.mx1.connections[0]["commands"]
        self.assertEqual(cmds[:2], ["EHLO relay.loft.test", "STARTTLS"])
        self.assertEqual(cmds[2], "EHLO relay.loft.test")  # again, inside TLS

    def test_tls_handshake_failure_retries_plaintext(self):
        self.mx1.tls_fail = True
        qid, path = spool(self.suite, "a@sender.test", ["u@two.test"], BODY)
        res = relay_job(self.suite, "two.test", [(qid, "a@sender.test", ["u@two.test"], path)])
        self.assertEqual(res[(qid, 0)][0], "ok", res)
        m = self.mx1.wait_messages(1)[0]
        self.assertFalse(m["tls"])
        self.assertEqual(len(self.mx1.connections), 2)
        self.assertIn("STARTTLS", self.mx1.connections[0]["commands"])
        self.assertNotIn("STARTTLS", self.mx1.connections[1]["commands"])
        self.assertEqual(self.mx2.messages, [])

    def test_no_starttls_offered_plaintext(self):
        body = b"Subject: 8bit\r\n\r\ncaf\xc3\xa9\r\n"
        qid, path = spool(self.suite, "", ["u@amx.test"], body)
        res = relay_job(self.suite, "amx.test", [(qid, "", ["u@amx.test"], path)])
        self.assertEqual(res[(qid, 0)][0], "ok", res)
        m = self.mx2.wait_messages(1)[0]
        self.assertFalse(m["tls"])
        self.assertEqual(m["mail_from"], "")  # the null sender
        self.assertIn("BODY=8BITMIME", m["mail_params"])
        self.assertEqual(m["data"], body)

    def test_preferred_down_next_mx(self):
        qid, path = spool(self.suite, "a@sender.test", ["u@down.test"], BODY)
        res = relay_job(self.suite, "down.test", [(qid, "a@sender.test", ["u@down.test"], path)])
        self.assertEqual(res[(qid, 0)][0], "ok", res)
        self.assertTrue(res[(qid, 0)][1].startswith("mx2.two.test[127.0.0.2] said: 250"))
        self.assertEqual(len(self.mx2.wait_messages(1)), 1)

    def test_no_mx_uses_a_record(self):
        qid, path = spool(self.suite, "a@sender.test", ["u@amx.test"], BODY)
        res = relay_job(self.suite, "amx.test", [(qid, "a@sender.test", ["u@amx.test"], path)])
        self.assertEqual(res[(qid, 0)][0], "ok", res)
        self.assertEqual(self.mx2.wait_messages(1)[0]["rcpts"], ["u@amx.test"])
        self.assertEqual(self.mx1.messages, [])

    def test_4xx_at_data_is_temp_with_text(self):
        self.mx1.data_reply = "451 4.3.0 Try again later"
        qid, path = spool(self.suite, "a@sender.test", ["u@two.test"], BODY)
        res = relay_job(self.suite, "two.test", [(qid, "a@sender.test", ["u@two.test"], path)])
        self.assertEqual(res[(qid, 0)],
                         ("temp", "mx1.two.test[127.0.0.1] said: 451 4.3.0 Try again later"))
        self.assertEqual(self.mx2.messages, [])  # a reply to the dot is final

    def test_5xx_at_rcpt_is_perm_for_that_recipient_only(self):
        self.mx1.rcpt_replies["nobody@two.test"] = "550 5.1.1 <nobody@two.test>: no such user"
        self.mx1.rcpt_replies["later@two.test"] = "452 4.2.2 Mailbox full"
        rcpts = ["good@two.test", "nobody@two.test", "later@two.test"]
        qid, path = spool(self.suite, "a@sender.test", rcpts, BODY)
        res = relay_job(self.suite, "two.test", [(qid, "a@sender.test", rcpts, path)])
        self.assertEqual(res[(qid, 0)][0], "ok")
        self.assertEqual(res[(qid, 1)], ("perm", "mx1.two.test[127.0.0.1] said: "
                                         "550 5.1.1 <nobody@two.test>: no such user"))
        self.assertEqual(res[(qid, 2)][0], "temp")
        self.assertIn("452 4.2.2 Mailbox full", res[(qid, 2)][1])
        self.assertEqual(self.mx1.wait_messages(1)[0]["rcpts"], ["good@two.test"])

    def test_three_messages_one_connection(self):
        msgs = []
        for i in range(3):
            rc = ["m%d@two.test" % i]
            if i == 1:
                self.mx1.rcpt_replies[rc[0]] = "550 5.1.1 no"
            qid, path = spool(self.suite, "a@sender.test", rc, BODY + b"n%d\r\n" % i)
            msgs.append((qid, "a@sender.test", rc, path))
        res = relay_job(self.suite, "two.test", msgs)
        self.assertEqual([res[(m[0], 0)][0] for m in msgs], ["ok", "perm", "ok"])
        got = self.mx1.wait_messages(2)
        self.assertEqual([m["rcpts"] for m in got], [["m0@two.test"], ["m2@two.test"]])
        self.assertEqual(len(self.mx1.connections), 1)
        self.assertEqual(self.mx1.connections[0]["commands"][-1], "QUIT")

    def test_dns_errors(self):
        qid, path = spool(self.suite, "a@sender.test", ["u@nx.test"], BODY)
        res = relay_job(self.suite, "nx.test", [(qid, "a@sender.test", ["u@nx.test"], path)])
        self.assertEqual(res[(qid, 0)][0], "perm")
        self.assertTrue(res[(qid, 0)][1].startswith("5.1.2 Host or domain name not found"))
        qid, path = spool(self.suite, "a@sender.test", ["u@nullmx.test"], BODY)
        res = relay_job(self.suite, "nullmx.test",
                        [(qid, "a@sender.test", ["u@nullmx.test"], path)])
        self.assertEqual(res[(qid, 0)][0], "perm")
        self.assertTrue(res[(qid, 0)][1].startswith("5.1.10 "))
        qid, path = spool(self.suite, "a@sender.test", ["u@broken.test"], BODY)
        res = relay_job(self.suite, "broken.test",
                        [(qid, "a@sender.test", ["u@broken.test"], path)])
        self.assertEqual(res[(qid, 0)][0], "temp")
        self.assertTrue(res[(qid, 0)][1].startswith("4.4.3 "))
        self.assertEqual(self.mx1.connections + self.mx2.connections, [])


class RelayLoopTest(unittest.TestCase):
    """The relay never delivers to itself (docs/relay.md, as Postfix's "mail
    for X loops back to myself"): our SMTP listener is 127.0.0.1 on the very
    port the relay connects to; a sink at 127.0.0.2 is another host on that
    port, one at 127.0.0.3 greets with our own host name."""

    @classmethod
    def setUpClass(cls):
        cls.suite, cls.sinks = None, []
        cls.port = lofttest.free_port()
        cls.dns = DnsStub({
            "loop.test": {"MX": [(10, "us.loop.test")]},
            "us.loop.test": {"A": ["127.0.0.1"]},
            "backup.test": {"MX": [(20, "us.loop.test"), (10, "other.loop.test")]},
            "other.loop.test": {"A": ["127.0.0.2"]},
            "primary.test": {"MX": [(10, "us.loop.test"), (20, "other.loop.test")]},
            "tie.test": {"MX": [(10, "us.loop.test"), (10, "other.loop.test")]},
            "ehlo.test": {"MX": [(10, "twin.loop.test")]},
            "twin.loop.test": {"A": ["127.0.0.3"]},
        }).start()
        if not all(os.path.exists(p) for p in (RELAY, SPOOLWRITE, TESTSVC)):
            return  # each test skips
        try:
            cls.suite = start_suite({
                "smtp_dns_server": cls.dns.server,
                "smtp_remote_port": cls.port,
                "smtp_listen": "127.0.0.1:%d" % cls.port,
                "myhostname": "relay.loft.test",
            })
            cls.other = SmtpSink("127.0.0.2", cls.port, "other.loop.test").start()
            cls.sinks.append(cls.other)
            cls.twin = SmtpSink("127.0.0.3", cls.port, "relay.loft.test").start()
            cls.sinks.append(cls.twin)
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for s in cls.sinks:
            s.stop()
        cls.dns.stop()
        if cls.suite is not None:
            cls.suite.cleanup()

    def setUp(self):
        skip_unless_built(self)
        for s in self.sinks:
            s.reset()

    def job(self, domain):
        qid, path = spool(self.suite, "a@sender.test", ["u@" + domain], BODY)
        return relay_job(self.suite, domain, [(qid, "a@sender.test", ["u@" + domain], path)])[
            (qid, 0)]

    def assert_loops(self, domain):
        self.assertEqual(self.job(domain),
                         ("perm", "5.4.6 mail for %s loops back to myself" % domain))

    def test_only_mx_is_us(self):
        self.assert_loops("loop.test")
        self.assertEqual(self.other.connections + self.twin.connections, [])

    def test_we_are_a_backup_mx(self):
        st, text = self.job("backup.test")
        self.assertEqual(st, "ok", text)
        self.assertTrue(text.startswith("other.loop.test[127.0.0.2] said: 250"), text)
        self.assertEqual(len(self.other.wait_messages(1)), 1)

    def test_we_are_the_best_mx(self):
        # the hosts after us are less preferred: Postfix does not use them
        self.assert_loops("primary.test")
        self.assert_loops("tie.test")
        self.assertEqual(self.other.connections, [])

    def test_server_greets_with_our_name(self):
        self.assert_loops("ehlo.test")
        self.assertEqual(self.twin.messages, [])
        self.assertEqual(len(self.twin.connections), 1)
        cmds = self.twin.connections[0]["commands"]
        self.assertEqual(cmds[0], "EHLO relay.loft.test")
        self.assertNotIn("MAIL", " ".join(cmds))

    def test_relay_log_names_the_loop(self):
        start = len(self.suite.log())
        self.assert_loops("ehlo.test")
        self.suite.wait_log(r"127\.0\.0\.3\]? replied to EHLO with my own hostname "
                            r"relay\.loft\.test", start=start)


class RelayWildcardLoopTest(unittest.TestCase):
    """Listening on *:port makes every local address ours, 127.0.0.9 too."""

    def setUp(self):
        skip_unless_built(self)
        port = lofttest.free_port()
        self.dns = DnsStub({"wild.test": {"A": ["127.0.0.9"]}}).start()
        self.addCleanup(self.dns.stop)
        self.suite = start_suite({"smtp_dns_server": self.dns.server,
                                  "smtp_remote_port": port,
                                  "smtp_listen": "*:%d" % port})
        self.addCleanup(self.suite.cleanup)

    def test_any_local_address_is_us(self):
        qid, path = spool(self.suite, "a@sender.test", ["u@wild.test"], BODY)
        res = relay_job(self.suite, "wild.test",
                        [(qid, "a@sender.test", ["u@wild.test"], path)])
        self.assertEqual(res[(qid, 0)],
                         ("perm", "5.4.6 mail for wild.test loops back to myself"))


class RelayHostTest(unittest.TestCase):
    """relayhost = [127.0.0.1]:port sends everything there, no DNS at all."""

    def setUp(self):
        skip_unless_built(self)
        self.dns = DnsStub({}).start()
        self.addCleanup(self.dns.stop)
        self.sink = SmtpSink("127.0.0.1", 0, "smarthost").start()
        self.addCleanup(self.sink.stop)
        self.suite = start_suite({
            "relayhost": "[127.0.0.1]:%d" % self.sink.port,
            "smtp_dns_server": self.dns.server,
            "smtp_remote_port": lofttest.free_port(),  # nothing there
        })
        self.addCleanup(self.suite.cleanup)

    def test_relayhost_bypasses_dns(self):
        qid, path = spool(self.suite, "a@sender.test", ["x@elsewhere.test"], BODY)
        res = relay_job(self.suite, "elsewhere.test",
                        [(qid, "a@sender.test", ["x@elsewhere.test"], path)])
        self.assertEqual(res[(qid, 0)][0], "ok", res)
        self.assertTrue(res[(qid, 0)][1].startswith("127.0.0.1[127.0.0.1] said: 250"))
        self.assertEqual(self.sink.wait_messages(1)[0]["rcpts"], ["x@elsewhere.test"])
        self.assertEqual(self.dns.queries, [])


class RelayProtocolTest(unittest.TestCase):
    """Bad RELAY input: no DONE, the connection is dropped; a later job
    still works (the listener survives)."""

    def setUp(self):
        skip_unless_built(self)
        self.suite = start_suite({"relayhost": "[127.0.0.1]:%d" % lofttest.free_port()})
        self.addCleanup(self.suite.cleanup)

    def _talk(self, data, fds=()):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(30)
        sock.connect(os.path.join(self.suite.base_dir, "relay"))
        with sock:
            sock.sendall(b"VERSION\tRELAY\t1\t0\n")
            if fds:
                socket.send_fds(sock, [data], list(fds))
            else:
                sock.sendall(data)
            out = b""
            while True:
                d = sock.recv(4096)
                if not d:
                    return out
                out += d

    def test_privileges(self):
        pid = self.suite.service("relay")["pid"]
        # the drop happens after the master reports the process running
        self.suite.wait_log(r"relay\[%d\]: serving" % pid)
        st = lofttest.proc_status(pid)
        self.assertEqual(st["NoNewPrivs"], "1")
        self.assertEqual(int(st["CapEff"], 16), 0)
        if lofttest.is_root():
            import pwd
            pw = pwd.getpwnam("loft-smtp")
            self.assertEqual(st["Uid"].split(), [str(pw.pw_uid)] * 4)
            self.assertEqual(st["Gid"].split(), [str(pw.pw_gid)] * 4)
            self.assertEqual(int(st["CapBnd"], 16), 0)

    def test_bad_input_dropped(self):
        self.assertEqual(self._talk(b"JOB\tx.test\nMSG\tid\ts\tr@x.test\nEND\n"),
                         b"VERSION\tRELAY\t1\t0\n")  # MSG without an fd
        self.assertEqual(self._talk(b"HELLO\n"), b"VERSION\tRELAY\t1\t0\n")
        # a refused connection: the relay's one address is closed
        qid, path = spool(self.suite, "a@s.test", ["r@x.test"], BODY)
        res = relay_job(self.suite, "x.test", [(qid, "a@s.test", ["r@x.test"], path)])
        self.assertEqual(res[(qid, 0)][0], "temp")
        self.assertTrue(res[(qid, 0)][1].startswith("4.4.1 connect to 127.0.0.1[127.0.0.1]"),
                        res)
        # an envelope line trying to smuggle a command; a recipient outside
        # the job's domain
        res = relay_job(self.suite, "x.test",
                        [(qid, "a@s.test", ["r@x.test\r\nRSET", "r@y.test"], path)])
        self.assertEqual(res[(qid, 0)], ("perm", "5.1.3 bad recipient address"))
        self.assertEqual(res[(qid, 1)][0], "temp")


if __name__ == "__main__":
    unittest.main()
