"""Integration tests of hybrid routing (issue 3, SPEC.md): `model: "auto"` over real llm-sim and
hybrid-gateway processes on loopback HTTP.

Run:  cd tests/integration && GW_BUILD_DIR=/work/main/build python3 -m unittest -v test_routing

The simulator's answers are deterministic per model + messages, so the text a model would give is
known by asking it directly (sim_answer) and compared with what the gateway relays.
"""

import json
import re
import threading
import time
import unittest

from harness import (
    Gateway,
    GatewayCase,
    ModuleSim,
    SSEStream,
    chat,
    config_yaml,
    free_port,
    metric_value,
    request,
    run_check_config,
    stream_content,
    wait_metric,
)

CHAT = "/v1/chat/completions"
DRAFT = "phi-4-mini"
LARGE = "gpt-oss-20b"

FLAG = r"(?i)\b(contract|incident|diagnos)"
REFUSAL = [r"(?i)\bI (don't|do not) know\b", r"(?i)insufficient (context|information)"]
REFINE_PROMPT = "Improve clarity but keep facts:\n{draft}"

# Every rule on (chars_over aside: the sim's default 60-token answers would all trip it).
RULES = {
    "before_draft": {"prompt_chars_over": 400, "match": [FLAG]},
    "after_draft": {
        "chars_under": 20,
        "finish_reason_length": True,
        "refusal": REFUSAL,
        "mean_logprob_under": -1.5,
    },
}

LONG_PROMPT = "Please summarise the quarterly numbers for the board. " * 10  # 540 chars, no flag

# reason -> (prompt, decided before the draft?)
REASON_CASES = [
    ("prompt_chars_over", LONG_PROMPT, True),
    ("match", "Summarise the contract terms for the board.", True),
    ("chars_under", "[sim:short@phi-4-mini] How are we doing?", False),
    # 12 tokens: the whole draft fits in a 24-token hold, so a streamed request can judge it too.
    ("finish_reason_length", "[sim:tokens=12@phi-4-mini][sim:length@phi-4-mini] Status?", False),
    ("refusal", "[sim:refuse@phi-4-mini] What is the cash runway?", False),
    ("mean_logprob_under", "[sim:logprob=-3@phi-4-mini] What changed this quarter?", False),
]

SIM = ModuleSim([DRAFT, LARGE], threads=4)  # one simulator shared by every test class
setUpModule, tearDownModule = SIM.start, SIM.stop


# --------------------------------------------------------------------------- helpers


def routing_config(routing=None, **sections):
    """The harness's two-model config with `routing` merged into its routing section."""
    return config_yaml(SIM.port, routing=routing or {}, **sections)


def messages_of(content):
    return [{"role": "user", "content": content}]


def sim_answer(model, content, **extra):
    """What `model` answers directly (no gateway) to one user message: the parsed body."""
    status, _, body = request(SIM.port, "POST", CHAT, body=chat(model, content, **extra), timeout=5)
    assert status == 200, (model, content, body)
    return json.loads(body)


def text_of(answer):
    return answer["choices"][0]["message"]["content"]


def data_chunks(payloads):
    """The JSON objects of the data events (not [DONE])."""
    out = []
    for p in payloads:
        if p == "[DONE]":
            continue
        out.append(json.loads(p))
    return out


def error_events(payloads):
    return [c for c in data_chunks(payloads) if "error" in c]


def stream_payloads(port, body, timeout=5):
    """(SSEStream, [(t, payload)]) of one streamed request, read to the end."""
    st = SSEStream(port, body, timeout=timeout)
    try:
        events = st.collect()
    finally:
        st.close()
    return st, events


def sim_requests():
    return SIM.stats()["requests"]


