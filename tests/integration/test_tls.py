"""Integration tests of https:// upstreams: the gateway's OpenSSL client against a local TLS server.

A throwaway CA and server certificates are made with the `openssl` CLI in a temp dir; the upstream
is Python's http.server behind ssl on 127.0.0.1:<ephemeral port>. The gateway trusts the CA only
when started with SSL_CERT_FILE=<ca.pem> (OpenSSL's default verify paths honour it).

Run:  cd tests/integration && GW_BUILD_DIR=/work/main/build python3 -m unittest -v test_tls
"""

import contextlib
import http.server
import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import unittest

from harness import Gateway, SSEStream, chat, config_yaml, request, stream_content, wait_metric

CHAT = "/v1/chat/completions"
MODEL = "phi-4-mini"
ANSWER = "hello over tls"
EXTRA_RECORD_MARKER = "[send an extra record]"
STOLEN = "an answer meant for nobody"
STREAM_PIECES = ["hello ", "over ", "tls ", "stream"]

CERTS = None  # temp dir holding ca.pem, localhost.{pem,key}, wrong.{pem,key}


# --------------------------------------------------------------------------- certificates


def _openssl(*args, cwd):
    r = subprocess.run(["openssl"] + list(args), cwd=cwd, capture_output=True, timeout=20)
    if r.returncode != 0:
        raise RuntimeError("openssl %s failed: %s" % (" ".join(args), r.stderr.decode()))


def _make_server_cert(d, name, cn, san):
    ext = os.path.join(d, name + ".ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=%s\n"
                "basicConstraints=critical,CA:FALSE\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\n" % san)
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + cn, cwd=d)
    _openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-days", "2", "-sha256", "-extfile", ext, "-out", name + ".pem", cwd=d)


def make_certs(d):
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-sha256",
             "-subj", "/CN=hybrid-gateway test CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    _make_server_cert(d, "localhost", "localhost", "DNS:localhost,IP:127.0.0.1")
    _make_server_cert(d, "wrong", "wrong.example", "DNS:wrong.example")


def setUpModule():
    global CERTS
    CERTS = tempfile.mkdtemp(prefix="gw-tls-")
    make_certs(CERTS)


def tearDownModule():
    if CERTS:
        shutil.rmtree(CERTS, ignore_errors=True)


# --------------------------------------------------------------------------- TLS upstream


class TlsUpstream:
    """An OpenAI-compatible chat endpoint over TLS, on 127.0.0.1:<ephemeral port>.

    POST /v1/chat/completions -> a fixed chat.completion, or an SSE stream when "stream": true.
    `handshakes` counts TLS connections accepted (handshake done), `handshake_failures` the rest,
    `requests` the chat POSTs, `sni` the server names clients sent (None: no SNI).
    """

    def __init__(self, cert, key):
        outer = self
        self.lock = threading.Lock()
        self.handshakes = 0
        self.handshake_failures = []
        self.requests = []
        self.sni = []

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)

        def on_sni(sslobj, server_name, _ctx):
            with outer.lock:
                outer.sni.append(server_name)
            return None

        ctx.sni_callback = on_sni
        self.ctx = ctx

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {}
                with outer.lock:
                    outer.requests.append((self.path, body))
                if self.path != "/v1/chat/completions":
                    return self._send(404, b'{"error":{"message":"not found"}}', "application/json")
                model = body.get("model", "?")
                if body.get("stream"):
                    return self._stream(model)
                out = {
                    "id": "chatcmpl-tls-1", "object": "chat.completion", "created": 1700000000,
                    "model": model,
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": ANSWER}}],
                    "usage": {"prompt_tokens": 3, "completion_tokens": 3, "total_tokens": 6},
                }
                last = (body.get("messages") or [{}])[-1].get("content")
                if last == EXTRA_RECORD_MARKER:
                    # A hostile upstream: the answer, then a second response nobody asked for in
                    # its own TLS record, both in one TCP segment (corked): the gateway decrypts
                    # the first record only, the second waits inside its TLS layer.
                    self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
                    self._send(200, json.dumps(out).encode(), "application/json")
                    stolen = json.dumps(dict(out, choices=[{"index": 0, "finish_reason": "stop",
                                                            "message": {"role": "assistant",
                                                                        "content": STOLEN}}])).encode()
                    self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                     b"Content-Length: %d\r\n\r\n%s" % (len(stolen), stolen))
                    self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 0)
                    return
                self._send(200, json.dumps(out).encode(), "application/json")

            def do_GET(self):
                if self.path.rstrip("/") == "/v1/models":
                    out = {"object": "list", "data": [{"id": MODEL, "object": "model"}]}
                    return self._send(200, json.dumps(out).encode(), "application/json")
                self._send(404, b'{"error":{"message":"not found"}}', "application/json")

            def _send(self, status, data, ctype):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, model):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()

                def chunk(payload):
                    data = ("data: %s\n\n" % payload).encode()
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                    self.wfile.flush()

                base = {"id": "chatcmpl-tls-2", "object": "chat.completion.chunk",
                        "created": 1700000000, "model": model}
                chunk(json.dumps(dict(base, choices=[{"index": 0, "delta": {"role": "assistant"},
                                                      "finish_reason": None}])))
                for piece in STREAM_PIECES:
                    chunk(json.dumps(dict(base, choices=[{"index": 0, "delta": {"content": piece},
                                                          "finish_reason": None}])))
                chunk(json.dumps(dict(base, choices=[{"index": 0, "delta": {}, "finish_reason": "stop"}],
                                      usage={"prompt_tokens": 3, "completion_tokens": 4,
                                             "total_tokens": 7})))
                chunk("[DONE]")
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

            def log_message(self, *args):
                pass

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def finish_request(self, sock, client_address):
                # The handshake runs in the per-connection thread, not in the accept loop.
                sock.settimeout(5)
                try:
                    tls = outer.ctx.wrap_socket(sock, server_side=True)
                except (ssl.SSLError, OSError) as e:
                    with outer.lock:
                        outer.handshake_failures.append(repr(e))
                    return
                with outer.lock:
                    outer.handshakes += 1
                try:
                    self.RequestHandlerClass(tls, client_address, self)
                except OSError:
                    pass
                finally:
                    try:
                        tls.close()
                    except OSError:
                        pass

            def handle_error(self, request, client_address):
                pass

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    def chat_requests(self):
        with self.lock:
            return [r for r in self.requests if r[0] == CHAT]

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=2)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# --------------------------------------------------------------------------- helpers


