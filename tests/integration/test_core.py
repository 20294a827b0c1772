"""Integration tests of the gateway core (SPEC.md): real llm-sim + hybrid-gateway over loopback HTTP.

Run:  cd tests/integration && GW_BUILD_DIR=/work/main/build python3 -m unittest -v test_core
"""

import http.client
import json
import re
import signal
import socket
import time
import unittest

import harness
from harness import (
    FakeUpstream,
    Gateway,
    ModuleSim,
    Sim,
    SSEStream,
    chat,
    config_yaml,
    free_port,
    metric_value,
    raw_connect,
    read_until_close,
    request,
    run_check_config,
    status_of,
    stream_content,
    wait_metric,
)

UPSTREAM_KEY = "upstream-secret-123"
CHAT = "/v1/chat/completions"
SLOW = "[sim:ttft=100][sim:tps=20][sim:tokens=20]"  # ~0.1 s to the first token, ~1.05 s in all

SIM = ModuleSim(["phi-4-mini", "gpt-oss-20b", "other-name"])  # one simulator shared by every test class
setUpModule, tearDownModule = SIM.start, SIM.stop


class GatewayCase(harness.GatewayCase):
    """A gateway (class-wide) in front of the module's simulator, and the core tests' helpers."""

    @classmethod
    def config(cls):
        return config_yaml(SIM.port)

    # -- helpers
    def post(self, body, headers=None, timeout=5, port=None):
        return request(port or self.gw.port, "POST", CHAT, body=body, headers=headers, timeout=timeout)

    def assertOpenAIError(self, body, msg=None):
        try:
            obj = json.loads(body)
        except ValueError:
            self.fail("error body is not JSON: %r %s" % (body[:300], msg or ""))
        self.assertIsInstance(obj, dict, body)
        self.assertIn("error", obj, body)
        err = obj["error"]
        self.assertIsInstance(err, dict, body)
        for key in ("message", "type", "param", "code"):
            self.assertIn(key, err, "error object lacks %r: %s" % (key, body))
        self.assertIsInstance(err["message"], str)
        self.assertTrue(err["message"], body)
        return err

    def assertServes(self):
        """The gateway still answers a normal completion."""
        status, _, body = self.post(chat("phi-4-mini", "still alive?"))
        self.assertEqual(status, 200, body)
        self.assertTrue(self.gw.alive(), "gateway exited:\n" + self.gw.output())


# ============================================================================ main API


