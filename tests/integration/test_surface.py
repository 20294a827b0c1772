"""The OpenAI surface besides chat (issue 10): /v1/models/{id}, rate-limit hints, /v1/responses,
/v1/completions, /v1/embeddings on named models, `auto` refused there with a 400 that says where
it is routed, and stream events relayed byte for byte. Real llm-sim + hybrid-gateway processes.

Run:  cd tests/integration && GW_BUILD_DIR=/work/main/build python3 -m unittest -v test_surface
"""

import json
import signal
import time
import unittest
import urllib.parse

from harness import FakeUpstream, Gateway, GatewayCase, ModuleSim, SSEStream, chat, config_yaml, metric_value, request

SIM = ModuleSim([])  # any model name, `phi4-mini:latest` too
setUpModule, tearDownModule = SIM.start, SIM.stop


def sse_events(raw):
    """(event name or None, data str) per SSE event of a raw body."""
    out = []
    for block in raw.decode().replace("\r\n", "\n").split("\n\n"):
        name, datas = None, []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                datas.append(line[5:].lstrip(" "))
        if datas:
            out.append((name, "\n".join(datas)))
    return out


def read_stream(port, path, body, timeout=5):
    s = SSEStream(port, body, path=path, timeout=timeout)
    payloads = [p for _, p in s.events()]
    s.close()
    return s, payloads


class SurfaceCase(GatewayCase):
    @classmethod
    def config(cls):
        return config_yaml(SIM.port, models={"phi4-mini:latest": {"upstream": SIM.url, "timeout_ms": 10000,
                                                                  "price": {"input_per_mtok": 1.0,
                                                                            "output_per_mtok": 1.0}}})

    def post(self, path, body, headers=None):
        return request(self.gw.port, "POST", path, body=body, headers=headers)

    def assertError(self, status, body, want_status, code=None):
        self.assertEqual(status, want_status, body)
        err = json.loads(body)["error"]
        for key in ("message", "type", "param", "code"):
            self.assertIn(key, err, body)
        if code:
            self.assertEqual(err["code"], code, body)
        return err

    def tokens(self, model, kind):
        return metric_value(self.gw.metrics(), "gateway_tokens_total", {"model": model, "kind": kind}) or 0

    def tokens_after(self, model, kind, before, want, timeout=2.0):
        """The token count's growth since `before`, polled: a request is counted just after its
        last byte went out, so a fast client can look before it is."""
        deadline = time.monotonic() + timeout
        while True:
            grown = self.tokens(model, kind) - before
            if grown >= want or time.monotonic() > deadline:
                return grown
            time.sleep(0.02)

    def cost(self, model):
        return metric_value(self.gw.metrics(), "gateway_cost_usd_total", {"model": model}) or 0

    def requests_counted(self, model, route="direct", code="200"):
        return metric_value(self.gw.metrics(), "gateway_requests_total",
                            {"model": model, "route": route, "code": code}) or 0


# ============================================================================ /v1/models/{id}


class ModelObjectTest(SurfaceCase):
    def test_each_configured_model_and_auto_has_a_model_object(self):
        _, _, listing = request(self.gw.port, "GET", "/v1/models")
        entries = {m["id"]: m for m in json.loads(listing)["data"]}
        self.assertIn("auto", entries)
        for model_id, entry in entries.items():
            status, headers, body = request(self.gw.port, "GET", "/v1/models/" + urllib.parse.quote(model_id, safe=""))
            self.assertEqual(status, 200, (model_id, body))
            self.assertIn("application/json", headers["content-type"])
            obj = json.loads(body)
            self.assertEqual(obj["id"], model_id)
            self.assertEqual(obj["object"], "model")
            self.assertEqual(set(obj), set(entry), "the same fields as the list's entry")

    def test_ollama_tag_raw_and_encoded(self):
        for path in ("/v1/models/phi4-mini:latest", "/v1/models/phi4-mini%3Alatest", "/v1/models/phi4-mini%3alatest"):
            status, _, body = request(self.gw.port, "GET", path)
            self.assertEqual(status, 200, (path, body))
            self.assertEqual(json.loads(body)["id"], "phi4-mini:latest")

    def test_unknown_id_is_404_openai_error(self):
        for path in ("/v1/models/nope", "/v1/models/org%2Fnope", "/v1/models/bad%zzescape", "/v1/models/a%00b"):
            status, headers, body = request(self.gw.port, "GET", path)
            err = self.assertError(status, body, 404, "model_not_found")
            self.assertEqual(err["param"], "model")
            self.assertEqual(headers.get("access-control-allow-origin"), "*", "CORS on errors too")

    def test_head_gets_the_length_and_no_body(self):
        status, headers, body = request(self.gw.port, "HEAD", "/v1/models/auto")
        self.assertEqual(status, 200)
        self.assertEqual(body, b"")
        self.assertGreater(int(headers["content-length"]), 0)

    def test_post_is_405(self):
        status, _, body = self.post("/v1/models/auto", {})
        self.assertError(status, body, 405)