def tls_config(url):
    # Both configured models point at the TLS upstream, so no fallback can reach anything else.
    return config_yaml(0, models={
        "phi-4-mini": {"upstream": url, "timeout_ms": 5000, "connect_timeout_ms": 3000},
        "gpt-oss-20b": {"upstream": url, "timeout_ms": 5000, "connect_timeout_ms": 3000},
    })


@contextlib.contextmanager
def without_env(*names):
    """Temporarily drops env vars (the harness passes os.environ + overrides to the child)."""
    saved = {n: os.environ.pop(n) for n in names if n in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


def start_gateway(url, trust_ca):
    # SSL_CERT_FILE may already point at the system bundle: drop it either way, then set it to
    # the test CA only when the CA is to be trusted. SSL_CERT_DIR (system dir) never holds it.
    with without_env("SSL_CERT_FILE"):
        env = {"SSL_CERT_FILE": os.path.join(CERTS, "ca.pem")} if trust_ca else None
        return Gateway(tls_config(url), env=env)


def error_of(body):
    obj = json.loads(body)
    return obj.get("error") or {}


# --------------------------------------------------------------------------- tests


class TrustedTls(unittest.TestCase):
    """1. The CA is trusted and the cert names localhost: requests relay; connections are reused."""

    @classmethod
    def setUpClass(cls):
        cls.up = TlsUpstream(os.path.join(CERTS, "localhost.pem"), os.path.join(CERTS, "localhost.key"))
        try:
            cls.gw = start_gateway("https://localhost:%d/v1" % cls.up.port, trust_ca=True)
        except Exception:
            cls.up.close()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.gw.close()
        finally:
            cls.up.close()

    def test_non_streaming_relayed(self):
        before = len(self.up.chat_requests())
        status, _, body = request(self.gw.port, "POST", CHAT, chat(MODEL, "hi tls"))
        self.assertEqual(status, 200, body)
        obj = json.loads(body)
        self.assertEqual(obj["choices"][0]["message"]["content"], ANSWER)
        reqs = self.up.chat_requests()
        self.assertEqual(len(reqs), before + 1)
        self.assertEqual(reqs[-1][1]["messages"][-1]["content"], "hi tls")
        # SNI carries the upstream's host name.
        self.assertIn("localhost", self.up.sni)
        self.assertEqual(self.up.handshake_failures, [])

    def test_streaming_relayed(self):
        before = len(self.up.chat_requests())
        s = SSEStream(self.gw.port, chat(MODEL, "stream me", stream=True))
        try:
            self.assertEqual(s.status, 200, s.raw)
            self.assertIn("text/event-stream", s.headers.get("content-type", ""))
            payloads = [p for _, p in s.collect()]
        finally:
            s.close()
        self.assertEqual(stream_content(payloads), "".join(STREAM_PIECES))
        self.assertEqual(payloads[-1], "[DONE]")
        reqs = self.up.chat_requests()
        self.assertEqual(len(reqs), before + 1)
        self.assertTrue(reqs[-1][1].get("stream"))

    def test_keep_alive_reuse(self):
        h0, r0 = self.up.handshakes, len(self.up.chat_requests())
        n = 5
        for i in range(n):
            status, _, body = request(self.gw.port, "POST", CHAT, chat(MODEL, "seq %d" % i))
            self.assertEqual(status, 200, body)
            self.assertEqual(json.loads(body)["choices"][0]["message"]["content"], ANSWER)
        new_requests = len(self.up.chat_requests()) - r0
        new_handshakes = self.up.handshakes - h0
        self.assertEqual(new_requests, n)
        self.assertLessEqual(new_handshakes, new_requests)
        # Sequential requests to one upstream ride on a pooled TLS connection: at most one new
        # handshake (none when an earlier test left a connection idle).
        self.assertLessEqual(new_handshakes, 1, "TLS connections are not reused: %d handshakes for %d "
                             "sequential requests" % (new_handshakes, n))

    def test_extra_tls_record_after_the_response_is_not_pooled(self):
        # Bytes after the response that sit decrypted-pending in the TLS layer (not in the read
        # buffer, not in the kernel where the pool's peek looks) must not answer the next request.
        status, _, body = request(self.gw.port, "POST", CHAT, chat(MODEL, EXTRA_RECORD_MARKER))
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["choices"][0]["message"]["content"], ANSWER)
        for i in range(3):
            status, _, body = request(self.gw.port, "POST", CHAT, chat(MODEL, "after %d" % i))
            self.assertEqual(status, 200, body)
            self.assertEqual(json.loads(body)["choices"][0]["message"]["content"], ANSWER)


