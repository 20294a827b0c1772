"""A hostile or buggy client against the gateway, over raw sockets (issue 9, client side).

Each test sends exactly the bytes a misbehaving client would and checks what comes back on the
wire: one answer per request (no smuggling), framing errors told with a 400 that is actually
delivered, the config of the moment a request arrived, truthful drain headers.

Run:  cd tests/integration && GW_BUILD_DIR=/work/main/build python3 -m unittest -v test_hostile_client
"""

import json
import os
import resource
import signal
import socket
import subprocess
import time
import unittest

import harness
from harness import (
    GATEWAY_BIN,
    Gateway,
    ModuleSim,
    SSEStream,
    chat,
    config_yaml,
    metric_value,
    raw_connect,
    read_until_close,
    request,
    status_of,
    wait_metric,
)

CHAT = "/v1/chat/completions"
SIM = ModuleSim(["phi-4-mini", "gpt-oss-20b"])
setUpModule, tearDownModule = SIM.start, SIM.stop


# --------------------------------------------------------------------------- raw HTTP


def parse_responses(data):
    """Every complete HTTP response in `data`: a list of (status, {lower header: value}, body)."""
    out = []
    while data.startswith(b"HTTP/1."):
        head_end = data.find(b"\r\n\r\n")
        if head_end < 0:
            break
        lines = data[:head_end].split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(b":")
            headers[k.strip().lower().decode()] = v.strip().decode()
        rest = data[head_end + 4:]
        if 100 <= status < 200:
            out.append((status, headers, b""))
            data = rest
            continue
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                line_end = rest.find(b"\r\n")
                if line_end < 0:
                    return out + [(status, headers, body)]
                size = int(rest[:line_end].split(b";")[0], 16)
                chunk = rest[line_end + 2: line_end + 2 + size]
                rest = rest[line_end + 2 + size + 2:]
                if size == 0:
                    break
                body += chunk
        else:
            n = int(headers.get("content-length", "0"))
            body, rest = rest[:n], rest[n:]
        out.append((status, headers, body))
        data = rest
    return out


def exchange_raw(port, payload, timeout=3.0):
    """Sends `payload`, reads until the gateway closes (or `timeout`): (responses, closed, raw)."""
    s = raw_connect(port)
    try:
        s.sendall(payload)
        data, closed, _ = read_until_close(s, timeout=timeout)
    finally:
        s.close()
    return parse_responses(data), closed, data


def head_of(method, path, headers=(), version=b"HTTP/1.1"):
    lines = [method + b" " + path + b" " + version]
    lines += list(headers)
    return b"\r\n".join(lines) + b"\r\n\r\n"


# A whole request hidden in a body: answered, it would be a smuggled second request.
SMUGGLED = b"GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n"


class GatewayCase(harness.GatewayCase):
    @classmethod
    def config(cls):
        return config_yaml(SIM.port)


# =========================================================================== framing