# ============================================================================ rate-limit hints


class RateLimitHintsTest(SurfaceCase):
    def test_upstream_429_hints_reach_the_client(self):
        for stream in (False, True):
            status, headers, body = self.post(
                "/v1/chat/completions", chat("phi-4-mini", "[sim:error=429][sim:retry_after=7]", stream=stream))
            err = self.assertError(status, body, 429)
            self.assertEqual(err["type"], "rate_limit_error")
            self.assertEqual(headers.get("retry-after"), "7", headers)
            self.assertEqual(headers.get("retry-after-ms"), "7000", headers)
            self.assertEqual(headers.get("x-ratelimit-remaining-requests"), "0", headers)
            self.assertEqual(headers.get("x-ratelimit-reset-requests"), "7s", headers)
            self.assertIn("retry-after", headers.get("access-control-expose-headers", "").lower())

    def test_upstream_503_hints_on_responses_endpoint(self):
        status, headers, body = self.post("/v1/responses", {"model": "phi-4-mini",
                                                            "input": "[sim:error=503][sim:retry_after=3]"})
        self.assertError(status, body, 503)
        self.assertEqual(headers.get("retry-after"), "3")
        self.assertEqual(headers.get("x-ratelimit-limit-requests"), "60")

    def test_upstream_503_without_hint_gets_one(self):
        status, headers, body = self.post("/v1/chat/completions", chat("phi-4-mini", "[sim:error=503]"))
        self.assertError(status, body, 503)
        self.assertEqual(headers.get("retry-after"), "1")
        status, headers, body = self.post("/v1/chat/completions", chat("phi-4-mini", "[sim:error=500]"))
        self.assertError(status, body, 500)
        self.assertNotIn("retry-after", headers, "only 429 and 503 say when to come back")

    def test_routed_request_relays_hints_too(self):
        # Both models answer 429: the client gets the last one's answer with its hints.
        status, headers, body = self.post("/v1/chat/completions",
                                          chat("auto", "[sim:error=429][sim:retry_after=5]"))
        self.assertEqual(status, 429, body)
        self.assertEqual(headers.get("retry-after"), "5", headers)

    def test_hostile_upstream_headers_are_bounded(self):
        import http.server
        import threading

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = b'{"error":{"message":"slow down","type":"rate_limit_error","param":null,"code":null}}'
                self.send_response(429)
                self.send_header("Content-Type", "application/json")
                self.send_header("Retry-After", "2")
                self.send_header("X-RateLimit-Huge", "x" * 5000)
                for i in range(40):
                    self.send_header("x-ratelimit-n%d" % i, str(i))
                self.send_header("x-unrelated", "no")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        try:
            with Gateway(config_yaml(SIM.port, models={"phi-4-mini": {
                    "upstream": "http://127.0.0.1:%d/v1" % server.server_address[1]}})) as gw:
                status, headers, body = request(gw.port, "POST", "/v1/chat/completions", body=chat("phi-4-mini"))
        finally:
            server.shutdown()
            server.server_close()
        self.assertEqual(status, 429, body)
        self.assertEqual(headers.get("retry-after"), "2")
        self.assertNotIn("x-ratelimit-huge", headers, "an oversized value is not relayed")
        self.assertNotIn("x-unrelated", headers)
        relayed = [h for h in headers if h.startswith("x-ratelimit-") or h.startswith("retry-after")]
        self.assertLessEqual(len(relayed), 16, relayed)

    def test_gateway_own_503_on_drain_carries_retry_after(self):
        gw = Gateway(config_yaml(SIM.port, server={"drain_timeout_ms": 300}))
        try:
            import threading
            result = {}

            def call():
                result["r"] = request(gw.port, "POST", "/v1/chat/completions",
                                      body=chat("phi-4-mini", "[sim:ttft=3000]"), timeout=8)

            t = threading.Thread(target=call)
            t.start()
            time.sleep(0.3)
            gw.signal(signal.SIGTERM)
            t.join(8)
            status, headers, body = result["r"]
            self.assertEqual(status, 503, body)
            self.assertEqual(headers.get("retry-after"), "1", headers)
        finally:
            gw.close()


