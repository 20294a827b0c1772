"""Integration tests of agents on `auto` (issue 10): tool calls and structured output are judged
for what they are, over real llm-sim and hybrid-gateway processes on loopback HTTP.

Run:  cd tests/integration && GW_BUILD_DIR=/work/main/build python3 -m unittest -v test_agents

llm-sim answers a request that offers `tools` with a call of the first tool (arguments built from
its schema's required parameters) unless the conversation ends with a tool result, and a request
with `response_format` json_object/json_schema with a JSON object holding the required
properties. Directives break either for one model: [sim:tool=NAME@phi-4-mini],
[sim:tool_args=not_object|missing@...], [sim:preamble=TEXT@...], [sim:tool_pieces=N@...],
[sim:bad_json@...], [sim:json_missing@...].

Seen defects each have a test here that failed before the change:
  1. a non-streamed tool call on auto was a "bad_response": fallback, then 502
     (test_tool_call_is_the_draft_non_stream)
  2. a streamed tool call was an "empty_draft": the large model answered as fallback and
     upstream_error was counted (test_tool_call_is_the_draft_stream, test_metrics_count_success)
  3. a preamble + tool call and `{"ok":true}` were escalated for chars_under
     (test_preamble_and_tool_call_not_chars_under, test_small_structured_answer_not_chars_under)
  7. developer messages bypassed before_draft.match (test_developer_message_is_matched)
"""

import json
import time
import unittest

from harness import GatewayCase, ModuleSim, SSEStream, config_yaml, metric_value, request, wait_metric

CHAT = "/v1/chat/completions"
DRAFT = "phi-4-mini"
LARGE = "gpt-oss-20b"

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["C", "F"]}},
            "required": ["city", "unit"],
        },
    },
}

OK_SCHEMA = {
    "type": "json_schema",
    "json_schema": {
        "name": "verdict",
        "strict": True,
        "schema": {
            "type": "object",
            "properties": {"ok": {"type": "boolean"}},
            "required": ["ok"],
            "additionalProperties": False,
        },
    },
}

TEXT_RULES = {"chars_under": 20, "finish_reason_length": True, "refusal": [r"(?i)\bI (don't|do not) know\b"]}

SIM = ModuleSim([DRAFT, LARGE], threads=2)
setUpModule, tearDownModule = SIM.start, SIM.stop


def gateway_config(new_rules, hold_tokens=24, match=None):
    after = dict(TEXT_RULES)
    if new_rules:
        after.update({"invalid_tool_call": True, "invalid_json": True})
    routing = {"after_draft": after, "stream": {"hold_tokens": hold_tokens}}
    if match:
        routing["before_draft"] = {"match": match}
    return config_yaml(SIM.port, routing=routing)


def sim_requests():
    return SIM.stats()["requests"]


def with_tools(content, stream=False, messages=None, **extra):
    body = {"model": "auto", "messages": messages or [{"role": "user", "content": content}],
            "tools": [WEATHER_TOOL]}
    if stream:
        body["stream"] = True
    body.update(extra)
    return body


def structured(content, stream=False, response_format=None):
    body = {"model": "auto", "messages": [{"role": "user", "content": content}],
            "response_format": response_format or OK_SCHEMA}
    if stream:
        body["stream"] = True
    return body


def assemble(payloads):
    """(text, [tool calls], finish_reason, models, ids) from a stream's data payloads."""
    text, calls, finish, models, ids = "", {}, None, set(), set()
    for p in payloads:
        if p == "[DONE]":
            continue
        chunk = json.loads(p)
        assert "error" not in chunk, chunk
        models.add(chunk.get("model"))
        ids.add(chunk.get("id"))
        for choice in chunk.get("choices", []):
            delta = choice.get("delta") or {}
            text += delta.get("content") or ""
            for tc in delta.get("tool_calls") or []:
                call = calls.setdefault(tc["index"], {"name": "", "arguments": ""})
                fn = tc.get("function") or {}
                call["name"] += fn.get("name") or ""
                call["arguments"] += fn.get("arguments") or ""
            if choice.get("finish_reason"):
                finish = choice["finish_reason"]
    return text, [calls[i] for i in sorted(calls)], finish, models, ids