class UntrustedCa(unittest.TestCase):
    """2. No SSL_CERT_FILE: the self-signed CA is not trusted -> 502 upstream_unreachable (tls)."""

    def test_untrusted_ca_is_502(self):
        with TlsUpstream(os.path.join(CERTS, "localhost.pem"), os.path.join(CERTS, "localhost.key")) as up:
            with start_gateway("https://localhost:%d/v1" % up.port, trust_ca=False) as gw:
                for body in (chat(MODEL, "x"), chat(MODEL, "x", stream=True)):
                    status, _, raw = request(gw.port, "POST", CHAT, body)
                    self.assertEqual(status, 502, raw)
                    err = error_of(raw)
                    self.assertEqual(err.get("code"), "upstream_unreachable", raw)
                    self.assertIn("tls", err.get("message", "").lower(), raw)
                tls_errors = wait_metric(gw, "gateway_upstream_errors_total", {"kind": "tls"}, 2.0)
                self.assertEqual(tls_errors, 2.0, "gateway_upstream_errors_total{kind=\"tls\"}")
            self.assertEqual(up.chat_requests(), [], "a request went over an unverified connection")
            self.assertEqual(up.handshakes, 0)


class WrongHostName(unittest.TestCase):
    """3. Trusted CA but the cert names wrong.example: host name verification -> 502."""

    def test_wrong_name_is_502(self):
        with TlsUpstream(os.path.join(CERTS, "wrong.pem"), os.path.join(CERTS, "wrong.key")) as up:
            with start_gateway("https://localhost:%d/v1" % up.port, trust_ca=True) as gw:
                for body in (chat(MODEL, "x"), chat(MODEL, "x", stream=True)):
                    status, _, raw = request(gw.port, "POST", CHAT, body)
                    self.assertEqual(status, 502, raw)
                    err = error_of(raw)
                    self.assertEqual(err.get("code"), "upstream_unreachable", raw)
                    self.assertIn("tls", err.get("message", "").lower(), raw)
                tls_errors = wait_metric(gw, "gateway_upstream_errors_total", {"kind": "tls"}, 2.0)
                self.assertEqual(tls_errors, 2.0, "gateway_upstream_errors_total{kind=\"tls\"}")
            self.assertEqual(up.chat_requests(), [])


class IpLiteralUpstream(unittest.TestCase):
    """4. https://127.0.0.1:PORT with a cert whose SAN has IP:127.0.0.1: verified against the IP."""

    def test_ip_literal_with_ip_san(self):
        with TlsUpstream(os.path.join(CERTS, "localhost.pem"), os.path.join(CERTS, "localhost.key")) as up:
            with start_gateway("https://127.0.0.1:%d/v1" % up.port, trust_ca=True) as gw:
                status, _, raw = request(gw.port, "POST", CHAT, chat(MODEL, "ip"))
                self.assertEqual(status, 200, raw)
                self.assertEqual(json.loads(raw)["choices"][0]["message"]["content"], ANSWER)
                s = SSEStream(gw.port, chat(MODEL, "ip", stream=True))
                try:
                    self.assertEqual(s.status, 200, s.raw)
                    payloads = [p for _, p in s.collect()]
                finally:
                    s.close()
                self.assertEqual(stream_content(payloads), "".join(STREAM_PIECES))
                self.assertEqual(payloads[-1], "[DONE]")
            self.assertEqual(len(up.chat_requests()), 2)

    def test_ip_literal_without_ip_san_is_502(self):
        # wrong.pem has no IP SAN: the IP check must fail, not fall back to something laxer.
        with TlsUpstream(os.path.join(CERTS, "wrong.pem"), os.path.join(CERTS, "wrong.key")) as up:
            with start_gateway("https://127.0.0.1:%d/v1" % up.port, trust_ca=True) as gw:
                status, _, raw = request(gw.port, "POST", CHAT, chat(MODEL, "ip"))
                self.assertEqual(status, 502, raw)
                self.assertEqual(error_of(raw).get("code"), "upstream_unreachable", raw)
            self.assertEqual(up.chat_requests(), [])


if __name__ == "__main__":
    unittest.main()