class FramingTest(GatewayCase):
    @classmethod
    def config(cls):
        return config_yaml(SIM.port, server={"header_timeout_ms": 600})

    def test_unknown_transfer_coding_is_refused_and_body_never_served(self):
        variants = [
            [b"Transfer-Encoding: identity"],
            [b"Transfer-Encoding: xchunked"],
            [b"Transfer-Encoding: chunked, identity"],
            [b"Transfer-Encoding: identity, chunked, identity"],
            [b"Transfer-Encoding: gzip"],
            [b"Transfer-Encoding: chunked", b"Transfer-Encoding: identity"],
            [b"Transfer-Encoding: chunked, chunked"],
        ]
        for te in variants:
            with self.subTest(te=te):
                payload = head_of(b"POST", CHAT.encode(), [b"Host: x", b"Content-Type: application/json"] + te)
                responses, closed, raw = exchange_raw(self.gw.port, payload + SMUGGLED)
                self.assertEqual(len(responses), 1, "the body was answered as a request: %r" % raw[:600])
                self.assertIn(responses[0][0], (400, 501), raw[:300])
                self.assertTrue(closed, "connection left open after a framing error")

    def test_http10_with_transfer_encoding_is_refused(self):
        payload = head_of(b"POST", CHAT.encode(), [b"Host: x", b"Transfer-Encoding: chunked"], b"HTTP/1.0")
        responses, closed, raw = exchange_raw(self.gw.port, payload + b"5\r\nhello\r\n0\r\n\r\n" + SMUGGLED)
        self.assertEqual(len(responses), 1, raw[:600])
        self.assertIn(responses[0][0], (400, 501), raw[:300])
        self.assertTrue(closed)

    def test_plain_chunked_body_still_works(self):
        body = json.dumps(chat("phi-4-mini", "hi")).encode()
        payload = head_of(b"POST", CHAT.encode(), [b"Host: x", b"Content-Type: application/json",
                                                    b"Transfer-Encoding: chunked", b"Connection: close"])
        payload += b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
        responses, closed, raw = exchange_raw(self.gw.port, payload)
        self.assertEqual([r[0] for r in responses], [200], raw[:600])

    def test_missing_host_is_400(self):
        responses, closed, raw = exchange_raw(self.gw.port, head_of(b"GET", b"/v1/models") + SMUGGLED)
        self.assertEqual([r[0] for r in responses], [400], raw[:600])
        self.assertTrue(closed)

    def test_two_host_headers_are_400(self):
        payload = head_of(b"GET", b"/v1/models", [b"Host: a", b"Host: b"])
        responses, closed, raw = exchange_raw(self.gw.port, payload + SMUGGLED)
        self.assertEqual([r[0] for r in responses], [400], raw[:600])
        self.assertTrue(closed)

    def test_http10_without_host_is_served(self):
        responses, closed, raw = exchange_raw(self.gw.port, head_of(b"GET", b"/v1/models", [], b"HTTP/1.0"))
        self.assertEqual([r[0] for r in responses], [200], raw[:600])

    def test_bad_chunk_size_gets_400_logged_then_close(self):
        mark = self.gw.mark()
        payload = head_of(b"POST", CHAT.encode(), [b"Host: x", b"Content-Type: application/json",
                                                    b"Transfer-Encoding: chunked", b"x-request-id: bad-chunk-1"])
        responses, closed, raw = exchange_raw(self.gw.port, payload + b"zz\r\nhello\r\n0\r\n\r\n")
        self.assertEqual([r[0] for r in responses], [400], raw[:600])
        self.assertTrue(closed)
        ev = self.gw.wait_event("request", start=mark, predicate=lambda e: e.get("status") == 400
                                and e.get("path") == CHAT)
        self.assertIsNotNone(ev, self.gw.output()[-2000:])

    def test_endless_chunk_extension_is_refused_with_bounded_memory(self):
        # Beast bounds neither a chunk header's extensions nor its read buffer: a client sending
        # one chunk header without end would grow the gateway's buffer at line rate until the
        # body's deadline. The buffer is bounded: a 400 comes after about 1 MiB, not a 408 after
        # the whole flood was held (what follows the 400 is drained, not kept).
        def peak_rss_kib():
            with open(f"/proc/{self.gw.pid}/status") as f:
                return next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))

        before = peak_rss_kib()
        mark = self.gw.mark()
        s = raw_connect(self.gw.port)
        sent = 0
        flood = 48 * 1024 * 1024
        try:
            s.sendall(head_of(b"POST", CHAT.encode(), [b"Host: x", b"Content-Type: application/json",
                                                       b"Transfer-Encoding: chunked"]) + b"1;ext=")
            piece = b"a" * 65536
            while sent < flood:
                s.sendall(piece)
                sent += len(piece)
        except OSError:
            pass  # refused and closed mid-flood: what is asked
        finally:
            s.close()
        self.assertLess(peak_rss_kib() - before, 16 * 1024, "KiB of peak RSS added")
        ev = self.gw.wait_event("request", start=mark, predicate=lambda e: e.get("path") == CHAT)
        self.assertIsNotNone(ev, self.gw.output()[-2000:])
        self.assertEqual(ev.get("status"), 400, ev)
        self.assertEqual(request(self.gw.port, "GET", "/v1/models")[0], 200)

    def test_slow_body_gets_408_delivered(self):
        mark = self.gw.mark()
        payload = head_of(b"POST", CHAT.encode(), [b"Host: x", b"Content-Type: application/json",
                                                    b"Content-Length: 200"]) + b'{"model":'
        responses, closed, raw = exchange_raw(self.gw.port, payload, timeout=4)
        self.assertEqual([r[0] for r in responses], [408], raw[:600])
        self.assertTrue(closed)
        self.assertIsNotNone(self.gw.wait_event("request", start=mark,
                                                predicate=lambda e: e.get("status") == 408))

    def test_http10_expect_gets_no_http11_interim(self):
        body = json.dumps(chat("phi-4-mini", "hi")).encode()
        payload = head_of(b"POST", CHAT.encode(), [b"Host: x", b"Content-Type: application/json",
                                                    b"Expect: 100-continue",
                                                    b"Content-Length: %d" % len(body)], b"HTTP/1.0")
        s = raw_connect(self.gw.port)
        try:
            s.sendall(payload)
            s.settimeout(0.3)  # well within header_timeout_ms (600): a 100 would come at once
            early = b""
            try:
                early = s.recv(4096)
            except socket.timeout:
                pass
            self.assertNotIn(b"HTTP/1.1 100", early)
            s.sendall(body)
            data, closed, _ = read_until_close(s, timeout=3)
        finally:
            s.close()
        self.assertNotIn(b"HTTP/1.1 100", early + data)
        responses = parse_responses(early + data)
        self.assertEqual(responses[-1][0], 200, (early + data)[:600])


