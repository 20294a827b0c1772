"""/readyz: every upstream is probed at once, each probe bounded by one deadline, and the answer
names each failing upstream. Reachable means what a request needs before its first byte: a TCP
connection and, for https, the TLS handshake.

A black-holed upstream here is a listener that accepts and never says a word: a TLS handshake to
it hangs until the probe's deadline. That the probes run at once is shown by an order of events,
not a duration: the second upstream's probe connection arrives while the first one's is still
open (one after the other, the first would be closed, at its deadline, before the second began).
"""

import json
import socket
import threading
import unittest

from harness import Gateway, ModuleSim, config_yaml, request

SIM = ModuleSim(["phi-4-mini", "gpt-oss-20b"])
setUpModule, tearDownModule = SIM.start, SIM.stop


class SilentListener:
    """Accepts TCP connections and never answers: a TLS handshake to it hangs."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns = []

    @property
    def url(self):
        return "https://127.0.0.1:%d/v1" % self.port

    def accept(self, timeout=5.0):
        self.sock.settimeout(timeout)
        conn, _ = self.sock.accept()
        self.conns.append(conn)
        return conn

    def close(self):
        for c in self.conns + [self.sock]:
            c.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def still_open(conn):
    """False once the peer closed: what it sent (a ClientHello) is read and dropped first."""
    conn.setblocking(False)
    try:
        while True:
            if conn.recv(65536) == b"":
                return False
    except BlockingIOError:
        return True
    except ConnectionResetError:
        return False


class ReadyzProbeTest(unittest.TestCase):
    def readyz_in_background(self, gw):
        result = {}

        def ask():
            result["reply"] = request(gw.admin_port, "GET", "/readyz", timeout=10)

        t = threading.Thread(target=ask, daemon=True)
        t.start()
        return t, result

    def test_black_holed_upstreams_are_probed_at_once_and_each_is_named(self):
        with SilentListener() as a, SilentListener() as b:
            yaml = config_yaml(SIM.port, models={"phi-4-mini": {"upstream": a.url},
                                                 "gpt-oss-20b": {"upstream": b.url}})
            with Gateway(yaml) as gw:
                t, result = self.readyz_in_background(gw)
                first = a.accept()
                second = b.accept()
                # Both probes are under way together: the first is not over when the second starts.
                self.assertTrue(still_open(first), "the probes ran one after the other")
                t.join(timeout=10)
                self.assertFalse(t.is_alive(), "/readyz did not answer")
                status, _, body = result["reply"]
                self.assertEqual(status, 503, body)
                doc = json.loads(body)
                self.assertEqual(doc["status"], "not ready")
                self.assertEqual(doc["upstreams"], {"phi-4-mini": False, "gpt-oss-20b": False})
                self.assertEqual(set(doc["failing"]), {"phi-4-mini", "gpt-oss-20b"})
                self.assertEqual(doc["failing"]["phi-4-mini"]["upstream"],
                                 "https://127.0.0.1:%d" % a.port)
                for name in ("phi-4-mini", "gpt-oss-20b"):
                    self.assertEqual(doc["failing"][name]["error"], "connect_timeout", doc)
                # The gateway gave up on both (its deadline), it did not leave them open.
                self.assertFalse(still_open(first))
                self.assertFalse(still_open(second))

    def test_one_reachable_upstream_is_ready_and_the_other_is_named(self):
        with SilentListener() as a:
            yaml = config_yaml(SIM.port, models={"gpt-oss-20b": {"upstream": a.url}})
            with Gateway(yaml) as gw:
                t, result = self.readyz_in_background(gw)
                a.accept()
                t.join(timeout=10)
                self.assertFalse(t.is_alive(), "/readyz did not answer")
                status, _, body = result["reply"]
                self.assertEqual(status, 200, body)
                doc = json.loads(body)
                self.assertEqual(doc["status"], "ready")
                self.assertEqual(doc["upstreams"], {"phi-4-mini": True, "gpt-oss-20b": False})
                self.assertEqual(list(doc["failing"]), ["gpt-oss-20b"])
                self.assertEqual(doc["failing"]["gpt-oss-20b"]["error"], "connect_timeout")


if __name__ == "__main__":
    unittest.main()