class AgentCase(GatewayCase):
    NEW_RULES = True
    HOLD_TOKENS = 24
    MATCH = None

    @classmethod
    def config(cls):
        return gateway_config(cls.NEW_RULES, cls.HOLD_TOKENS, cls.MATCH)

    def post(self, body):
        status, headers, raw = request(self.gw.port, "POST", CHAT, body=body, timeout=10)
        return status, headers, json.loads(raw)

    def stream(self, body):
        st = SSEStream(self.gw.port, body, timeout=10)
        try:
            payloads = [p for _, p in st.collect()]
        finally:
            st.close()
        self.assertEqual(st.status, 200, st.raw[:500])
        self.assertIn("[DONE]", payloads)
        return st, payloads

    def assertRoute(self, headers, route, model, reason=None):
        self.assertEqual(headers.get("x-gateway-route"), route, headers)
        self.assertEqual(headers.get("x-gateway-model"), model, headers)
        self.assertEqual(headers.get("x-gateway-escalation-reason"), reason, headers)

    def assertWeatherCall(self, call):
        self.assertEqual(call["function"]["name"] if "function" in call else call["name"], "get_weather")
        args = json.loads(call["function"]["arguments"] if "function" in call else call["arguments"])
        self.assertIsInstance(args, dict)
        self.assertIn("city", args)
        self.assertIn("unit", args)


# ============================================================================ tool calls