# =========================================================================== JSON numbers


class NumberOverflowTest(GatewayCase):
    def test_overflowing_numbers_are_400_and_nothing_leaks(self):
        bodies = [
            b'{"model":"phi-4-mini","messages":[{"role":"user","content":"hi"}],"max_tokens":1e999}',
            b'{"model":"phi-4-mini","messages":[{"role":"user","content":"hi"}],"temperature":-1e400}',
            b'{"model":"phi-4-mini","messages":[{"role":"user","content":"hi"}],"x":[1e999]}',
        ]
        for _ in range(10):
            for b in bodies:
                status, _, body = request(self.gw.port, "POST", CHAT, body=b,
                                          headers={"Content-Type": "application/json"})
                self.assertEqual(status, 400, body)
                self.assertIn(b"error", body)
        status, _, body = request(self.gw.port, "POST", CHAT, body=chat("phi-4-mini", "hi"))
        self.assertEqual(status, 200, body)
        # The log is written in batches (kLogFlushIntervalMs): the last request's line comes
        # after all the others.
        self.assertIsNotNone(self.gw.wait_event("request", predicate=lambda e: e.get("status") == 200))
        logged = [e for e in self.gw.events("request") if e.get("status") == 400]
        self.assertGreaterEqual(len(logged), 30, self.gw.output()[-2000:])
        self.assertEqual(wait_metric(self.gw, "gateway_inflight_requests", None, 0), 0)


# =========================================================================== auth and methods


class AuthSchemeTest(GatewayCase):
    env = {"GW_HOSTILE_KEYS": "k1"}

    @classmethod
    def config(cls):
        return config_yaml(SIM.port, auth={"api_keys_env": "GW_HOSTILE_KEYS"})

    def test_bearer_scheme_is_case_insensitive(self):
        for auth in ("Bearer k1", "bearer k1", "BEARER k1"):
            with self.subTest(auth=auth):
                status, _, body = request(self.gw.port, "GET", "/v1/models", headers={"Authorization": auth})
                self.assertEqual(status, 200, body)
        status, _, _ = request(self.gw.port, "GET", "/v1/models", headers={"Authorization": "bearer k2"})
        self.assertEqual(status, 401)


