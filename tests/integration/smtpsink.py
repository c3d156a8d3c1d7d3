"""smtpsink: an SMTP server for outbound-mail tests (standard library only).

It listens on a loopback address, speaks enough ESMTP for an MTA client
(EHLO/HELO, optional STARTTLS with a given certificate or a broken one
(tls_fail), SIZE, 8BITMIME,
MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT) and records what
arrives. Replies can be scripted per test:

    sink = SmtpSink(host="127.0.0.1", port=0, name="mx1",
                    tls=(cert, key))          # offer STARTTLS
    sink.rcpt_replies["bad@x.test"] = "550 5.1.1 No such user"
    sink.data_reply = "451 4.3.0 Try again later"
    sink.start(); ...; sink.stop()

sink.messages: one dict per accepted DATA: mail_from, mail_params, rcpts,
data (bytes, CRLF, unstuffed, without the final "."), raw (the DATA bytes
exactly as they came, stuffed, with the final "."), tls, conn (connection
number). sink.connections: one dict per connection: tls, commands.
wait_messages(n) polls until n messages arrived. A stopped sink can be
started again (same host and port): "the MX comes back".
"""

import socket
import ssl
import threading
import time


class _Conn:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def line(self, limit=65536):
        while b"\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                return None
            self.buf += data
            if len(self.buf) > limit:
                return None
        line, _, self.buf = self.buf.partition(b"\n")
        return line + b"\n"

    def send(self, text):
        self.sock.sendall(text.encode() + b"\r\n")


class SmtpSink:
    def __init__(self, host="127.0.0.1", port=0, name="sink", tls=None):
        self.host = host
        self.port = port
        self.name = name
        self.tls = tls  # (certfile, keyfile) to offer STARTTLS
        self.greeting = "220 %s ESMTP smtpsink" % name
        self.ehlo_reply = None  # e.g. "421 4.3.2 busy": refuse EHLO
        self.mail_reply = "250 2.1.0 Ok"
        self.rcpt_replies = {}  # address -> reply; default 250
        self.data_reply = "250 2.0.0 Ok: queued by %s" % name
        self.tls_fail = False  # answer 220 to STARTTLS, then no handshake
        self.size = 10485760
        self.eightbitmime = True
        self.messages = []
        self.connections = []
        self.lock = threading.Lock()
        self.lsock = None
        self.threads = []
        self.stopping = False

    def reset(self):
        """Forget what arrived and go back to the default replies."""
        with self.lock:
            self.messages = []
            self.connections = []
        self.greeting = "220 %s ESMTP smtpsink" % self.name
        self.ehlo_reply = None
        self.mail_reply = "250 2.1.0 Ok"
        self.rcpt_replies = {}
        self.data_reply = "250 2.0.0 Ok: queued by %s" % self.name
        self.tls_fail = False

    def start(self):
        self.stopping = False
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self.lsock = socket.socket(family, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind((self.host, self.port))
        self.port = self.lsock.getsockname()[1]
        self.lsock.listen(16)
        t = threading.Thread(target=self._accept, daemon=True)
        t.start()
        self.threads.append(t)
        return self

    def stop(self):
        self.stopping = True
        if self.lsock is not None:
            try:
                self.lsock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.lsock.close()
            self.lsock = None
        for t in self.threads:
            t.join(timeout=5)

    def wait_messages(self, n, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                if len(self.messages) >= n:
                    return list(self.messages)
            time.sleep(0.02)
        raise AssertionError("%s: %d of %d messages after %ss" %
                             (self.name, len(self.messages), n, timeout))

    def _accept(self):
        while not self.stopping:
            try:
                sock, _ = self.lsock.accept()
            except OSError:
                return
            sock.settimeout(30)
            t = threading.Thread(target=self._session, args=(sock,), daemon=True)
            t.start()
            self.threads.append(t)

    def _ehlo_lines(self, helo, tls_on):
        lines = ["%s hello %s" % (self.name, helo), "PIPELINING"]
        if self.size:
            lines.append("SIZE %d" % self.size)
        if self.eightbitmime:
            lines.append("8BITMIME")
        if self.tls and not tls_on:
            lines.append("STARTTLS")
        lines.append("ENHANCEDSTATUSCODES")
        return ["250-" + x for x in lines[:-1]] + ["250 " + lines[-1]]

    def _session(self, sock):
        rec = {"tls": False, "commands": []}
        with self.lock:
            self.connections.append(rec)
            conn_no = len(self.connections) - 1
        c = _Conn(sock)
        try:
            self._dialogue(c, rec, conn_no)
        except (OSError, ssl.SSLError):
            pass
        finally:
            try:
                c.sock.close()
            except OSError:
                pass

    def _dialogue(self, c, rec, conn_no):
        c.send(self.greeting)
        if not self.greeting.startswith("2"):
            return
        mail = None
        while True:
            raw = c.line()
            if raw is None:
                return
            cmd = raw.decode("utf-8", "replace").rstrip("\r\n")
            rec["commands"].append(cmd)
            verb = cmd.split(" ", 1)[0].upper()
            arg = cmd[len(verb) + 1:]
            if verb in ("EHLO", "HELO"):
                if self.ehlo_reply:
                    c.send(self.ehlo_reply)
                elif verb == "HELO":
                    c.send("250 %s" % self.name)
                else:
                    for ln in self._ehlo_lines(arg, rec["tls"]):
                        c.send(ln)
                mail = None
            elif verb == "STARTTLS" and self.tls and not rec["tls"]:
                c.send("220 2.0.0 Ready to start TLS")
                if self.tls_fail:
                    c.sock.sendall(b"this is no TLS handshake\r\n")
                    return
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                ctx.load_cert_chain(*self.tls)
                c.sock = ctx.wrap_socket(c.sock, server_side=True)
                c.buf = b""  # nothing from before the handshake counts
                rec["tls"] = True
            elif verb == "MAIL":
                if not self.mail_reply.startswith("2"):
                    c.send(self.mail_reply)
                    continue
                path, _, params = arg[5:].partition(" ") if arg[:5].upper() == "FROM:" \
                    else ("", "", "")
                mail = {"mail_from": path.strip("<>"), "mail_params": params,
                        "rcpts": [], "tls": rec["tls"], "conn": conn_no}
                c.send(self.mail_reply)
            elif verb == "RCPT":
                if mail is None:
                    c.send("503 5.5.1 MAIL first")
                    continue
                addr = arg[3:].strip().strip("<>") if arg[:3].upper() == "TO:" else ""
                reply = self.rcpt_replies.get(addr, "250 2.1.5 Ok")
                if reply.startswith("2"):
                    mail["rcpts"].append(addr)
                c.send(reply)
            elif verb == "DATA":
                if mail is None or not mail["rcpts"]:
                    c.send("503 5.5.1 RCPT first")
                    continue
                c.send("354 End data with <CR><LF>.<CR><LF>")
                data = raw = b""
                while True:
                    ln = c.line(limit=1 << 26)
                    if ln is None:
                        return
                    raw += ln
                    if ln == b".\r\n":
                        break
                    if ln.startswith(b"."):
                        ln = ln[1:]
                    data += ln
                mail["data"] = data
                mail["raw"] = raw
                if self.data_reply.startswith("2"):
                    with self.lock:
                        self.messages.append(mail)
                c.send(self.data_reply)
                mail = None
            elif verb == "RSET":
                mail = None
                c.send("250 2.0.0 Ok")
            elif verb == "NOOP":
                c.send("250 2.0.0 Ok")
            elif verb == "QUIT":
                c.send("221 2.0.0 Bye")
                return
            else:
                c.send("502 5.5.2 Command not recognised")