class ToolCallsTest(AgentCase):
    """Rules on (invalid_tool_call, invalid_json, chars_under 20, refusal)."""

    def test_tool_call_is_the_draft_non_stream(self):
        before = sim_requests()
        status, headers, obj = self.post(with_tools("What is the weather in Oslo?"))
        self.assertEqual(status, 200, obj)
        self.assertRoute(headers, "draft", DRAFT)
        self.assertEqual(sim_requests() - before, 1, "one upstream call for a tool-call draft")
        choice = obj["choices"][0]
        self.assertEqual(choice["finish_reason"], "tool_calls")
        self.assertIsNone(choice["message"]["content"])
        self.assertEqual(len(choice["message"]["tool_calls"]), 1)
        self.assertWeatherCall(choice["message"]["tool_calls"][0])

    def test_tool_call_is_the_draft_stream(self):
        before = sim_requests()
        st, payloads = self.stream(with_tools("Weather in Bergen, streamed?", stream=True))
        self.assertRoute(st.headers, "draft", DRAFT)
        # The tool call's first argument delta is the first token (time to first token, Server-Timing).
        self.assertIn("ttft;dur=", st.headers.get("server-timing", ""))
        self.assertEqual(sim_requests() - before, 1, "one upstream call for a streamed tool call")
        text, calls, finish, models, ids = assemble(payloads)
        self.assertEqual(models, {DRAFT})
        self.assertEqual(len(ids), 1)
        self.assertEqual(text, "")
        self.assertEqual(finish, "tool_calls")
        self.assertEqual(len(calls), 1)
        self.assertWeatherCall(calls[0])

    def test_tool_call_in_many_pieces_past_the_hold_window(self):
        # 40 argument deltas, more than the 24-token hold window: still one tool call, relayed
        # whole, from the draft.
        st, payloads = self.stream(with_tools("[sim:tool_pieces=40@phi-4-mini] Weather?", stream=True))
        self.assertRoute(st.headers, "draft", DRAFT)
        _, calls, finish, _, _ = assemble(payloads)
        self.assertEqual(finish, "tool_calls")
        self.assertWeatherCall(calls[0])

    def test_two_step_tool_loop(self):
        for stream in (False, True):
            with self.subTest(stream=stream):
                messages = [{"role": "user", "content": "What is the weather in Oslo?"}]
                before = sim_requests()
                status, headers, obj = self.post(with_tools(None, messages=messages))
                self.assertEqual(status, 200, obj)
                self.assertRoute(headers, "draft", DRAFT)
                call = obj["choices"][0]["message"]["tool_calls"][0]
                messages += [obj["choices"][0]["message"],
                             {"role": "tool", "tool_call_id": call["id"], "content": '{"temp": 21}'}]
                body = with_tools(None, messages=messages, stream=stream)
                if stream:
                    st, payloads = self.stream(body)
                    headers = st.headers
                    text, calls, finish, _, _ = assemble(payloads)
                else:
                    status, headers, obj = self.post(body)
                    self.assertEqual(status, 200, obj)
                    text = obj["choices"][0]["message"]["content"]
                    calls = obj["choices"][0]["message"].get("tool_calls") or []
                self.assertRoute(headers, "draft", DRAFT)
                self.assertEqual(calls, [])
                self.assertGreater(len(text), 20)
                self.assertEqual(sim_requests() - before, 2, "one upstream call per step")

    def test_preamble_and_tool_call_not_chars_under(self):
        content = "[sim:preamble=Let_me_check.@phi-4-mini] Weather in Oslo?"
        status, headers, obj = self.post(with_tools(content))
        self.assertEqual(status, 200, obj)
        self.assertRoute(headers, "draft", DRAFT)
        message = obj["choices"][0]["message"]
        self.assertEqual(message["content"], "Let me check.")
        self.assertWeatherCall(message["tool_calls"][0])
        st, payloads = self.stream(with_tools(content, stream=True))
        self.assertRoute(st.headers, "draft", DRAFT)
        text, calls, _, _, _ = assemble(payloads)
        self.assertEqual(text, "Let me check.")
        self.assertWeatherCall(calls[0])

    def test_short_text_without_a_call_is_still_chars_under(self):
        # The other side of the boundary: the same text with no tool call is a short answer.
        status, headers, obj = self.post(with_tools("[sim:no_tool@phi-4-mini][sim:short@phi-4-mini] Hi"))
        self.assertEqual(status, 200, obj)
        self.assertRoute(headers, "escalated", LARGE, "chars_under")

    def test_invalid_tool_call_fires(self):
        cases = [
            ("unknown function", "[sim:tool=get_wether@phi-4-mini]", b"get_wether"),
            ("arguments not an object", "[sim:tool_args=not_object@phi-4-mini]", b"an object"),
            ("required parameter missing", "[sim:tool_args=missing@phi-4-mini]", None),
        ]
        for name, directive, draft_marker in cases:
            for stream in (False, True):
                with self.subTest(case=name, stream=stream):
                    content = directive + " Weather in Oslo?"
                    before = sim_requests()
                    esc_before = metric_value(self.gw.metrics(), "gateway_escalations_total",
                                              {"reason": "invalid_tool_call"}) or 0
                    if stream:
                        st, payloads = self.stream(with_tools(content, stream=True))
                        headers = st.headers
                        _, calls, finish, models, _ = assemble(payloads)
                        self.assertEqual(models, {LARGE}, "nothing of the rejected draft")
                        if draft_marker:
                            self.assertNotIn(draft_marker, st.raw)
                        call = calls[0]
                    else:
                        status, headers, obj = self.post(with_tools(content))
                        self.assertEqual(status, 200, obj)
                        finish = obj["choices"][0]["finish_reason"]
                        call = obj["choices"][0]["message"]["tool_calls"][0]
                    self.assertRoute(headers, "escalated", LARGE, "invalid_tool_call")
                    self.assertEqual(finish, "tool_calls")
                    self.assertWeatherCall(call)  # the large model's valid call
                    self.assertEqual(sim_requests() - before, 2)
                    esc_after = wait_metric(self.gw, "gateway_escalations_total",
                                            {"reason": "invalid_tool_call"}, esc_before + 1)
                    self.assertEqual(esc_after, esc_before + 1)


    def test_metrics_count_success(self):
        metrics = self.gw.metrics()
        errors_before = metric_value(metrics, "gateway_upstream_errors_total") or 0
        fallback_before = metric_value(metrics, "gateway_escalations_total", {"reason": "upstream_error"}) or 0
        draft_before = metric_value(metrics, "gateway_requests_total", {"route": "draft", "code": "200"}) or 0
        self.post(with_tools("Weather in Tromsø?"))
        self.stream(with_tools("Weather in Tromsø, streamed?", stream=True))
        self.post(structured("Is it ok?"))
        self.stream(structured("Is it ok, streamed?", stream=True))
        wait_metric(self.gw, "gateway_requests_total", {"route": "draft", "code": "200"}, draft_before + 4)
        metrics = self.gw.metrics()
        self.assertEqual(metric_value(metrics, "gateway_upstream_errors_total") or 0, errors_before)
        self.assertEqual(metric_value(metrics, "gateway_escalations_total", {"reason": "upstream_error"}) or 0,
                         fallback_before)
        self.assertEqual(metric_value(metrics, "gateway_requests_total", {"route": "draft", "code": "200"}),
                         draft_before + 4)
        for reason in ("invalid_tool_call", "invalid_json"):
            self.assertIsNotNone(metric_value(metrics, "gateway_escalations_total", {"reason": reason}),
                                 "gateway_escalations_total{reason=%s} is exported" % reason)


class OneTokenHoldTest(AgentCase):
    """hold_tokens 1: tool-call deltas count as progress, yet a call is held until complete."""

    HOLD_TOKENS = 1

    def test_invalid_tool_call_held_whole_past_the_window(self):
        # The first delta (the bad name) fills the window; the arguments come in 30 more deltas.
        # The call is judged once complete, and none of it reaches the client.
        content = "[sim:tool=lookup@phi-4-mini][sim:tool_pieces=30@phi-4-mini] Weather?"
        st, payloads = self.stream(with_tools(content, stream=True))
        self.assertRoute(st.headers, "escalated", LARGE, "invalid_tool_call")
        self.assertNotIn(b"lookup", st.raw)
        _, calls, _, models, _ = assemble(payloads)
        self.assertEqual(models, {LARGE})
        self.assertWeatherCall(calls[0])

    def test_valid_tool_call_relayed_whole(self):
        content = "[sim:tool_pieces=30@phi-4-mini] Weather?"
        st, payloads = self.stream(with_tools(content, stream=True))
        self.assertRoute(st.headers, "draft", DRAFT)
        self.assertWeatherCall(assemble(payloads)[1][0])