class HeadTest(GatewayCase):
    def test_head_where_get_is_served(self):
        for path, port in (("/v1/models", self.gw.port), ("/", self.gw.port),
                           ("/healthz", self.gw.admin_port)):
            with self.subTest(path=path):
                s = raw_connect(port)
                try:
                    s.sendall(head_of(b"HEAD", path.encode(), [b"Host: x", b"Connection: close"]))
                    data, closed, _ = read_until_close(s, timeout=3)
                finally:
                    s.close()
                self.assertEqual(status_of(data), 200, data[:300])
                head, _, body = data.partition(b"\r\n\r\n")
                self.assertEqual(body, b"", "HEAD got a body")
                self.assertIn(b"content-length", head.lower())

    def test_playground_declares_its_icon(self):
        status, _, body = request(self.gw.port, "GET", "/")
        self.assertEqual(status, 200)
        self.assertRegex(body.decode(), r'<link rel="icon" [^>]*href="data:',
                         "the page would make the browser fetch /favicon.ico (a 404)")


# =========================================================================== reload


class ReloadOnOpenConnectionsTest(unittest.TestCase):
    def test_reload_applies_to_the_next_request_of_open_connections(self):
        env = {"GW_RELOAD_KEYS": "k1"}
        gw = Gateway(config_yaml(SIM.port), env=env)
        try:
            used = raw_connect(gw.port)   # served once before the reload, then idle
            fresh = raw_connect(gw.port)  # opened, nothing sent yet
            used.sendall(head_of(b"GET", b"/v1/models", [b"Host: x"]))
            used.settimeout(3)
            first = b""
            while not parse_responses(first):
                first += used.recv(65536)
            self.assertEqual(parse_responses(first)[0][0], 200)

            mark = gw.mark()
            gw.reload(config_yaml(SIM.port, auth={"api_keys_env": "GW_RELOAD_KEYS"},
                                  models={"gpt-oss-20b": {"upstream": "http://127.0.0.1:%d/v1" % SIM.port,
                                                          "timeout_ms": 10000},
                                          "phi-4-mini": {"upstream": "http://127.0.0.1:%d/v1" % SIM.port,
                                                         "timeout_ms": 10000}},
                                  ))
            self.assertIsNotNone(gw.wait_event("reloaded", start=mark), gw.output()[-2000:])
            for name, s in (("used", used), ("fresh", fresh)):
                with self.subTest(connection=name):
                    s.sendall(head_of(b"GET", b"/v1/models", [b"Host: x", b"Connection: close"]))
                    data, _, _ = read_until_close(s, timeout=3)
                    self.assertEqual(status_of(data), 401, "auth enabled by the reload not enforced: %r"
                                     % data[:300])
            used.close()
            fresh.close()
        finally:
            gw.close()

    def test_origin_removed_by_reload_is_not_allowed_on_open_connection(self):
        gw = Gateway(config_yaml(SIM.port, cors={"allow_origins": ["http://a.example"]}))
        try:
            s = raw_connect(gw.port)
            mark = gw.mark()
            gw.reload(config_yaml(SIM.port, cors={"allow_origins": ["http://b.example"]}))
            self.assertIsNotNone(gw.wait_event("reloaded", start=mark), gw.output()[-2000:])
            s.sendall(head_of(b"GET", b"/v1/models", [b"Host: x", b"Origin: http://a.example",
                                                      b"Connection: close"]))
            data, _, _ = read_until_close(s, timeout=3)
            s.close()
            responses = parse_responses(data)
            self.assertEqual([r[0] for r in responses], [200], data[:400])
            self.assertNotIn("access-control-allow-origin", responses[0][1],
                             "an origin removed by the reload is still allowed")
        finally:
            gw.close()

    def test_model_removed_by_reload_is_404_on_open_connection(self):
        gw = Gateway(config_yaml(SIM.port, models={"extra-model": {
            "upstream": "http://127.0.0.1:%d/v1" % SIM.port, "upstream_model": "phi-4-mini"}}))
        try:
            s = raw_connect(gw.port)
            mark = gw.mark()
            gw.reload(config_yaml(SIM.port))
            self.assertIsNotNone(gw.wait_event("reloaded", start=mark), gw.output()[-2000:])
            body = json.dumps(chat("extra-model", "hi")).encode()
            s.sendall(head_of(b"POST", CHAT.encode(), [b"Host: x", b"Content-Type: application/json",
                                                        b"Connection: close", b"Content-Length: %d" % len(body)])
                      + body)
            data, _, _ = read_until_close(s, timeout=3)
            s.close()
            self.assertEqual(status_of(data), 404, data[:400])
        finally:
            gw.close()