def line_of(yaml_text, needle):
    """1-based number of the first line of yaml_text containing needle."""
    for i, line in enumerate(yaml_text.splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError("%r not in config:\n%s" % (needle, yaml_text))


class RoutingCase(GatewayCase):
    """One gateway per class (class-wide), built from the class's `routing`."""

    routing = RULES
    sections = {}

    @classmethod
    def config(cls):
        return routing_config(cls.routing, **cls.sections)

    # -- requests
    def post(self, body, port=None, timeout=5):
        status, headers, raw = request(port or self.gw.port, "POST", CHAT, body=body, timeout=timeout)
        try:
            obj = json.loads(raw)
        except ValueError:
            self.fail("response is not JSON (%d): %r" % (status, raw[:300]))
        return status, headers, obj

    def stream(self, body, port=None, timeout=5):
        return stream_payloads(port or self.gw.port, body, timeout)

    # -- assertions
    def assertRoute(self, headers, route, model, reason=None, msg=""):
        ctx = "%s headers=%s" % (msg, headers)
        self.assertEqual(headers.get("x-gateway-route"), route, ctx)
        self.assertEqual(headers.get("x-gateway-model"), model, ctx)
        if reason is None:
            self.assertNotIn("x-gateway-escalation-reason", headers, ctx)
        else:
            self.assertEqual(headers.get("x-gateway-escalation-reason"), reason, ctx)
        timing = headers.get("server-timing", "")
        for stage in ("prep", "total"):
            self.assertRegex(timing, r"(^|, )%s;dur=\d+(\.\d+)?" % stage, ctx)

    def assertStages(self, headers, *stages, absent=()):
        timing = headers.get("server-timing", "")
        names = [part.strip().split(";")[0] for part in timing.split(",") if part.strip()]
        for s in stages:
            self.assertIn(s, names, "Server-Timing %r lacks %s" % (timing, s))
        for s in absent:
            self.assertNotIn(s, names, "Server-Timing %r has %s" % (timing, s))

    def assertCleanStream(self, st, events, model, msg=""):
        """200 SSE, every chunk from `model`, no error event, ends with [DONE]; returns the text."""
        payloads = [p for _, p in events]
        self.assertEqual(st.status, 200, msg)
        self.assertIn("text/event-stream", st.headers.get("content-type", ""), msg)
        self.assertTrue(payloads, "empty stream " + msg)
        self.assertEqual(payloads[-1], "[DONE]", "stream did not end with [DONE] %s: %s" % (msg, payloads[-3:]))
        self.assertEqual(error_events(payloads), [], msg)
        chunks = data_chunks(payloads)
        for c in chunks:
            self.assertEqual(c.get("model"), model, "chunk from the wrong model %s: %s" % (msg, c))
        ids = {c.get("id") for c in chunks}
        self.assertEqual(len(ids), 1, "chunks of several upstream answers %s: %s" % (msg, ids))
        return stream_content(payloads)

    def assertOpenAIError(self, obj, msg=""):
        self.assertIn("error", obj, msg)
        err = obj["error"]
        self.assertIsInstance(err, dict, msg)
        for key in ("message", "type", "param", "code"):
            self.assertIn(key, err, "error object lacks %r %s: %s" % (key, msg, obj))
        self.assertTrue(err["message"], msg)
        return err

    def assertServes(self):
        status, headers, obj = self.post(chat("auto", "Still there?"))
        self.assertEqual(status, 200, obj)
        self.assertIn(headers.get("x-gateway-route"), ("draft", "escalated"), headers)
        self.assertTrue(self.gw.alive(), "gateway exited:\n" + self.gw.output()[-2000:])


# ============================================================================ reasons


class ReasonsTest(RoutingCase):
    """Every rule fires and is reported, non-streaming and streaming; normal prompts stay drafts."""

    def test_normal_prompt_is_accepted_as_draft(self):
        content = "How did the quarter go?"
        expected = text_of(sim_answer(DRAFT, content))
        before = sim_requests()
        status, headers, obj = self.post(chat("auto", content))
        self.assertEqual(status, 200, obj)
        self.assertRoute(headers, "draft", DRAFT)
        self.assertStages(headers, "ttft", absent=("escalation",))
        self.assertEqual(obj["model"], DRAFT)
        self.assertEqual(text_of(obj), expected)
        self.assertEqual(sim_requests() - before, 1, "an accepted draft costs one upstream call")

    def test_normal_prompt_is_accepted_as_draft_streaming(self):
        content = "How did the quarter go, in a stream?"
        expected = text_of(sim_answer(DRAFT, content))
        st, events = self.stream(chat("auto", content, stream=True))
        self.assertRoute(st.headers, "draft", DRAFT)
        self.assertEqual(self.assertCleanStream(st, events, DRAFT), expected)

    def test_each_reason_fires_non_streaming(self):
        for reason, content, before_draft in REASON_CASES:
            with self.subTest(reason=reason):
                expected = text_of(sim_answer(LARGE, content))
                metrics_before = metric_value(self.gw.metrics(), "gateway_escalations_total",
                                              {"reason": reason}) or 0
                calls_before = sim_requests()
                status, headers, obj = self.post(chat("auto", content))
                self.assertEqual(status, 200, obj)
                self.assertRoute(headers, "escalated", LARGE, reason)
                self.assertEqual(obj["model"], LARGE)
                self.assertEqual(text_of(obj), expected)
                calls = sim_requests() - calls_before
                if before_draft:
                    self.assertEqual(calls, 1, "before_draft must skip the draft")
                    self.assertStages(headers, "ttft", absent=("draft",))
                else:
                    self.assertEqual(calls, 2, "draft + escalation")
                    self.assertStages(headers, "ttft", "draft", "escalation")
                after = wait_metric(self.gw, "gateway_escalations_total", {"reason": reason},
                                    metrics_before + 1)
                self.assertEqual(after, metrics_before + 1, "gateway_escalations_total{reason=%s}" % reason)

    def test_each_reason_fires_streaming(self):
        for reason, content, before_draft in REASON_CASES:
            with self.subTest(reason=reason):
                expected = text_of(sim_answer(LARGE, content))
                st, events = self.stream(chat("auto", content, stream=True))
                self.assertRoute(st.headers, "escalated", LARGE, reason)
                text = self.assertCleanStream(st, events, LARGE, reason)
                # Only large-model text: exactly what gpt-oss-20b says, so no held draft token
                # leaked in front of it. (The sim's generated text depends on the messages only:
                # a generated draft can be a prefix of the large answer, so equality is the test;
                # test_streamed_escalation_contains_no_draft_text uses a draft of other words.)
                self.assertEqual(text, expected, reason)
                if not before_draft:
                    self.assertStages(st.headers, "draft", "escalation")

    def test_streamed_escalation_contains_no_draft_text(self):
        # The refusal is found in the held prefix; none of it may reach the client.
        content = "[sim:refuse@phi-4-mini] Is the context sufficient for the forecast?"
        draft = text_of(sim_answer(DRAFT, content))
        self.assertIn("I don't know", draft)  # the test's premise
        st, events = self.stream(chat("auto", content, stream=True))
        self.assertRoute(st.headers, "escalated", LARGE, "refusal")
        text = self.assertCleanStream(st, events, LARGE)
        self.assertEqual(text, text_of(sim_answer(LARGE, content)))
        for piece in ("I don't", "know.", "insufficient"):
            self.assertNotIn(piece, text)
        self.assertNotIn(b"I don't know", st.raw)

    def test_rule_order_first_rule_wins(self):
        cases = [
            # finish_reason_length before refusal before mean_logprob_under before chars_under
            ("[sim:refuse@phi-4-mini][sim:logprob=-3@phi-4-mini][sim:length@phi-4-mini] A?",
             "finish_reason_length"),
            ("[sim:refuse@phi-4-mini][sim:logprob=-3@phi-4-mini] B?", "refusal"),
            ("[sim:short@phi-4-mini][sim:logprob=-3@phi-4-mini] C?", "mean_logprob_under"),
            # before_draft: prompt_chars_over before match
            (LONG_PROMPT + " and the incident report", "prompt_chars_over"),
        ]
        for content, reason in cases:
            with self.subTest(reason=reason):
                status, headers, obj = self.post(chat("auto", content))
                self.assertEqual(status, 200, obj)
                self.assertRoute(headers, "escalated", LARGE, reason)

    def test_usage_summed_over_draft_and_escalation(self):
        content = "[sim:short@phi-4-mini] How much did we spend?"
        d = sim_answer(DRAFT, content)["usage"]
        e = sim_answer(LARGE, content)["usage"]
        status, headers, obj = self.post(chat("auto", content))
        self.assertEqual(status, 200, obj)
        self.assertRoute(headers, "escalated", LARGE, "chars_under")
        usage = obj.get("usage")
        self.assertIsInstance(usage, dict, obj)
        self.assertEqual(usage.get("prompt_tokens"), d["prompt_tokens"] + e["prompt_tokens"], usage)
        self.assertEqual(usage.get("completion_tokens"), d["completion_tokens"] + e["completion_tokens"], usage)
        self.assertEqual(usage.get("total_tokens"), d["total_tokens"] + e["total_tokens"], usage)

    def test_usage_of_accepted_draft_is_the_drafts(self):
        content = "What is the hiring outlook?"
        d = sim_answer(DRAFT, content)["usage"]
        status, headers, obj = self.post(chat("auto", content))
        self.assertRoute(headers, "draft", DRAFT)
        self.assertEqual(obj.get("usage"), d)

    def test_draft_asked_for_logprobs_and_they_are_stripped(self):
        content = "Summarise the pipeline."
        status, headers, obj = self.post(chat("auto", content))
        self.assertRoute(headers, "draft", DRAFT)
        sent = json.loads(SIM.last_request()["body"])
        self.assertEqual(sent.get("model"), DRAFT)
        self.assertIs(sent.get("logprobs"), True, "mean_logprob_under is set: the draft needs logprobs")
        self.assertIsNone(obj["choices"][0].get("logprobs"), "client did not ask for logprobs")
        self.assertNotIn(b'"token"', json.dumps(obj).encode())

    def test_logprobs_kept_when_client_asked(self):
        content = "Summarise the pipeline, with logprobs."
        status, headers, obj = self.post(chat("auto", content, logprobs=True))
        self.assertRoute(headers, "draft", DRAFT)
        lp = obj["choices"][0].get("logprobs")
        self.assertIsInstance(lp, dict, obj)
        self.assertTrue(lp.get("content"), obj)
        self.assertIn("logprob", lp["content"][0])

    def test_logprobs_stripped_from_stream_unless_asked(self):
        content = "Stream the pipeline summary."
        st, events = self.stream(chat("auto", content, stream=True))
        self.assertRoute(st.headers, "draft", DRAFT)
        self.assertCleanStream(st, events, DRAFT)
        sent = json.loads(SIM.last_request()["body"])
        self.assertIs(sent.get("logprobs"), True)
        for c in data_chunks([p for _, p in events]):
            for choice in c.get("choices") or []:
                self.assertIsNone(choice.get("logprobs"), c)

        st, events = self.stream(chat("auto", content, stream=True, logprobs=True))
        self.assertRoute(st.headers, "draft", DRAFT)
        self.assertCleanStream(st, events, DRAFT)
        with_lp = [choice.get("logprobs") for c in data_chunks([p for _, p in events])
                   for choice in c.get("choices") or [] if (choice.get("delta") or {}).get("content")]
        self.assertTrue(with_lp)
        for lp in with_lp:
            self.assertIsInstance(lp, dict, "client asked for logprobs: %s" % with_lp[:2])
            self.assertTrue(lp.get("content"))

    def test_replace_mode_sends_the_original_messages(self):
        content = "[sim:short@phi-4-mini] Original question, replaced?"
        body = chat("auto", content)
        body["messages"].insert(0, {"role": "system", "content": "You write briefings."})
        status, headers, obj = self.post(body)
        self.assertRoute(headers, "escalated", LARGE, "chars_under")
        sent = json.loads(SIM.last_request()["body"])
        self.assertEqual(sent.get("model"), LARGE)
        self.assertEqual(sent.get("messages"), body["messages"])
        self.assertNotIn("logprobs", sent, "the large model's answer is not judged")

    # ---- direct requests
    def test_direct_requests_keep_route_direct(self):
        for model in (DRAFT, LARGE):
            with self.subTest(model=model):
                content = "[sim:short] Direct, no routing even when short."
                status, headers, obj = self.post(chat(model, content))
                self.assertEqual(status, 200, obj)
                self.assertRoute(headers, "direct", model)
                self.assertStages(headers, "upstream", "ttft", absent=("draft", "escalation"))
                self.assertEqual(obj["model"], model)
                self.assertEqual(text_of(obj), "OK.")
                sent = json.loads(SIM.last_request()["body"])
                self.assertNotIn("logprobs", sent)

    def test_direct_streaming_keeps_route_direct(self):
        st, events = self.stream(chat(DRAFT, "[sim:refuse] Direct stream", stream=True))
        self.assertRoute(st.headers, "direct", DRAFT)
        self.assertStages(st.headers, "upstream", absent=("draft", "escalation"))
        text = self.assertCleanStream(st, events, DRAFT)
        self.assertIn("I don't know", text)


class CharsOverTest(RoutingCase):
    routing = {"after_draft": {"chars_under": 20, "chars_over": 100}}

    def test_chars_over_non_streaming(self):
        content = "[sim:long@phi-4-mini] Brief me on everything."
        self.assertGreater(len(text_of(sim_answer(DRAFT, content))), 100)
        status, headers, obj = self.post(chat("auto", content))
        self.assertEqual(status, 200, obj)
        self.assertRoute(headers, "escalated", LARGE, "chars_over")
        self.assertEqual(obj["model"], LARGE)
        self.assertEqual(text_of(obj), text_of(sim_answer(LARGE, content)))

    def test_chars_over_streaming_fires_on_the_held_prefix(self):
        content = "[sim:long@phi-4-mini] Brief me on everything, streamed."
        st, events = self.stream(chat("auto", content, stream=True))
        self.assertRoute(st.headers, "escalated", LARGE, "chars_over")
        text = self.assertCleanStream(st, events, LARGE)
        self.assertEqual(text, text_of(sim_answer(LARGE, content)))


class NoLogprobRuleTest(RoutingCase):
    routing = {"after_draft": {"chars_under": 20}}

    def test_draft_not_asked_for_logprobs_without_the_rule(self):
        for stream in (False, True):
            with self.subTest(stream=stream):
                body = chat("auto", "Summarise the pipeline, no logprob rule.", stream=stream)
                if stream:
                    st, events = self.stream(body)
                    self.assertRoute(st.headers, "draft", DRAFT)
                    self.assertCleanStream(st, events, DRAFT)
                else:
                    status, headers, obj = self.post(body)
                    self.assertRoute(headers, "draft", DRAFT)
                    self.assertIsNone(obj["choices"][0].get("logprobs"))
                sent = json.loads(SIM.last_request()["body"])
                self.assertEqual(sent.get("model"), DRAFT)
                self.assertFalse(sent.get("logprobs", False), "no mean_logprob_under: no logprobs: %s" % sent)

    def test_low_logprob_draft_is_accepted_without_the_rule(self):
        status, headers, obj = self.post(chat("auto", "[sim:logprob=-3@phi-4-mini] Unsure draft"))
        self.assertRoute(headers, "draft", DRAFT)


# ============================================================================ refine


class RefineTest(RoutingCase):
    routing = {
        "on_escalate": "refine",
        "refine_prompt": REFINE_PROMPT,
        "after_draft": {"finish_reason_length": True, "chars_under": 20},
    }

    def check_refine_request(self, content, draft):
        sent = json.loads(SIM.last_request()["body"])
        self.assertEqual(sent.get("model"), LARGE)
        msgs = sent.get("messages")
        self.assertIsInstance(msgs, list, sent)
        # The original question is kept...
        self.assertEqual(msgs[0], {"role": "user", "content": content}, msgs)
        # ...and the large model is asked to polish the whole draft, {draft} substituted.
        self.assertEqual(msgs[-1].get("role"), "user", msgs)
        self.assertEqual(msgs[-1].get("content"), "Improve clarity but keep facts:\n" + draft)

    def test_refine_request_carries_the_draft(self):
        content = "[sim:length@phi-4-mini] What changed this quarter?"
        draft = text_of(sim_answer(DRAFT, content))
        status, headers, obj = self.post(chat("auto", content))
        self.assertEqual(status, 200, obj)
        self.assertRoute(headers, "escalated", LARGE, "finish_reason_length")
        self.assertEqual(obj["model"], LARGE)
        self.check_refine_request(content, draft)

    def test_refine_streaming_carries_the_draft(self):
        # The whole 10-token draft is held, judged (length) and carried into the refine prompt.
        content = "[sim:tokens=10@phi-4-mini][sim:length@phi-4-mini] What is the runway, streamed?"
        draft = text_of(sim_answer(DRAFT, content))
        st, events = self.stream(chat("auto", content, stream=True))
        self.assertRoute(st.headers, "escalated", LARGE, "finish_reason_length")
        self.assertCleanStream(st, events, LARGE)
        self.check_refine_request(content, draft)


class RefineLongDraftStreamTest(RoutingCase):
    routing = {
        "on_escalate": "refine",
        "refine_prompt": REFINE_PROMPT,
        "after_draft": {"chars_over": 100},
    }

    def test_refine_streaming_reads_the_rest_of_the_draft(self):
        # chars_over fires on the 24-token prefix; refine must still send the complete draft.
        content = "[sim:tokens=60@phi-4-mini] Give the long version."
        draft = text_of(sim_answer(DRAFT, content))
        st, events = self.stream(chat("auto", content, stream=True))
        self.assertRoute(st.headers, "escalated", LARGE, "chars_over")
        self.assertCleanStream(st, events, LARGE)
        sent = json.loads(SIM.last_request()["body"])
        self.assertEqual(sent["messages"][0]["content"], content)
        self.assertEqual(sent["messages"][-1]["content"], "Improve clarity but keep facts:\n" + draft)


class RefineEchoTest(RoutingCase):
    # The directive in the refine prompt makes gpt-oss-20b echo the refine instruction it received.
    routing = {
        "on_escalate": "refine",
        "refine_prompt": "[sim:echo@gpt-oss-20b] " + REFINE_PROMPT,
        "after_draft": {"finish_reason_length": True},
    }

    def test_echoed_answer_contains_the_draft(self):
        content = "[sim:length@phi-4-mini] Which risks matter most?"
        draft = text_of(sim_answer(DRAFT, content))
        expected = " ".join(("Improve clarity but keep facts:\n" + draft).split())
        status, headers, obj = self.post(chat("auto", content))
        self.assertRoute(headers, "escalated", LARGE, "finish_reason_length")
        self.assertEqual(text_of(obj), expected)

        st, events = self.stream(chat("auto", "[sim:tokens=8@phi-4-mini]" + content, stream=True))
        draft = text_of(sim_answer(DRAFT, "[sim:tokens=8@phi-4-mini]" + content))
        self.assertRoute(st.headers, "escalated", LARGE, "finish_reason_length")
        text = self.assertCleanStream(st, events, LARGE)
        self.assertEqual(text, " ".join(("Improve clarity but keep facts:\n" + draft).split()))


# ============================================================================ hold window


class HoldWindowTest(unittest.TestCase):
    PACED = "[sim:ttft=50@phi-4-mini][sim:tps=50@phi-4-mini][sim:tokens=15@phi-4-mini] Summarise, paced."

    def first_byte(self, gw, content):
        """Seconds from the request to the first SSE event, and the response headers."""
        st = SSEStream(gw.port, chat("auto", content, stream=True), timeout=5)
        try:
            events = st.collect()
        finally:
            st.close()
        self.assertTrue(events)
        self.assertEqual(events[-1][1], "[DONE]")
        return events[0][0], st.headers

    def test_hold_delays_first_byte_by_hold_tokens_and_no_more(self):
        times = {}
        for hold in (0, 10):
            with Gateway(routing_config({"stream": {"hold_tokens": hold}})) as gw:
                runs = []
                for _ in range(2):
                    t, headers = self.first_byte(gw, self.PACED)
                    self.assertEqual(headers.get("x-gateway-route"), "draft", headers)
                    runs.append(t)
                times[hold] = min(runs)
        extra = times[10] - times[0]
        # 10 tokens at 50 tokens/s ~ 0.2 s.
        self.assertGreaterEqual(extra, 0.12, times)
        self.assertLessEqual(extra, 0.45, times)
        self.assertLess(times[0], 0.2, "hold 0 should relay right after the draft's ttft: %s" % times)

    def test_hold_ends_early_when_no_rule_could_fire_on_more_text(self):
        # Every after_draft rule off: holding 24 tokens could change nothing, so the gateway
        # commits at the first token instead of adding ~0.5 s.
        routing = {"stream": {"hold_tokens": 24}, "after_draft": {"finish_reason_length": False}}
        with Gateway(routing_config(routing)) as gw:
            t, headers = self.first_byte(gw, self.PACED)
            self.assertEqual(headers.get("x-gateway-route"), "draft", headers)
            self.assertLess(t, 0.2, "held although no rule could fire: %.3f s" % t)

    def test_whole_short_draft_is_judged_and_sent(self):
        routing = {"stream": {"hold_tokens": 24}, "after_draft": {"finish_reason_length": True}}
        with Gateway(routing_config(routing)) as gw:
            content = "[sim:tokens=5@phi-4-mini] Five words please."
            st, events = stream_payloads(gw.port, chat("auto", content, stream=True))
            self.assertEqual(st.headers.get("x-gateway-route"), "draft", st.headers)
            payloads = [p for _, p in events]
            self.assertEqual(payloads[-1], "[DONE]")
            self.assertEqual(stream_content(payloads), text_of(sim_answer(DRAFT, content)))
            # A complete-only rule can be judged because the whole draft was held.
            content = "[sim:tokens=5@phi-4-mini][sim:length@phi-4-mini] Five words, cut."
            st, events = stream_payloads(gw.port, chat("auto", content, stream=True))
            self.assertEqual(st.headers.get("x-gateway-route"), "escalated", st.headers)
            self.assertEqual(st.headers.get("x-gateway-escalation-reason"), "finish_reason_length")
            self.assertEqual(stream_content([p for _, p in events]), text_of(sim_answer(LARGE, content)))


# ============================================================================ fallback


class FallbackTest(RoutingCase):
    routing = dict(RULES, fallback=True)

    def check_fallback(self, content, model, stream):
        if stream:
            st, events = self.stream(chat("auto", content, stream=True))
            self.assertRoute(st.headers, "fallback", model, "upstream_error")
            text = self.assertCleanStream(st, events, model)
        else:
            status, headers, obj = self.post(chat("auto", content))
            self.assertEqual(status, 200, obj)
            self.assertRoute(headers, "fallback", model, "upstream_error")
            self.assertEqual(obj["model"], model)
            text = text_of(obj)
        self.assertTrue(text)
        return text

    def test_draft_error_falls_back_to_large(self):
        content = "[sim:error=500@phi-4-mini] Status?"
        for stream in (False, True):
            with self.subTest(stream=stream):
                text = self.check_fallback(content, LARGE, stream)
                self.assertEqual(text, text_of(sim_answer(LARGE, content)))

    def test_large_error_before_draft_falls_back_to_draft(self):
        content = "[sim:error=500@gpt-oss-20b] Summarise the incident report."
        for stream in (False, True):
            with self.subTest(stream=stream):
                text = self.check_fallback(content, DRAFT, stream)
                self.assertEqual(text, text_of(sim_answer(DRAFT, content)))

    def test_escalation_error_after_draft_falls_back_to_the_draft(self):
        content = "[sim:short@phi-4-mini][sim:error=502@gpt-oss-20b] How are we?"
        for stream in (False, True):
            with self.subTest(stream=stream):
                self.check_fallback(content, DRAFT, stream)

    def test_garbage_draft_escalates_with_upstream_error(self):
        for directive in ("[sim:garbage@phi-4-mini]", "[sim:empty@phi-4-mini]"):
            for stream in (False, True):
                with self.subTest(directive=directive, stream=stream):
                    content = directive + " Status report?"
                    text = self.check_fallback(content, LARGE, stream)
                    self.assertEqual(text, text_of(sim_answer(LARGE, content)))
                    self.assertServes()


class DraftDownTest(RoutingCase):
    @classmethod
    def config(cls):
        dead = "http://127.0.0.1:%d/v1" % free_port()
        return routing_config(RULES, models={DRAFT: {"upstream": dead, "timeout_ms": 2000}})

    def test_draft_upstream_down_falls_back_to_large(self):
        content = "Status while the small model is down?"
        status, headers, obj = self.post(chat("auto", content))
        self.assertEqual(status, 200, obj)
        self.assertRoute(headers, "fallback", LARGE, "upstream_error")
        self.assertEqual(obj["model"], LARGE)
        self.assertEqual(text_of(obj), text_of(sim_answer(LARGE, content)))

        st, events = self.stream(chat("auto", content, stream=True))
        self.assertRoute(st.headers, "fallback", LARGE, "upstream_error")
        self.assertEqual(self.assertCleanStream(st, events, LARGE), text_of(sim_answer(LARGE, content)))


class NoFallbackTest(RoutingCase):
    routing = dict(RULES, fallback=False)

    def test_draft_error_is_returned(self):
        content = "[sim:error=500@phi-4-mini] Status?"
        status, headers, obj = self.post(chat("auto", content))
        self.assertEqual(status, 500, obj)
        self.assertOpenAIError(obj)
        self.assertNotEqual(headers.get("x-gateway-route"), "fallback", headers)

        st, events = self.stream(chat("auto", content, stream=True))
        self.assertEqual(st.status, 500, st.raw[:300])
        self.assertOpenAIError(json.loads(st.raw), "streamed request failing before the first byte")

    def test_large_error_before_draft_is_returned(self):
        content = "[sim:error=503@gpt-oss-20b] Summarise the contract."
        status, headers, obj = self.post(chat("auto", content))
        self.assertEqual(status, 503, obj)
        self.assertOpenAIError(obj)
        self.assertEqual(headers.get("x-gateway-route"), "escalated", headers)
        self.assertEqual(headers.get("x-gateway-escalation-reason"), "match", headers)


# ============================================================================ after commit


class CommittedStreamTest(unittest.TestCase):
    """hold_tokens 3: a stream commits after 3 draft tokens; later signals cannot change the route."""

    ROUTING = {"stream": {"hold_tokens": 3}, "after_draft": {"finish_reason_length": True, "chars_under": 20}}

    def setUp(self):
        # A short draft timeout so a stalled draft is noticed quickly.
        self.gw = Gateway(routing_config(self.ROUTING, models={DRAFT: {"timeout_ms": 600}}))

    def tearDown(self):
        self.gw.close()

    def assertGatewayAlive(self, within=0.5):
        deadline = time.monotonic() + within
        while self.gw.alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        if not self.gw.alive():
            self.fail("the gateway crashed (exit %s) while relaying the broken stream:\n%s"
                      % (self.gw.exit_code(), self.gw.output()[-1500:]))

    def test_upstream_cut_after_commit_ends_with_error_event(self):
        content = "[sim:cut=8@phi-4-mini] Status, cut short?"
        st = SSEStream(self.gw.port, chat("auto", content, stream=True), timeout=5)
        try:
            events = st.collect()
        finally:
            st.close()
        self.assertEqual(st.status, 200)
        self.assertEqual(st.headers.get("x-gateway-route"), "draft", st.headers)
        self.assertGatewayAlive()
        payloads = [p for _, p in events]
        self.assertTrue(stream_content([p for p in payloads if p != "[DONE]" and "error" not in json.loads(p)]),
                        "the committed draft tokens were relayed")
        errors = error_events(payloads)
        self.assertEqual(len(errors), 1, "no error event: silent truncation; last events %s" % payloads[-2:])
        self.assertIsInstance(errors[0]["error"], dict)
        self.assertIn("message", errors[0]["error"])
        data = [p for p in payloads if p != "[DONE]"]
        self.assertIn("error", json.loads(data[-1]), "the error event ends the stream")
        self.assertNotIn("[DONE]", payloads, "a broken stream must not look complete")
        # The gateway keeps serving.
        status, headers, body = request(self.gw.port, "POST", CHAT, body=chat("auto", "After the cut?"))
        self.assertEqual(status, 200, body)

    def test_upstream_stall_after_commit_ends_with_error_event(self):
        content = "[sim:stall_after=8@phi-4-mini] Status, then silence?"
        st = SSEStream(self.gw.port, chat("auto", content, stream=True), timeout=5)
        try:
            events = st.collect()
        finally:
            st.close()
        self.assertEqual(st.headers.get("x-gateway-route"), "draft", st.headers)
        self.assertGatewayAlive()
        payloads = [p for _, p in events]
        errors = error_events(payloads)
        self.assertEqual(len(errors), 1, "no error event: silent truncation; last events %s" % payloads[-2:])
        self.assertNotIn("[DONE]", payloads)
        self.assertLess(events[-1][0], 3.0, "the stall was noticed after the model's timeout_ms")

    def test_draft_stall_before_commit_falls_back_to_large(self):
        content = "[sim:stall@phi-4-mini] Anyone there?"
        expected = text_of(sim_answer(LARGE, content))
        status, headers, body = request(self.gw.port, "POST", CHAT, body=chat("auto", content))
        self.assertEqual(status, 200, body)
        self.assertEqual(headers.get("x-gateway-route"), "fallback", headers)
        self.assertEqual(headers.get("x-gateway-model"), LARGE, headers)
        self.assertEqual(headers.get("x-gateway-escalation-reason"), "upstream_error", headers)
        self.assertEqual(text_of(json.loads(body)), expected)
        st, events = stream_payloads(self.gw.port, chat("auto", content, stream=True))
        self.assertEqual(st.headers.get("x-gateway-route"), "fallback", st.headers)
        self.assertEqual(st.headers.get("x-gateway-model"), LARGE, st.headers)
        payloads = [p for _, p in events]
        self.assertEqual(payloads[-1], "[DONE]")
        self.assertEqual(stream_content(payloads), expected)

    def test_would_escalate_is_logged_and_counted(self):
        before = metric_value(self.gw.metrics(), "gateway_would_escalate_total",
                              {"reason": "finish_reason_length"}) or 0
        mark = self.gw.mark()
        content = "[sim:length@phi-4-mini] A long status, truncated?"
        st, events = stream_payloads(self.gw.port, chat("auto", content, stream=True))
        self.assertEqual(st.headers.get("x-gateway-route"), "draft", st.headers)
        self.assertNotIn("x-gateway-escalation-reason", st.headers)
        payloads = [p for _, p in events]
        self.assertEqual(payloads[-1], "[DONE]")
        self.assertEqual(stream_content(payloads), text_of(sim_answer(DRAFT, content)))
        ev = self.gw.wait_event("request", timeout=3, start=mark,
                                predicate=lambda e: e.get("model") == "auto")
        self.assertIsNotNone(ev, self.gw.output()[-2000:])
        self.assertEqual(ev.get("route"), "draft", ev)
        self.assertEqual(ev.get("would_escalate"), "finish_reason_length", ev)
        after = wait_metric(self.gw, "gateway_would_escalate_total",
                            {"reason": "finish_reason_length"}, before + 1)
        self.assertEqual(after, before + 1)

    def test_good_committed_stream_has_no_would_escalate(self):
        mark = self.gw.mark()
        st, events = stream_payloads(self.gw.port, chat("auto", "A fine status?", stream=True))
        self.assertEqual(st.headers.get("x-gateway-route"), "draft")
        ev = self.gw.wait_event("request", timeout=3, start=mark,
                                predicate=lambda e: e.get("model") == "auto")
        self.assertIsNotNone(ev)
        self.assertNotIn("would_escalate", ev)


# ============================================================================ reload


class ReloadTest(unittest.TestCase):
    OLD = {"stream": {"hold_tokens": 10}, "after_draft": {"chars_under": 20}}
    NEW = {"stream": {"hold_tokens": 10}, "after_draft": {"chars_under": 100000}}

    def test_reload_changes_routing_for_new_requests_only(self):
        with Gateway(routing_config(self.OLD)) as gw:
            # Paced draft: 10 held tokens take ~0.5 s, the whole draft ~1 s.
            slow = "[sim:tps=20@phi-4-mini][sim:tokens=20@phi-4-mini] A slow weekly status?"
            result = {}

            def inflight():
                try:
                    result["st"], result["events"] = stream_payloads(gw.port, chat("auto", slow, stream=True))
                except Exception as e:  # reported below
                    result["error"] = e

            before_active = SIM.stats()["active_streams"]
            t = threading.Thread(target=inflight, daemon=True)
            t.start()
            s = SIM.wait_stats(lambda s: s["active_streams"] > before_active, timeout=2)
            self.assertGreater(s["active_streams"], before_active, "the draft stream did not start")

            mark = gw.mark()
            gw.reload(routing_config(self.NEW))
            self.assertIsNotNone(gw.wait_event("reloaded", timeout=3, start=mark), gw.output()[-2000:])

            # New requests: every draft is now "too short".
            status, headers, body = request(gw.port, "POST", CHAT, body=chat("auto", "A new question?"))
            self.assertEqual(status, 200, body)
            self.assertEqual(headers.get("x-gateway-route"), "escalated", headers)
            self.assertEqual(headers.get("x-gateway-escalation-reason"), "chars_under", headers)

            t.join(timeout=5)
            self.assertFalse(t.is_alive(), "in-flight request hung")
            self.assertNotIn("error", result, result.get("error"))
            st, events = result["st"], result["events"]
            # The in-flight request, still holding when the reload landed, kept its snapshot.
            self.assertEqual(st.headers.get("x-gateway-route"), "draft", st.headers)
            self.assertNotIn("x-gateway-escalation-reason", st.headers)
            payloads = [p for _, p in events]
            self.assertEqual(payloads[-1], "[DONE]")
            self.assertEqual(stream_content(payloads), text_of(sim_answer(DRAFT, slow)))

            # Streamed, chars_under is judged on a complete draft: 5 tokens fit in the hold.
            st, events = stream_payloads(
                gw.port, chat("auto", "[sim:tokens=5@phi-4-mini] A new streamed question?", stream=True))
            self.assertEqual(st.headers.get("x-gateway-route"), "escalated", st.headers)
            self.assertEqual(st.headers.get("x-gateway-escalation-reason"), "chars_under")


# ============================================================================ config errors


def bad_routing_configs():
    """(name, routing overrides, text that marks the offending line) for invalid routing."""
    return [
        ("unknown draft model", {"draft": "phi-9-huge"}, 'draft: "phi-9-huge"'),
        ("unknown escalate model", {"escalate": "gpt-99"}, 'escalate: "gpt-99"'),
        ("invalid match regex", {"before_draft": {"match": ["(?i)(unclosed"]}}, "match:"),
        ("invalid refusal regex", {"after_draft": {"refusal": ["[z-a]"]}}, "refusal:"),
        ("negative chars_under", {"after_draft": {"chars_under": -5}}, "chars_under: -5"),
        ("negative chars_over", {"after_draft": {"chars_over": -1}}, "chars_over: -1"),
        ("negative prompt_chars_over", {"before_draft": {"prompt_chars_over": -10}}, "prompt_chars_over: -10"),
        ("positive mean_logprob_under", {"after_draft": {"mean_logprob_under": 0.5}}, "mean_logprob_under: 0.5"),
        ("absurd hold_tokens", {"stream": {"hold_tokens": 1000000000}}, "hold_tokens: 1000000000"),
    ]


class ConfigErrorsTest(unittest.TestCase):
    def test_valid_routing_config_passes(self):
        code, out, _ = run_check_config(routing_config(dict(RULES, on_escalate="refine",
                                                            refine_prompt=REFINE_PROMPT)))
        self.assertEqual(code, 0, out)

    def test_check_config_rejects_bad_routing_with_location(self):
        for name, routing, needle in bad_routing_configs():
            with self.subTest(name):
                text = routing_config(routing)
                code, out, path = run_check_config(text)
                self.assertEqual(code, 2, out)
                want = line_of(text, needle)
                locs = [(int(m.group(1)), int(m.group(2)))
                        for m in re.finditer(re.escape(path) + r":(\d+):(\d+): ", out)]
                self.assertTrue(locs, "no %s:LINE:COL in: %s" % (path, out))
                self.assertIn(want, [l for l, _ in locs], "expected line %d (%s) in: %s" % (want, needle, out))
                self.assertTrue(all(c >= 1 for _, c in locs), out)

    def test_reload_rejects_bad_routing_and_old_config_keeps_serving(self):
        good = routing_config(RULES)
        with Gateway(good) as gw:
            for name, routing, needle in bad_routing_configs():
                with self.subTest(name):
                    failures = metric_value(gw.metrics(), "gateway_config_reloads_total",
                                            {"result": "failure"}) or 0
                    mark = gw.mark()
                    text = routing_config(routing)
                    gw.reload(text)
                    self.assertIsNotNone(gw.wait_event("reload_failed", timeout=3, start=mark),
                                         gw.output()[-2000:])
                    rejected = [e.get("message", "") for e in gw.events("reload_rejected")]
                    want = "%s:%d:" % (gw.config_path, line_of(text, needle))
                    self.assertTrue(any(m.startswith(want) for m in rejected),
                                    "no %s... in %s" % (want, rejected[-3:]))
                    after = metric_value(gw.metrics(), "gateway_config_reloads_total", {"result": "failure"})
                    self.assertEqual(after, failures + 1)
                    # The old routing still applies.
                    status, headers, body = request(gw.port, "POST", CHAT, body=chat("auto", "Fine?"))
                    self.assertEqual(status, 200, body)
                    self.assertEqual(headers.get("x-gateway-route"), "draft", headers)
                    self.assertEqual(headers.get("x-gateway-model"), DRAFT, headers)
                    status, headers, body = request(
                        gw.port, "POST", CHAT, body=chat("auto", "[sim:short@phi-4-mini] Short?"))
                    self.assertEqual(headers.get("x-gateway-escalation-reason"), "chars_under", headers)
                    self.assertTrue(gw.alive())


if __name__ == "__main__":
    unittest.main()