# ============================================================================ passthrough endpoints


class ResponsesTest(SurfaceCase):
    def test_non_stream_answer_headers_tokens_cost(self):
        before = (self.tokens("phi-4-mini", "prompt"), self.tokens("phi-4-mini", "completion"),
                  self.cost("phi-4-mini"))
        status, headers, body = self.post("/v1/responses", {"model": "phi-4-mini", "input": "[sim:tokens=9] hi"})
        self.assertEqual(status, 200, body)
        self.assertEqual(headers["x-gateway-route"], "direct")
        self.assertEqual(headers["x-gateway-model"], "phi-4-mini")
        self.assertIn("total;dur=", headers["server-timing"])
        obj = json.loads(body)
        self.assertEqual(obj["object"], "response")
        self.assertEqual(obj["status"], "completed")
        self.assertEqual(obj["output"][0]["type"], "message")
        self.assertEqual(len(obj["output"][0]["content"][0]["text"].split()), 9)
        usage = obj["usage"]
        self.assertEqual(usage["output_tokens"], 9)
        self.assertEqual(SIM.last_request()["path"], "/v1/responses")
        self.assertEqual(self.tokens_after("phi-4-mini", "completion", before[1], 9), 9)
        self.assertEqual(self.tokens_after("phi-4-mini", "prompt", before[0], usage["input_tokens"]), usage["input_tokens"])
        self.assertGreater(self.cost("phi-4-mini"), before[2])

    def test_stream_has_the_responses_event_types(self):
        before = self.tokens("gpt-oss-20b", "completion")
        s, payloads = read_stream(self.gw.port, "/v1/responses",
                                  {"model": "gpt-oss-20b", "input": "[sim:tokens=5] hi", "stream": True})
        self.assertEqual(s.status, 200)
        self.assertEqual(s.headers["x-gateway-route"], "direct")
        self.assertIn("text/event-stream", s.headers["content-type"])
        events = sse_events(s.raw)
        types = [json.loads(d)["type"] for _, d in events]
        self.assertEqual(types[:4], ["response.created", "response.in_progress", "response.output_item.added",
                                     "response.content_part.added"])
        self.assertEqual(types.count("response.output_text.delta"), 5)
        self.assertEqual(types[-4:], ["response.output_text.done", "response.content_part.done",
                                      "response.output_item.done", "response.completed"])
        self.assertEqual([n for n, _ in events], types, "each event named by its type")
        self.assertEqual(self.tokens_after("gpt-oss-20b", "completion", before, 5), 5)

    def test_auto_is_400_naming_the_endpoint_and_models(self):
        for stream in (False, True):
            status, _, body = self.post("/v1/responses", {"model": "auto", "input": "hi", "stream": stream})
            err = self.assertError(status, body, 400, "model_not_supported_on_endpoint")
            self.assertEqual(
                err["message"],
                "model 'auto' is routed on /v1/chat/completions only; ask /v1/responses for a named model: "
                "phi-4-mini, gpt-oss-20b, phi4-mini:latest")
            self.assertEqual(err["param"], "model")

    def test_unknown_model_is_404(self):
        status, _, body = self.post("/v1/responses", {"model": "nope", "input": "hi"})
        self.assertError(status, body, 404, "model_not_found")

    def test_bad_json_is_400(self):
        status, _, body = self.post("/v1/responses", b"{not json")
        self.assertError(status, body, 400)
        status, _, body = self.post("/v1/responses", {"input": "no model"})
        self.assertError(status, body, 400)

    def test_get_is_405(self):
        status, _, body = request(self.gw.port, "GET", "/v1/responses")
        self.assertError(status, body, 405)