# =========================================================================== drain


class DrainTest(unittest.TestCase):
    def test_response_during_drain_says_connection_close(self):
        gw = Gateway(config_yaml(SIM.port))
        try:
            s = raw_connect(gw.port)
            body = json.dumps(chat("phi-4-mini", "[sim:ttft=1500][sim:tokens=5]")).encode()
            s.sendall(head_of(b"POST", CHAT.encode(), [b"Host: x", b"Content-Type: application/json",
                                                        b"Content-Length: %d" % len(body)]) + body)
            time.sleep(0.5)  # the request is in flight (read, waiting for its upstream)
            gw.signal(signal.SIGTERM)
            data, closed, _ = read_until_close(s, timeout=4)
            s.close()
            responses = parse_responses(data)
            self.assertEqual([r[0] for r in responses], [200], data[:400])
            self.assertEqual(responses[0][1].get("connection", "").lower(), "close",
                             "closed after a response that did not say so: %r" % data[:400])
            self.assertTrue(closed)
            self.assertEqual(gw.wait(timeout=6), 0)
        finally:
            gw.close()

    def test_answer_pending_at_drain_timeout_is_503(self):
        gw = Gateway(config_yaml(SIM.port, server={"drain_timeout_ms": 300}))
        try:
            s = raw_connect(gw.port)
            body = json.dumps(chat("phi-4-mini", "[sim:ttft=8000][sim:tokens=5]")).encode()
            s.sendall(head_of(b"POST", CHAT.encode(), [b"Host: x", b"Content-Type: application/json",
                                                        b"x-request-id: pending-at-drain",
                                                        b"Content-Length: %d" % len(body)]) + body)
            time.sleep(0.5)  # the request is in flight (read, waiting for its upstream)
            gw.signal(signal.SIGTERM)
            data, closed, _ = read_until_close(s, timeout=5)
            s.close()
            responses = parse_responses(data)
            self.assertEqual([r[0] for r in responses], [503], data[:400])
            self.assertEqual(json.loads(responses[0][2])["error"]["code"], "drain_timeout")
            self.assertEqual(responses[0][1].get("connection", "").lower(), "close")
            self.assertEqual(gw.wait(timeout=6), 0)
            ev = gw.wait_event("request", timeout=1, predicate=lambda e: e.get("id") == "pending-at-drain")
            self.assertIsNotNone(ev, gw.output()[-3000:])
            self.assertEqual((ev.get("status"), ev.get("error")), (503, "drain_timeout"), ev)
        finally:
            gw.close()

    def test_stream_cut_by_drain_gets_error_event_and_log_line(self):
        gw = Gateway(config_yaml(SIM.port, server={"drain_timeout_ms": 500}))
        try:
            s = SSEStream(gw.port, chat("phi-4-mini", "[sim:ttft=10][sim:tps=10][sim:tokens=200]", stream=True),
                          headers={"x-request-id": "cut-by-drain"})
            events = s.events()
            payloads = []
            for _, p in events:
                payloads.append(p)
                break
            gw.signal(signal.SIGTERM)
            for _, p in events:
                payloads.append(p)
            s.close()
            self.assertNotEqual(payloads[-1], "[DONE]")
            last = json.loads(payloads[-1])
            self.assertIn("error", last, payloads[-3:])
            self.assertTrue(s.ended)
            self.assertEqual(gw.wait(timeout=6), 0)
            ev = gw.wait_event("request", timeout=1, predicate=lambda e: e.get("id") == "cut-by-drain")
            self.assertIsNotNone(ev, gw.output()[-3000:])
            self.assertEqual(ev.get("error"), "drain_timeout", ev)
            stopped = gw.wait_event("drain_timeout", timeout=1)
            self.assertIsNotNone(stopped, gw.output()[-2000:])
            self.assertEqual(stopped.get("cut"), 1, stopped)
        finally:
            gw.close()


