"""dnsstub: a tiny authoritative DNS responder for outbound-mail tests.

It answers UDP queries on 127.0.0.1:<free port> from a dict, so loft-relay's
MX/A/AAAA lookups need no network (point smtp_dns_server at stub.server):

    stub = DnsStub({
        "example.test": {"MX": [(10, "mx1.example.test")]},
        "mx1.example.test": {"A": ["127.0.0.1"], "AAAA": ["::1"]},
        "broken.test": "SERVFAIL",
    })
    stub.start(); ...; stub.stop()

A name missing from the dict is NXDOMAIN; a known name without records of
the asked type is NOERROR with no answers; the value "SERVFAIL" fails every
query for the name. An MX host "" is the null MX ("."). Every query is
recorded in stub.queries as (name, type name). Standard library only; the
wire format is written with struct (RFC 1035).
"""

import socket
import struct
import threading

TYPES = {1: "A", 28: "AAAA", 15: "MX"}
RCODE_NOERROR, RCODE_SERVFAIL, RCODE_NXDOMAIN, RCODE_NOTIMP = 0, 2, 3, 4


def encode_name(name):
    out = b""
    for label in name.strip(".").split("."):
        if label:
            raw = label.encode("ascii")
            out += struct.pack("!B", len(raw)) + raw
    return out + b"\0"


def parse_question(data):
    """(id, flags, name, qtype, end offset of the question) or None."""
    if len(data) < 12:
        return None
    qid, flags, qd = struct.unpack("!HHH", data[:6])
    if qd != 1 or flags & 0x8000:
        return None
    pos, labels = 12, []
    while True:
        if pos >= len(data):
            return None
        n = data[pos]
        if n == 0:
            pos += 1
            break
        if n & 0xC0:
            return None  # queries carry no compression
        labels.append(data[pos + 1:pos + 1 + n].decode("ascii", "replace"))
        pos += 1 + n
    if pos + 4 > len(data):
        return None
    qtype, _ = struct.unpack("!HH", data[pos:pos + 4])
    return qid, flags, ".".join(labels).lower(), qtype, pos + 4


def rdata(qtype, value):
    if qtype == 1:
        return socket.inet_pton(socket.AF_INET, value)
    if qtype == 28:
        return socket.inet_pton(socket.AF_INET6, value)
    if qtype == 15:
        pref, host = value
        return struct.pack("!H", pref) + encode_name(host)
    raise ValueError(qtype)


class DnsStub:
    def __init__(self, records=None, ttl=60):
        self.records = {k.lower(): v for k, v in (records or {}).items()}
        self.ttl = ttl
        self.queries = []
        self.lock = threading.Lock()
        self.sock = None
        self.thread = None
        self.port = None

    @property
    def server(self):
        """The smtp_dns_server value for this stub."""
        return "127.0.0.1:%d" % self.port

    def set(self, name, value):
        with self.lock:
            if value is None:
                self.records.pop(name.lower(), None)
            else:
                self.records[name.lower()] = value

    def answer(self, data):
        q = parse_question(data)
        if q is None:
            return None
        qid, qflags, name, qtype, qend = q
        with self.lock:
            self.queries.append((name, TYPES.get(qtype, str(qtype))))
            entry = self.records.get(name)
        answers = []
        if entry is None:
            rcode = RCODE_NXDOMAIN
        elif entry == "SERVFAIL":
            rcode = RCODE_SERVFAIL
        elif qtype not in (1, 28, 15):
            rcode = RCODE_NOTIMP
        else:
            rcode = RCODE_NOERROR
            for v in entry.get(TYPES[qtype], []):
                answers.append((qtype, v))
        flags = 0x8400 | (qflags & 0x0100) | rcode  # QR, AA, RD echoed
        out = struct.pack("!HHHHHH", qid, flags, 1, len(answers), 0, 0)
        out += data[12:qend]
        for t, v in answers:
            rd = rdata(t, v)
            # the owner is always the question name: a pointer to offset 12
            out += struct.pack("!HHHIH", 0xC00C, t, 1, self.ttl, len(rd)) + rd
        return out

    def _serve(self):
        while True:
            try:
                data, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            reply = self.answer(data)
            if reply is not None:
                try:
                    self.sock.sendto(reply, peer)
                except OSError:
                    pass

    def start(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.sock is not None:
            # shutdown wakes the blocked recvfrom; close frees the port
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.sock.close()
        if self.thread is not None:
            self.thread.join(timeout=5)
        self.sock = None