# ============================================================================ structured output


class StructuredOutputTest(AgentCase):
    def test_small_structured_answer_not_chars_under(self):
        # {"ok": true} is 12 characters, under chars_under 20: a whole answer all the same.
        for stream in (False, True):
            with self.subTest(stream=stream):
                before = sim_requests()
                if stream:
                    st, payloads = self.stream(structured("Is the plan ok?", stream=True))
                    headers = st.headers
                    text = assemble(payloads)[0]
                else:
                    status, headers, obj = self.post(structured("Is the plan ok?"))
                    self.assertEqual(status, 200, obj)
                    text = obj["choices"][0]["message"]["content"]
                self.assertRoute(headers, "draft", DRAFT)
                self.assertEqual(json.loads(text), {"ok": True})
                self.assertLess(len(text), 20)
                self.assertEqual(sim_requests() - before, 1)

    def test_invalid_json_fires(self):
        cases = [
            ("not json", "[sim:bad_json@phi-4-mini]", OK_SCHEMA),
            ("missing required property", "[sim:json_missing@phi-4-mini]", OK_SCHEMA),
            ("json_object not json", "[sim:bad_json@phi-4-mini]", {"type": "json_object"}),
        ]
        for name, directive, fmt in cases:
            for stream in (False, True):
                with self.subTest(case=name, stream=stream):
                    body = structured(directive + " Is the plan ok?", stream, fmt)
                    if stream:
                        st, payloads = self.stream(body)
                        headers = st.headers
                        text, _, _, models, _ = assemble(payloads)
                        self.assertEqual(models, {LARGE}, "nothing of the rejected draft")
                    else:
                        status, headers, obj = self.post(body)
                        self.assertEqual(status, 200, obj)
                        text = obj["choices"][0]["message"]["content"]
                    self.assertRoute(headers, "escalated", LARGE, "invalid_json")
                    self.assertIsInstance(json.loads(text), dict)


# ============================================================================ rules off


class RulesOffTest(AgentCase):
    """invalid_tool_call and invalid_json are off unless configured: the same drafts are kept."""

    NEW_RULES = False

    def test_invalid_tool_call_does_not_fire_when_off(self):
        for stream in (False, True):
            with self.subTest(stream=stream):
                body = with_tools("[sim:tool=get_wether@phi-4-mini] Weather?", stream=stream)
                if stream:
                    st, payloads = self.stream(body)
                    headers = st.headers
                    calls = assemble(payloads)[1]
                else:
                    status, headers, obj = self.post(body)
                    self.assertEqual(status, 200, obj)
                    calls = [c["function"] for c in obj["choices"][0]["message"]["tool_calls"]]
                self.assertRoute(headers, "draft", DRAFT)
                self.assertEqual(calls[0]["name"], "get_wether")

    def test_invalid_json_does_not_fire_when_off(self):
        for stream in (False, True):
            with self.subTest(stream=stream):
                body = structured("[sim:bad_json@phi-4-mini] Is the plan ok?", stream)
                if stream:
                    st, _ = self.stream(body)
                    headers = st.headers
                else:
                    status, headers, obj = self.post(body)
                    self.assertEqual(status, 200, obj)
                self.assertRoute(headers, "draft", DRAFT)


# ============================================================================ developer messages


class DeveloperMessageTest(AgentCase):
    MATCH = [r"(?i)\bincident\b"]

    def test_developer_message_is_matched(self):
        messages = [{"role": "developer", "content": "You are reviewing the incident report."},
                    {"role": "user", "content": "Summarise it."}]
        for stream in (False, True):
            with self.subTest(stream=stream):
                before = sim_requests()
                body = {"model": "auto", "messages": messages}
                if stream:
                    body["stream"] = True
                    st, _ = self.stream(body)
                    headers = st.headers
                else:
                    status, headers, obj = self.post(body)
                    self.assertEqual(status, 200, obj)
                self.assertRoute(headers, "escalated", LARGE, "match")
                self.assertEqual(sim_requests() - before, 1, "before_draft skips the draft")


if __name__ == "__main__":
    unittest.main()