# =========================================================================== resources


class AccessLogStallTest(unittest.TestCase):
    """stdout is a pipe nobody reads: requests must still complete, lost lines are counted."""

    def test_stalled_log_consumer_does_not_stall_requests(self):
        import tempfile

        fd, path = tempfile.mkstemp(prefix="gw-it-", suffix=".yaml")
        with os.fdopen(fd, "w") as f:
            f.write(config_yaml(SIM.port, server={"admin_listen": "127.0.0.1:0"}))
        r, w = os.pipe()  # never read after the startup line
        proc = subprocess.Popen([GATEWAY_BIN, "--config", path], stdout=w, stderr=subprocess.DEVNULL,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        os.close(w)
        try:
            first = b""
            while b'"listening"' not in first:
                chunk = os.read(r, 4096)
                self.assertTrue(chunk, "gateway exited early")
                first += chunk
            line = [l for l in first.split(b"\n") if b'"listening"' in l][0]
            ev = json.loads(line)
            port = int(ev["listen"].rsplit(":", 1)[1])
            admin = int(ev["admin"].rsplit(":", 1)[1])
            import http.client

            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            # ~300 B per line: several times the pipe (64 KiB) and the gateway's log backlog.
            for i in range(12000):
                conn.request("GET", "/no-such-path-%d" % i)
                resp = conn.getresponse()
                resp.read()
            conn.close()
            status, _, body = request(admin, "GET", "/metrics")
            self.assertEqual(status, 200)
            dropped = metric_value(body.decode(), "gateway_log_lines_dropped_total")
            self.assertIsNotNone(dropped, "no gateway_log_lines_dropped_total metric")
            self.assertGreater(dropped, 0)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=5)
            os.close(r)
            os.unlink(path)


class AcceptErrorTest(unittest.TestCase):
    """At the fd limit the accept loops back off and the process logs at most once a second,
    with a count: two threads (two accept loops) must not double the lines."""

    def test_accept_errors_are_rate_limited(self):
        import tempfile

        fd, path = tempfile.mkstemp(prefix="gw-it-", suffix=".yaml")
        with os.fdopen(fd, "w") as f:
            f.write(config_yaml(SIM.port, server={"threads": 2}))

        def low_fd_limit():
            resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))

        proc = subprocess.Popen([GATEWAY_BIN, "--config", path], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                                start_new_session=True, preexec_fn=low_fd_limit)
        socks = []
        try:
            line = proc.stdout.readline()
            while b'"listening"' not in line:
                self.assertTrue(line, "gateway exited early")
                line = proc.stdout.readline()
            port = int(json.loads(line)["listen"].rsplit(":", 1)[1])
            for _ in range(120):
                try:
                    socks.append(socket.create_connection(("127.0.0.1", port), timeout=1))
                except OSError:
                    break
            time.sleep(2.5)
            for s in socks:
                s.close()
            socks = []
            time.sleep(0.3)
            proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=10)
            errors = [json.loads(l) for l in out.splitlines() if b'"accept_error"' in l]
            self.assertGreaterEqual(len(errors), 1, "the fd limit was never hit")
            # About 2.8 s of errors: 3 lines, 4 at a second's edge; one a second per thread is 6+.
            self.assertLessEqual(len(errors), 4, "accept errors flood the log: %d lines" % len(errors))
            self.assertGreater(sum(e.get("count", 1) for e in errors), len(errors),
                               "the log line does not count the errors it stands for")
        finally:
            for s in socks:
                s.close()
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=5)
            os.unlink(path)


if __name__ == "__main__":
    unittest.main()