class CoreApiTest(GatewayCase):
    env = {"GW_IT_UPSTREAM_KEY": UPSTREAM_KEY}

    @classmethod
    def config(cls):
        cls.closed_port = free_port()
        return config_yaml(
            SIM.port,
            models={
                "renamed": {
                    "upstream": SIM.url,
                    "upstream_model": "other-name",
                    "api_key_env": "GW_IT_UPSTREAM_KEY",
                    "timeout_ms": 10000,
                },
                "down-model": {
                    "upstream": "http://127.0.0.1:%d/v1" % cls.closed_port,
                    "timeout_ms": 2000,
                    "connect_timeout_ms": 1000,
                },
                "stall-model": {"upstream": SIM.url, "upstream_model": "phi-4-mini", "timeout_ms": 500},
            },
        )

    # ---- /v1/models
    def test_models_lists_configured_models_and_alias(self):
        status, headers, body = request(self.gw.port, "GET", "/v1/models")
        self.assertEqual(status, 200, body)
        self.assertIn("application/json", headers.get("content-type", ""))
        obj = json.loads(body)
        self.assertEqual(obj.get("object"), "list", body)
        self.assertIsInstance(obj.get("data"), list)
        ids = [m.get("id") for m in obj["data"]]
        for name in ("phi-4-mini", "gpt-oss-20b", "renamed", "down-model", "stall-model", "auto"):
            self.assertIn(name, ids, body)
        self.assertEqual(len(ids), len(set(ids)), "duplicate ids: %s" % ids)
        for m in obj["data"]:
            self.assertEqual(m.get("object"), "model", m)

    # ---- non-streaming
    def test_non_streaming_matches_direct_upstream(self):
        body = chat("phi-4-mini", "Summarise the quarter in two sentences.")
        d_status, _, d_body = request(SIM.port, "POST", CHAT, body=body)
        self.assertEqual(d_status, 200, d_body)
        status, headers, g_body = self.post(body)
        self.assertEqual(status, 200, g_body)
        direct, via = json.loads(d_body), json.loads(g_body)
        self.assertEqual(via["choices"][0]["message"]["content"], direct["choices"][0]["message"]["content"])
        self.assertTrue(via["choices"][0]["message"]["content"])
        self.assertEqual(via["usage"], direct["usage"])
        self.assertEqual(via.get("model"), "phi-4-mini")
        self.assertEqual(headers.get("x-gateway-route"), "direct")
        self.assertEqual(headers.get("x-gateway-model"), "phi-4-mini")
        self.assertIn("server-timing", headers)
        self.assertRegex(headers["server-timing"], r"total;dur=[0-9.]+")
        self.assertIn("application/json", headers.get("content-type", ""))

    def test_request_is_logged(self):
        mark = self.gw.mark()
        status, _, _ = request(self.gw.port, "GET", "/v1/no-such-path")
        self.assertEqual(status, 404)
        ev = self.gw.wait_event("request", timeout=2, start=mark,
                                predicate=lambda e: e.get("path") == "/v1/no-such-path")
        self.assertIsNotNone(ev, "no request log line:\n" + self.gw.output()[-2000:])
        self.assertEqual(ev.get("status"), 404)

    # ---- streaming
    def _stream(self, port, body, headers=None):
        s = SSEStream(port, body, headers=headers, timeout=5)
        try:
            events = s.collect()
        finally:
            s.close()
        return s, events

    def test_streaming_matches_direct_upstream(self):
        body = chat("phi-4-mini", "Tell me about the reliability backlog.", stream=True)
        d, d_events = self._stream(SIM.port, body)
        g, g_events = self._stream(self.gw.port, body)
        self.assertEqual(g.status, 200, g.raw[:500])
        self.assertIn("text/event-stream", g.headers.get("content-type", ""))
        self.assertEqual(g.headers.get("transfer-encoding", "").lower(), "chunked")
        self.assertEqual(g.headers.get("x-gateway-route"), "direct")
        self.assertEqual(g.headers.get("x-gateway-model"), "phi-4-mini")
        g_payloads = [p for _, p in g_events]
        d_payloads = [p for _, p in d_events]
        self.assertTrue(g_payloads, g.raw[:500])
        self.assertEqual(g_payloads[-1], "[DONE]", g_payloads[-3:])
        self.assertEqual(g_payloads.count("[DONE]"), 1)
        text = stream_content(g_payloads)
        self.assertTrue(text)
        self.assertEqual(text, stream_content(d_payloads))
        for p in g_payloads[:-1]:
            self.assertEqual(json.loads(p).get("object"), "chat.completion.chunk", p)

    def test_streaming_include_usage_delivers_usage_chunk(self):
        body = chat("phi-4-mini", "usage please", stream=True, stream_options={"include_usage": True})
        g, events = self._stream(self.gw.port, body)
        self.assertEqual(g.status, 200)
        payloads = [p for _, p in events]
        self.assertEqual(payloads[-1], "[DONE]")
        usage = [json.loads(p) for p in payloads[:-1] if json.loads(p).get("usage")]
        self.assertEqual(len(usage), 1, payloads[-4:])
        u = usage[0]["usage"]
        self.assertGreater(u.get("completion_tokens", 0), 0, u)
        self.assertEqual(u.get("total_tokens"), u.get("prompt_tokens", 0) + u.get("completion_tokens", 0))
        self.assertEqual(usage[0].get("choices"), [], usage[0])

    def test_streaming_without_include_usage_sends_no_usage(self):
        body = chat("phi-4-mini", "no usage please", stream=True)
        g, events = self._stream(self.gw.port, body)
        self.assertEqual(g.status, 200)
        payloads = [p for _, p in events]
        self.assertEqual(payloads[-1], "[DONE]")
        # The gateway asks upstream for usage (for its metrics) ...
        upstream_body = json.loads(SIM.last_request()["body"])
        self.assertEqual((upstream_body.get("stream_options") or {}).get("include_usage"), True,
                         "premise: the gateway requests usage upstream")
        # ... and must not pass it on to a client that did not ask.
        for p in payloads[:-1]:
            obj = json.loads(p)
            self.assertFalse(obj.get("usage"), "usage reached a client that did not ask: %s" % p)
            self.assertTrue(obj.get("choices"), "a chunk without choices (a stripped usage chunk?): %s" % p)

    def test_first_token_is_relayed_before_upstream_finishes(self):
        body = chat("phi-4-mini", "stream slowly " + SLOW, stream=True)
        g, events = self._stream(self.gw.port, body)
        self.assertEqual(g.status, 200)
        content = [(t, p) for t, p in events if p != "[DONE]" and stream_content([p])]
        self.assertGreaterEqual(len(content), 15, events)
        first, last = content[0][0], content[-1][0]
        self.assertLess(first, 0.5, "first token after %.3f s (buffered?)" % first)
        self.assertGreater(last, 0.8, "last token after %.3f s" % last)
        self.assertGreater(last - first, 0.5, "tokens arrived in a burst: %.3f..%.3f" % (first, last))

    # ---- upstream identity
    def test_upstream_model_and_bearer_token(self):
        status, headers, body = self.post(
            chat("renamed", "who are you"), headers={"Authorization": "Bearer client-secret"})
        self.assertEqual(status, 200, body)
        last = SIM.last_request()
        sent = json.loads(last["body"])
        self.assertEqual(sent.get("model"), "other-name", last)
        self.assertEqual(last["authorization"], "Bearer " + UPSTREAM_KEY)
        self.assertNotIn("client-secret", last["authorization"])
        self.assertEqual(headers.get("x-gateway-model"), "renamed")

    def test_client_authorization_not_forwarded(self):
        status, _, body = self.post(
            chat("phi-4-mini", "hi"), headers={"Authorization": "Bearer client-secret"})
        self.assertEqual(status, 200, body)
        last = SIM.last_request()
        self.assertEqual(json.loads(last["body"]).get("model"), "phi-4-mini")
        self.assertNotIn("client-secret", last["authorization"], last)
        self.assertEqual(last["authorization"], "", "no api_key_env: no Authorization upstream")

    # ---- upstream failures
    def test_upstream_down_is_502(self):
        t0 = time.monotonic()
        status, headers, body = self.post(chat("down-model", "hi"))
        self.assertEqual(status, 502, body)
        self.assertOpenAIError(body)
        self.assertIn("application/json", headers.get("content-type", ""))
        self.assertLess(time.monotonic() - t0, 3)
        self.assertServes()

    def test_upstream_down_streaming_is_502(self):
        s = SSEStream(self.gw.port, chat("down-model", "hi", stream=True))
        try:
            body = s.resp.read()
        finally:
            s.close()
        self.assertEqual(s.status, 502, body)
        self.assertOpenAIError(body)

    def test_upstream_stall_is_504(self):
        t0 = time.monotonic()
        status, _, body = self.post(chat("stall-model", "[sim:stall]"), timeout=5)
        elapsed = time.monotonic() - t0
        self.assertEqual(status, 504, body)
        self.assertOpenAIError(body)
        self.assertGreaterEqual(elapsed, 0.4)
        self.assertLess(elapsed, 2.0)
        self.assertServes()

    def test_upstream_error_503_is_relayed(self):
        status, _, body = self.post(chat("phi-4-mini", "[sim:error=503]"))
        self.assertEqual(status, 503, body)
        self.assertOpenAIError(body)

    def test_upstream_error_500_is_openai_shaped(self):
        status, _, body = self.post(chat("phi-4-mini", "[sim:error=500]"))
        self.assertEqual(status, 500, body)
        self.assertOpenAIError(body)

    def test_upstream_garbage_is_wrapped_as_502(self):
        # llm-sim answers 200 text/plain "this is not json"
        status, _, body = self.post(chat("phi-4-mini", "[sim:garbage]"))
        self.assertEqual(status, 502, body)
        self.assertOpenAIError(body)

    def test_upstream_garbage_streaming_is_502(self):
        # asked to stream, the upstream answers 200 text/plain: not an event stream, not JSON
        s = SSEStream(self.gw.port, chat("phi-4-mini", "[sim:garbage]", stream=True))
        try:
            body = s.resp.read()
        finally:
            s.close()
        self.assertEqual(s.status, 502, body)
        self.assertOpenAIError(body)

    def test_upstream_non_json_error_body_is_wrapped(self):
        for status, ctype, body in ((500, "text/html", b"<html><body>Internal oops</body></html>"),
                                    (429, "text/plain", b"slow down"),
                                    (503, "application/json", b"")):
            with self.subTest(status=status), FakeUpstream(status, body, ctype) as fake, \
                    Gateway(config_yaml(fake.port)) as gw:
                got, headers, resp = request(gw.port, "POST", CHAT, body=chat("phi-4-mini", "hi"))
                self.assertIn(got, (status, 502), resp)
                if status == 429:
                    self.assertEqual(got, 429, resp)
                self.assertIn("application/json", headers.get("content-type", ""))
                self.assertOpenAIError(resp)
                self.assertEqual(len(fake.requests), 1)

    def test_upstream_cut_non_streaming_is_502(self):
        status, _, body = self.post(chat("phi-4-mini", "[sim:cut=3]"))
        self.assertEqual(status, 502, body)
        self.assertOpenAIError(body)

    def test_stream_cut_midway_ends_with_error_event(self):
        g, events = self._stream(self.gw.port, chat("phi-4-mini", "[sim:cut=3]", stream=True))
        self.assertEqual(g.status, 200)
        payloads = [p for _, p in events]
        self.assertTrue(stream_content(payloads), "the tokens before the cut were relayed")
        self.assertNotIn("[DONE]", payloads[:-1])
        errors = [p for p in payloads if p != "[DONE]" and "error" in json.loads(p)]
        self.assertTrue(errors, "stream cut silently; last events: %s" % payloads[-3:])
        self.assertIn(errors[-1], payloads[-2:], "the error event is the end of the stream")
        err = json.loads(errors[-1])["error"]
        for key in ("message", "type", "param", "code"):
            self.assertIn(key, err)

    def test_stream_stall_midway_ends_with_error_event(self):
        t0 = time.monotonic()
        g, events = self._stream(self.gw.port, chat("stall-model", "[sim:stall_after=3]", stream=True))
        elapsed = time.monotonic() - t0
        self.assertEqual(g.status, 200)
        payloads = [p for _, p in events]
        self.assertTrue(stream_content(payloads))
        self.assertNotIn("[DONE]", payloads[:-1])
        errors = [p for p in payloads if p != "[DONE]" and "error" in json.loads(p)]
        self.assertTrue(errors, "stalled stream ended silently: %s" % payloads[-3:])
        self.assertLess(elapsed, 2.5, "stalled stream held the client for %.2f s" % elapsed)

    # ---- client disconnects
    def test_client_disconnect_midstream_closes_upstream(self):
        before = SIM.stats()["aborted_streams"]
        s = SSEStream(self.gw.port, chat("phi-4-mini", "[sim:tps=10][sim:tokens=60]", stream=True))
        got = None
        for _, p in s.events():
            if stream_content([p]):
                got = p
                break
        self.assertIsNotNone(got)
        self.assertGreaterEqual(SIM.stats()["active_streams"], 1)
        s.close()
        t0 = time.monotonic()
        after = SIM.wait_stats(lambda st: st["aborted_streams"] > before, timeout=1.5)
        self.assertGreater(after["aborted_streams"], before,
                           "upstream stream not aborted %.2f s after the client left" % (time.monotonic() - t0))
        self.assertServes()

    def _disconnect_during_ttft(self, stream):
        before = SIM.stats()["aborted_streams"]
        body = json.dumps(chat("phi-4-mini", "[sim:ttft=3000]", stream=stream)).encode()
        sock = raw_connect(self.gw.port)
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(body) + body)
        # wait until the gateway has reached the upstream
        SIM.wait_stats(lambda st: st["requests"] > 0 and st["open_connections"] > 0, timeout=1)
        time.sleep(0.3)
        sock.close()
        after = SIM.wait_stats(lambda st: st["aborted_streams"] > before, timeout=1.5)
        self.assertGreater(after["aborted_streams"], before,
                           "upstream kept waiting for nobody (stream=%s)" % stream)
        self.assertServes()

    def test_client_disconnect_during_ttft_streaming(self):
        self._disconnect_during_ttft(True)

    def test_client_disconnect_during_ttft_non_streaming(self):
        self._disconnect_during_ttft(False)

    def test_deeply_nested_json_is_400_not_a_crash(self):
        # Routing re-serialises the body, which recurses per level: 200,000 levels overflowed
        # the stack (SIGSEGV) before the gateway refused them.
        deep = ('{"model":"%s","messages":[{"role":"user","content":"hi"}],"x":'
                + "[" * 200000 + "]" * 200000 + "}")
        for model in ("auto", "phi-4-mini"):
            status, _, body = self.post((deep % model).encode())
            self.assertEqual(status, 400, body[:300])
            self.assertEqual(self.assertOpenAIError(body)["code"], "invalid_json")
        self.assertServes()

    # ---- connection reuse
    def test_keep_alive_reuses_connection(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.gw.port, timeout=5)
        try:
            socks = []
            for i in range(4):
                status, headers, body = request(self.gw.port, "POST", CHAT, body=chat("phi-4-mini", "n%d" % i),
                                                conn=conn)
                self.assertEqual(status, 200, body)
                self.assertNotEqual(headers.get("connection", "").lower(), "close")
                socks.append(conn.sock)
            status, _, body = request(self.gw.port, "GET", "/v1/models", conn=conn)
            self.assertEqual(status, 200)
            socks.append(conn.sock)
            # a streamed response on the same connection, then another request
            conn.request("POST", CHAT, body=json.dumps(chat("phi-4-mini", "s", stream=True)),
                         headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            self.assertIn(b"data: [DONE]", resp.read())
            socks.append(conn.sock)
            status, _, _ = request(self.gw.port, "GET", "/v1/models", conn=conn)
            self.assertEqual(status, 200)
            socks.append(conn.sock)
            self.assertIsNotNone(socks[0])
            self.assertTrue(all(s is socks[0] for s in socks), "connection was not kept alive")
        finally:
            conn.close()


# ============================================================================ input limits


class LimitsTest(GatewayCase):
    @classmethod
    def config(cls):
        return config_yaml(SIM.port, server={"max_body_bytes": 1024, "max_header_bytes": 1024,
                                             "header_timeout_ms": 500, "idle_timeout_ms": 700})

    def test_idle_keep_alive_connection_is_closed_after_idle_timeout(self):
        sock = raw_connect(self.gw.port)
        try:
            sock.sendall(b"GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n")
            first, closed, _ = read_until_close(sock, timeout=0.4)
            self.assertIn(b"200 OK", first)
            self.assertFalse(closed, "closed right after the response: keep-alive expected")
            # Nothing more is sent: the gateway closes the idle connection after idle_timeout_ms.
            rest, closed, waited = read_until_close(sock, timeout=3)
            self.assertTrue(closed, "idle connection still open after 3 s")
            self.assertEqual(rest, b"")
            self.assertLess(waited, 2.0)
        finally:
            sock.close()
        self.assertServes()

    def test_body_too_large_is_413(self):
        body = chat("phi-4-mini", "x" * 2000)
        status, _, resp = self.post(body)
        self.assertEqual(status, 413, resp)
        self.assertOpenAIError(resp)
        self.assertServes()

    def test_chunked_body_too_large_is_413(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.gw.port, timeout=5)
        try:
            body = json.dumps(chat("phi-4-mini", "y" * 3000)).encode()
            parts = iter([body[i:i + 500] for i in range(0, len(body), 500)])
            conn.request("POST", CHAT, body=parts, headers={"Content-Type": "application/json"},
                         encode_chunked=True)
            resp = conn.getresponse()
            data = resp.read()
        except (ConnectionError, http.client.HTTPException):
            self.fail("connection dropped instead of a 413")
        finally:
            conn.close()
        self.assertEqual(resp.status, 413, data)
        self.assertOpenAIError(data)
        self.assertServes()

    def test_headers_too_large_is_431_or_closed(self):
        sock = raw_connect(self.gw.port)
        try:
            sock.sendall(b"GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 4000 + b"\r\n\r\n")
        except ConnectionError:
            pass
        data, closed, _ = read_until_close(sock, timeout=3)
        sock.close()
        st = status_of(data)
        self.assertTrue(st == 431 or (st is None and closed), "got %r" % data[:200])
        if st == 431:
            self.assertOpenAIError(data.split(b"\r\n\r\n", 1)[1])
        self.assertServes()

    def test_malformed_json_is_400(self):
        status, _, body = self.post(b'{"model": "phi-4-mini", "messages": [', headers={"Content-Type": "application/json"})
        self.assertEqual(status, 400, body)
        self.assertOpenAIError(body)
        self.assertServes()

    def test_wrong_field_types_are_400(self):
        cases = [
            {"model": "phi-4-mini", "messages": "hello"},
            {"model": "phi-4-mini", "messages": [{"role": "user", "content": "hi"}], "stream": "yes"},
            {"model": 42, "messages": [{"role": "user", "content": "hi"}]},
            {"messages": [{"role": "user", "content": "hi"}]},
            ["not", "an", "object"],
        ]
        for body in cases:
            with self.subTest(body=body):
                status, _, resp = self.post(body)
                self.assertEqual(status, 400, resp)
                self.assertOpenAIError(resp)
        self.assertServes()

    def test_unknown_model_is_404_model_not_found(self):
        status, _, body = self.post(chat("no-such-model", "hi"))
        self.assertEqual(status, 404, body)
        err = self.assertOpenAIError(body)
        self.assertEqual(err["code"], "model_not_found")
        status, _, body = self.post(chat("no-such-model", "hi", stream=True))
        self.assertEqual(status, 404, body)
        self.assertOpenAIError(body)
        self.assertServes()

    def test_wrong_method_is_405(self):
        for method in ("GET", "PUT", "DELETE"):
            with self.subTest(method=method):
                status, _, body = request(self.gw.port, method, CHAT)
                self.assertEqual(status, 405, body)
                self.assertOpenAIError(body)
        status, _, body = request(self.gw.port, "POST", "/v1/models", body={})
        self.assertEqual(status, 405, body)
        self.assertOpenAIError(body)
        self.assertServes()

    def test_unknown_path_is_404(self):
        for path in ("/nope", "/v1/nope", "/v2/chat/completions"):
            with self.subTest(path=path):
                status, _, body = request(self.gw.port, "GET", path)
                self.assertEqual(status, 404, body)
                self.assertOpenAIError(body)
        self.assertServes()

    def _slow_client(self, payload):
        sock = raw_connect(self.gw.port)
        sock.sendall(payload)
        t0 = time.monotonic()
        # others are served meanwhile
        s, _, body = self.post(chat("phi-4-mini", "meanwhile"), timeout=2)
        served_after = time.monotonic() - t0
        self.assertEqual(s, 200, body)
        self.assertLess(served_after, 0.45, "another client waited for the slow one")
        data, closed, _ = read_until_close(sock, timeout=3)
        elapsed = time.monotonic() - t0
        sock.close()
        st = status_of(data)
        self.assertTrue(st == 408 or (st is None and closed),
                        "slow client got %r (closed=%s)" % (data[:200], closed))
        self.assertTrue(closed, "connection stayed open")
        self.assertGreaterEqual(elapsed, 0.4)
        self.assertLess(elapsed, 2.0, "slow client held on for %.2f s" % elapsed)

    def test_slow_client_partial_body(self):
        self._slow_client(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                          b"Content-Length: 200\r\n\r\n{\"model\":")

    def test_slow_client_partial_headers(self):
        self._slow_client(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Ty")


# ============================================================================ auth


class AuthTest(GatewayCase):
    env = {"GW_TEST_KEYS": "k1,k2"}

    @classmethod
    def config(cls):
        return config_yaml(SIM.port, auth={"api_keys_env": "GW_TEST_KEYS"})

    def test_no_key_is_401(self):
        status, _, body = self.post(chat("phi-4-mini", "hi"))
        self.assertEqual(status, 401, body)
        self.assertOpenAIError(body)

    def test_wrong_key_is_401(self):
        for auth in ("Bearer k3", "Bearer k1k2", "Bearer ", "k1", "Basic azE6"):
            with self.subTest(auth=auth):
                status, _, body = self.post(chat("phi-4-mini", "hi"), headers={"Authorization": auth})
                self.assertEqual(status, 401, body)
                self.assertOpenAIError(body)

    def test_valid_key_is_200(self):
        for key in ("k1", "k2"):
            with self.subTest(key=key):
                status, _, body = self.post(chat("phi-4-mini", "hi"), headers={"Authorization": "Bearer " + key})
                self.assertEqual(status, 200, body)
        last = SIM.last_request()
        self.assertNotIn("k2", last["authorization"], "client key forwarded upstream")

    def test_preflight_needs_no_key(self):
        status, headers, body = request(self.gw.port, "OPTIONS", CHAT, headers={
            "Origin": "http://a.test", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type"})
        self.assertEqual(status, 204, body)
        self.assertIn("access-control-allow-methods", headers)


# ============================================================================ CORS


class CorsTest(GatewayCase):
    @classmethod
    def config(cls):
        return config_yaml(SIM.port, cors={"allow_origins": ["http://a.test", "null"]})

    def test_allowed_origin_on_200(self):
        status, headers, body = self.post(chat("phi-4-mini", "hi"), headers={"Origin": "http://a.test"})
        self.assertEqual(status, 200, body)
        self.assertEqual(headers.get("access-control-allow-origin"), "http://a.test")
        expose = headers.get("access-control-expose-headers", "").lower()
        self.assertIn("x-gateway-route", expose)
        self.assertIn("vary", headers)
        self.assertIn("origin", headers["vary"].lower())

    def test_allowed_origin_on_error(self):
        status, headers, body = self.post(chat("no-such-model", "hi"), headers={"Origin": "http://a.test"})
        self.assertEqual(status, 404, body)
        self.assertEqual(headers.get("access-control-allow-origin"), "http://a.test")

    def test_allowed_origin_on_stream(self):
        s = SSEStream(self.gw.port, chat("phi-4-mini", "hi", stream=True), headers={"Origin": "http://a.test"})
        try:
            payloads = [p for _, p in s.collect()]
        finally:
            s.close()
        self.assertEqual(s.status, 200)
        self.assertEqual(s.headers.get("access-control-allow-origin"), "http://a.test")
        self.assertIn("x-gateway-route", s.headers.get("access-control-expose-headers", "").lower())
        self.assertEqual(payloads[-1], "[DONE]")

    def test_null_origin_echoed(self):
        status, headers, _ = request(self.gw.port, "GET", "/v1/models", headers={"Origin": "null"})
        self.assertEqual(status, 200)
        self.assertEqual(headers.get("access-control-allow-origin"), "null")

    def test_unlisted_origin_gets_no_acao(self):
        status, headers, _ = self.post(chat("phi-4-mini", "hi"), headers={"Origin": "http://evil.test"})
        self.assertEqual(status, 200)
        self.assertNotIn("access-control-allow-origin", headers)
        status, headers, _ = request(self.gw.port, "GET", "/v1/models")
        self.assertNotIn("access-control-allow-origin", headers, "no Origin, no wildcard: no ACAO")

    def test_preflight(self):
        status, headers, body = request(self.gw.port, "OPTIONS", CHAT, headers={
            "Origin": "http://a.test", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, x-custom-thing"})
        self.assertEqual(status, 204, body)
        self.assertEqual(body, b"")
        self.assertEqual(headers.get("access-control-allow-origin"), "http://a.test")
        self.assertIn("POST", headers.get("access-control-allow-methods", "").upper())
        allow_headers = headers.get("access-control-allow-headers", "").lower()
        self.assertIn("content-type", allow_headers)
        self.assertIn("x-custom-thing", allow_headers)

    def test_preflight_unlisted_origin(self):
        status, headers, _ = request(self.gw.port, "OPTIONS", CHAT, headers={
            "Origin": "http://evil.test", "Access-Control-Request-Method": "POST"})
        self.assertNotIn("access-control-allow-origin", headers)


class CorsWildcardTest(GatewayCase):
    @classmethod
    def config(cls):
        return config_yaml(SIM.port, cors={"allow_origins": ["*"]})

    def test_wildcard(self):
        status, headers, _ = self.post(chat("phi-4-mini", "hi"), headers={"Origin": "http://anything.test"})
        self.assertEqual(status, 200)
        self.assertEqual(headers.get("access-control-allow-origin"), "*")
        status, headers, _ = request(self.gw.port, "OPTIONS", CHAT, headers={
            "Origin": "http://anything.test", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization"})
        self.assertEqual(status, 204)
        self.assertEqual(headers.get("access-control-allow-origin"), "*")
        self.assertIn("authorization", headers.get("access-control-allow-headers", "").lower())


# ============================================================================ admin


class AdminTest(GatewayCase):
    def test_healthz(self):
        status, _, _ = request(self.gw.admin_port, "GET", "/healthz")
        self.assertEqual(status, 200)

    def test_readyz_when_upstream_up(self):
        status, _, body = request(self.gw.admin_port, "GET", "/readyz")
        self.assertEqual(status, 200, body)

    def test_metrics(self):
        labels = {"model": "phi-4-mini", "route": "direct", "code": "200"}
        before = metric_value(self.gw.metrics(), "gateway_requests_total", labels) or 0
        self.post(chat("phi-4-mini", "count me"))
        # Counted just after the answer's last byte: wait for it rather than race it.
        wait_metric(self.gw, "gateway_requests_total", labels, before + 1)
        status, headers, body = request(self.gw.admin_port, "GET", "/metrics")
        self.assertEqual(status, 200)
        self.assertTrue(headers.get("content-type", "").startswith("text/plain"), headers)
        text = body.decode()
        self.assertIn("gateway_", text)
        self.assertIn("# TYPE gateway_requests_total counter", text)
        n = metric_value(text, "gateway_requests_total", labels)
        self.assertIsNotNone(n, text[:3000])
        self.assertGreaterEqual(n, before + 1)

    def test_admin_not_on_api_port(self):
        status, _, _ = request(self.gw.port, "GET", "/metrics")
        self.assertEqual(status, 404)


class ReadyzAllDownTest(unittest.TestCase):
    def test_readyz_503_when_every_upstream_down(self):
        p1, p2 = free_port(), free_port()
        with Gateway(config_yaml(p1, p2)) as gw:
            deadline = time.monotonic() + 3
            while True:
                t0 = time.monotonic()
                status, _, body = request(gw.admin_port, "GET", "/readyz", timeout=3)
                self.assertLess(time.monotonic() - t0, 2.5, "readyz too slow")
                if status == 503 or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            self.assertEqual(status, 503, body)
            status, _, _ = request(gw.admin_port, "GET", "/healthz")
            self.assertEqual(status, 200)


# ============================================================================ reload, drain, check-config


class LifecycleTest(unittest.TestCase):
    def test_sighup_reload_adds_model(self):
        with Gateway(config_yaml(SIM.port)) as gw:
            _, _, body = request(gw.port, "GET", "/v1/models")
            self.assertNotIn("gpt-extra", [m["id"] for m in json.loads(body)["data"]])
            status, _, _ = request(gw.port, "POST", CHAT, body=chat("gpt-extra", "hi"))
            self.assertEqual(status, 404)
            mark = gw.mark()
            gw.reload(config_yaml(SIM.port, models={"gpt-extra": {"upstream": SIM.url,
                                                                   "upstream_model": "gpt-oss-20b"}}))
            self.assertIsNotNone(gw.wait_event("reloaded", timeout=3, start=mark), gw.output()[-2000:])
            _, _, body = request(gw.port, "GET", "/v1/models")
            self.assertIn("gpt-extra", [m["id"] for m in json.loads(body)["data"]])
            status, headers, body = request(gw.port, "POST", CHAT, body=chat("gpt-extra", "hi"))
            self.assertEqual(status, 200, body)
            self.assertEqual(json.loads(SIM.last_request()["body"])["model"], "gpt-oss-20b")
            n = metric_value(gw.metrics(), "gateway_config_reloads_total", {"result": "success"})
            self.assertEqual(n, 1)

    def test_sighup_reload_changes_upstream(self):
        with Sim(["phi-4-mini", "gpt-oss-20b"]) as sim2, Gateway(config_yaml(SIM.port)) as gw:
            request(gw.port, "POST", CHAT, body=chat("phi-4-mini", "one"))
            before = sim2.stats()["requests"]
            mark = gw.mark()
            gw.reload(config_yaml(sim2.port))
            self.assertIsNotNone(gw.wait_event("reloaded", timeout=3, start=mark), gw.output()[-2000:])
            status, _, body = request(gw.port, "POST", CHAT, body=chat("phi-4-mini", "two"))
            self.assertEqual(status, 200, body)
            self.assertEqual(sim2.stats()["requests"], before + 1)

    def test_sighup_invalid_config_rejected(self):
        with Gateway(config_yaml(SIM.port)) as gw:
            mark = gw.mark()
            gw.reload("server:\n  listen: [unclosed\nmodels: {\n")
            ev = None
            deadline = time.monotonic() + 3
            while ev is None and time.monotonic() < deadline:
                ev = gw.wait_event("reload_failed", timeout=0.1, start=mark) or \
                    gw.wait_event("reload_rejected", timeout=0.1, start=mark)
            self.assertIsNotNone(ev, gw.output()[-2000:])
            self.assertTrue(gw.alive())
            status, _, body = request(gw.port, "POST", CHAT, body=chat("phi-4-mini", "hi"))
            self.assertEqual(status, 200, body)
            _, _, body = request(gw.port, "GET", "/v1/models")
            self.assertIn("gpt-oss-20b", [m["id"] for m in json.loads(body)["data"]])
            # a semantically invalid config (valid YAML) is rejected too
            mark = gw.mark()
            gw.reload(config_yaml(SIM.port, models={"phi-4-mini": {"upstream": "not a url"}}))
            ev = None
            deadline = time.monotonic() + 3
            while ev is None and time.monotonic() < deadline:
                ev = gw.wait_event("reload_failed", timeout=0.1, start=mark)
            self.assertIsNotNone(ev, gw.output()[-2000:])
            status, _, body = request(gw.port, "POST", CHAT, body=chat("phi-4-mini", "hi"))
            self.assertEqual(status, 200, body)
            n = metric_value(gw.metrics(), "gateway_config_reloads_total", {"result": "failure"})
            self.assertEqual(n, 2, gw.metrics())

    def test_sigterm_drains_stream_then_exits_0(self):
        gw = Gateway(config_yaml(SIM.port))
        try:
            port = gw.port
            s = SSEStream(port, chat("phi-4-mini", "[sim:ttft=50][sim:tps=20][sim:tokens=30]", stream=True))
            events = s.events()
            payloads = []
            for _, p in events:
                payloads.append(p)
                if stream_content([p]):
                    break
            t_sig = time.monotonic()
            gw.signal(signal.SIGTERM)
            time.sleep(0.3)
            # new connections are refused (or at least get no service) while draining
            refused = False
            try:
                c = socket.create_connection(("127.0.0.1", port), timeout=1)
                try:
                    c.sendall(b"GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n")
                    data, closed, _ = read_until_close(c, timeout=1.5)
                    refused = status_of(data) in (None, 503) and closed
                finally:
                    c.close()
            except (ConnectionRefusedError, ConnectionResetError):
                refused = True
            self.assertTrue(refused, "a new connection was served while draining")
            for _, p in events:
                payloads.append(p)
            s.close()
            self.assertEqual(payloads[-1], "[DONE]", payloads[-3:])
            self.assertGreater(len(stream_content(payloads).split()), 25)
            code = gw.wait(timeout=6)  # no second signal: the first one must be enough
            self.assertEqual(code, 0, gw.output()[-2000:])
            self.assertLess(time.monotonic() - t_sig, 5)
            self.assertIsNotNone(gw.wait_event("draining", timeout=0.5), gw.output()[-2000:])
        finally:
            gw.close()

    def test_check_config(self):
        code, out, _ = run_check_config(config_yaml(SIM.port))
        self.assertEqual(code, 0, out)
        bad = config_yaml(SIM.port, models={"gpt-oss-20b": {"upstream": "ftp//nope"}})
        lines = bad.splitlines()
        bad_line = next(i + 1 for i, l in enumerate(lines) if "ftp//nope" in l)
        code, out, path = run_check_config(bad)
        self.assertEqual(code, 2, out)
        m = re.search(r"^%s:(\d+):(\d+): \S.*$" % re.escape(path), out, re.M)
        self.assertIsNotNone(m, out)
        self.assertEqual(int(m.group(1)), bad_line, out)
        # a YAML syntax error is located too
        code, out, path = run_check_config("server:\n  listen: \"127.0.0.1:0\n  threads: [\n")
        self.assertEqual(code, 2, out)
        self.assertRegex(out, r"(?m)^%s:\d+:\d+: \S" % re.escape(path))


if __name__ == "__main__":
    unittest.main()