class CompletionsTest(SurfaceCase):
    def test_non_stream(self):
        before = self.tokens("phi-4-mini", "completion")
        status, headers, body = self.post("/v1/completions", {"model": "phi-4-mini", "prompt": "[sim:tokens=4] go"})
        self.assertEqual(status, 200, body)
        self.assertEqual(headers["x-gateway-model"], "phi-4-mini")
        obj = json.loads(body)
        self.assertEqual(obj["object"], "text_completion")
        self.assertEqual(len(obj["choices"][0]["text"].split()), 4)
        self.assertEqual(obj["usage"]["completion_tokens"], 4)
        self.assertEqual(self.tokens_after("phi-4-mini", "completion", before, 4), 4)

    def test_stream_counts_usage_the_client_did_not_ask_for(self):
        before = self.tokens("phi-4-mini", "completion")
        s, payloads = read_stream(self.gw.port, "/v1/completions",
                                  {"model": "phi-4-mini", "prompt": "[sim:tokens=6] go", "stream": True})
        self.assertEqual(s.status, 200)
        self.assertEqual(payloads[-1], "[DONE]")
        chunks = [json.loads(p) for p in payloads[:-1]]
        self.assertTrue(all("usage" not in c for c in chunks), "usage the client did not ask for is dropped")
        self.assertEqual(len("".join(c["choices"][0]["text"] for c in chunks).split()), 6)
        self.assertEqual(self.tokens_after("phi-4-mini", "completion", before, 6), 6, "yet counted")
        self.assertIn('"include_usage":true', SIM.last_request()["body"].replace(" ", ""))

    def test_stream_with_usage_asked(self):
        s, payloads = read_stream(self.gw.port, "/v1/completions",
                                  {"model": "phi-4-mini", "prompt": "[sim:tokens=3] go", "stream": True,
                                   "stream_options": {"include_usage": True}})
        usage = [json.loads(p)["usage"] for p in payloads[:-1] if "usage" in json.loads(p)]
        self.assertEqual(usage[-1]["completion_tokens"], 3)

    def test_auto_is_400(self):
        status, _, body = self.post("/v1/completions", {"model": "auto", "prompt": "hi"})
        err = self.assertError(status, body, 400, "model_not_supported_on_endpoint")
        self.assertIn("/v1/chat/completions", err["message"])


class EmbeddingsTest(SurfaceCase):
    def test_vectors_and_prompt_tokens(self):
        before_prompt = self.tokens("phi-4-mini", "prompt")
        before_cost = self.cost("phi-4-mini")
        status, headers, body = self.post("/v1/embeddings",
                                          {"model": "phi-4-mini", "input": ["first text", "second text here"]})
        self.assertEqual(status, 200, body)
        self.assertEqual(headers["x-gateway-route"], "direct")
        obj = json.loads(body)
        self.assertEqual(obj["object"], "list")
        self.assertEqual([d["index"] for d in obj["data"]], [0, 1])
        self.assertEqual(len(obj["data"][0]["embedding"]), 8)
        self.assertNotEqual(obj["data"][0]["embedding"], obj["data"][1]["embedding"])
        self.assertEqual(obj["usage"]["prompt_tokens"], obj["usage"]["total_tokens"])
        self.assertEqual(self.tokens_after("phi-4-mini", "prompt", before_prompt, obj["usage"]["prompt_tokens"]), obj["usage"]["prompt_tokens"])
        self.assertGreater(self.cost("phi-4-mini"), before_cost)
        # Deterministic: the same input, the same vector.
        _, _, again = self.post("/v1/embeddings", {"model": "phi-4-mini", "input": "first text"})
        self.assertEqual(json.loads(again)["data"][0]["embedding"], obj["data"][0]["embedding"])

    def test_auto_is_400_naming_the_models(self):
        status, _, body = self.post("/v1/embeddings", {"model": "auto", "input": "x"})
        err = self.assertError(status, body, 400, "model_not_supported_on_endpoint")
        self.assertIn("phi-4-mini, gpt-oss-20b", err["message"])

    def test_missing_input_is_400(self):
        status, _, body = self.post("/v1/embeddings", {"model": "phi-4-mini"})
        err = self.assertError(status, body, 400)
        self.assertEqual(err["param"], "input")


class PromptLogTest(unittest.TestCase):
    def test_log_prompts_records_the_input_string(self):
        with Gateway(config_yaml(SIM.port, server={"log_prompts": True})) as gw:
            mark = gw.mark()
            status, _, _ = request(gw.port, "POST", "/v1/responses",
                                   body={"model": "phi-4-mini", "input": "what is the plan"})
            self.assertEqual(status, 200)
            ev = gw.wait_event("request", start=mark)
            self.assertEqual(ev["path"], "/v1/responses")
            self.assertEqual(ev.get("prompt"), "what is the plan")


class AuthAndCorsTest(unittest.TestCase):
    def test_key_required_on_every_new_path(self):
        with Gateway(config_yaml(SIM.port, auth={"api_keys_env": "GW_SURFACE_KEYS"}),
                     env={"GW_SURFACE_KEYS": "k1"}) as gw:
            for method, path, body in (("GET", "/v1/models/auto", None),
                                       ("POST", "/v1/responses", {"model": "phi-4-mini", "input": "x"}),
                                       ("POST", "/v1/completions", {"model": "phi-4-mini", "prompt": "x"}),
                                       ("POST", "/v1/embeddings", {"model": "phi-4-mini", "input": "x"})):
                status, _, _ = request(gw.port, method, path, body=body)
                self.assertEqual(status, 401, path)
                status, _, resp = request(gw.port, method, path, body=body, headers={"Authorization": "Bearer k1"})
                self.assertEqual(status, 200, (path, resp))


# ============================================================================ byte-for-byte relay


ODD_EVENTS = (
    b'data: {"choices":[{"delta":{"content":"Hi"} ,"index":0,"finish_reason":null,"logprobs":null}],'
    b'  "model":"phi-4-mini","object":"chat.completion.chunk","id":"c1","created":1,"usage":null}\n\n'
    b'data:{"object": "chat.completion.chunk", "id": "c1","created":1,"model":"phi-4-mini",'
    b'"choices":[{"index":0,"delta":{"content":" there"},"finish_reason":"stop"}],"usage" : null}\n\n'
    b'data: {"zeta":1,"choices":[],"id":"c1","usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}\n\n'
    b"data: [DONE]\n\n"
)


class ByteForByteTest(unittest.TestCase):
    def test_direct_stream_events_arrive_unchanged(self):
        with FakeUpstream(status=200, body=ODD_EVENTS, content_type="text/event-stream") as up, \
                Gateway(config_yaml(SIM.port, models={"phi-4-mini": {"upstream": up.url}})) as gw:
            # The client asked for usage: nothing needs changing, every byte arrives as sent.
            s = SSEStream(gw.port, chat("phi-4-mini", "x", stream=True, stream_options={"include_usage": True}))
            list(s.events())
            s.close()
            self.assertEqual(s.raw, ODD_EVENTS)
            # Not asked: the usage-only event is dropped, the others still byte for byte.
            s = SSEStream(gw.port, chat("phi-4-mini", "x", stream=True))
            list(s.events())
            s.close()
            self.assertEqual(s.raw, ODD_EVENTS.replace(ODD_EVENTS.split(b"\n\n")[2] + b"\n\n", b""))
            deadline = time.monotonic() + 2  # counted just after the last byte went out: poll
            while True:
                tokens = metric_value(gw.metrics(), "gateway_tokens_total",
                                      {"model": "phi-4-mini", "kind": "completion"})
                if tokens == 4 or time.monotonic() > deadline:
                    break
                time.sleep(0.02)
            self.assertEqual(tokens, 4, "usage read from the relayed events both times")

    def test_responses_stream_relayed_byte_for_byte(self):
        body = {"model": "phi-4-mini", "input": "[sim:tokens=4] hi", "stream": True}
        direct = SSEStream(SIM.port, body, path="/v1/responses")
        list(direct.events())
        direct.close()
        with Gateway(config_yaml(SIM.port)) as gw:
            s = SSEStream(gw.port, body, path="/v1/responses")
            list(s.events())
            s.close()

        def strip_ids(raw):  # ids and timestamps differ per request; nothing else may
            import re
            return re.sub(rb'"(id|item_id)":"[^"]*"|"created_at":\d+', b"", raw)

        self.assertEqual(strip_ids(s.raw), strip_ids(direct.raw))


if __name__ == "__main__":
    unittest.main()
