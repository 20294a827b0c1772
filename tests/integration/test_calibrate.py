"""Integration tests of issue 13 (calibration): the confidence rules over real llm-sim and
hybrid-gateway processes, and the `eval` commands (replay, calibrate, import, synth) run as
whole processes on fixture data.

Run:  cd tests/integration && GW_BUILD_DIR=/work/main/build-cb python3 -m unittest -v test_calibrate
"""

import json
import unittest

from harness import Gateway, Sim, chat, config_yaml, request, SSEStream

CHAT = "/v1/chat/completions"
DRAFT = "phi-4-mini"
LARGE = "gpt-oss-20b"

# The sim's default answer: 60 tokens at logprob -0.2; the runner-up of every token 1.0 below.
CONFIDENCE = {
    "after_draft": {
        "finish_reason_length": False,
        "min_logprob_under": -6.0,
        "p10_logprob_under": -2.5,
        "first_margin_under": 1.0,  # the default gap is exactly 1.0: not under, accepted
    }
}

# reason -> prompt: each fires its own rule and none before it (mean is off).
CASES = [
    ("min_logprob_under", "[sim:min_logprob=-8@phi-4-mini] What changed?"),
    ("p10_logprob_under", "[sim:logprob=-3@phi-4-mini] What changed?"),
    ("first_margin_under", "[sim:first_margin=0.25@phi-4-mini] What changed?"),
]

SIM = None


def setUpModule():
    global SIM
    SIM = Sim([DRAFT, LARGE], threads=2)


def tearDownModule():
    if SIM is not None:
        SIM.close()


def post(port, body):
    status, headers, raw = request(port, "POST", CHAT, body=body, timeout=5)
    return status, headers, json.loads(raw)


def stream(port, body):
    st = SSEStream(port, body, timeout=5)
    try:
        events = st.collect()
    finally:
        st.close()
    chunks = [json.loads(p) for _, p in events if p != "[DONE]"]
    return st, chunks


class TestConfidenceRules(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.gw = Gateway(config_yaml(SIM.port, routing=CONFIDENCE))

    @classmethod
    def tearDownClass(cls):
        cls.gw.close()

    def test_each_rule_escalates_with_its_reason(self):
        for reason, prompt in CASES:
            with self.subTest(reason=reason):
                status, headers, body = post(self.gw.port, chat("auto", prompt))
                self.assertEqual(status, 200, body)
                self.assertEqual(headers.get("x-gateway-route"), "escalated", headers)
                self.assertEqual(headers.get("x-gateway-escalation-reason"), reason, headers)
                self.assertEqual(body["model"], LARGE)

    def test_each_rule_fires_on_the_held_prefix_of_a_stream(self):
        # 60-token drafts, 24 held: the dip (token 2), the low p10 and the first token's margin
        # are all inside the held prefix, so the client never sees a draft byte.
        for reason, prompt in CASES:
            with self.subTest(reason=reason):
                st, chunks = stream(self.gw.port, chat("auto", prompt, stream=True))
                self.assertEqual(st.status, 200)
                self.assertEqual(st.headers.get("x-gateway-route"), "escalated", st.headers)
                self.assertEqual(st.headers.get("x-gateway-escalation-reason"), reason)
                self.assertTrue(all(c.get("model") == LARGE for c in chunks if "model" in c))

    def test_margin_at_the_threshold_is_accepted(self):
        status, headers, body = post(self.gw.port, chat("auto", "What changed?"))
        self.assertEqual(status, 200, body)
        self.assertEqual(headers.get("x-gateway-route"), "draft", headers)
        self.assertNotIn("x-gateway-escalation-reason", headers)

    def test_the_gateway_asks_for_two_alternatives_and_strips_them(self):
        status, headers, body = post(self.gw.port, chat("auto", "Tell me about margins."))
        self.assertEqual(headers.get("x-gateway-route"), "draft", headers)
        sent = SIM.last_request()
        sent = sent.get("body", sent)
        if isinstance(sent, str):
            sent = json.loads(sent)
        self.assertEqual(sent.get("logprobs"), True, sent)
        self.assertEqual(sent.get("top_logprobs"), 2, sent)
        # The client asked for neither: none reach it.
        self.assertIsNone(body["choices"][0].get("logprobs"), body["choices"][0])

    def test_a_client_that_asked_for_logprobs_gets_only_its_alternatives(self):
        for top, stream_it in ((None, False), (1, False), (None, True), (1, True)):
            with self.subTest(top=top, stream=stream_it):
                extra = {"logprobs": True}
                if top is not None:
                    extra["top_logprobs"] = top
                body = chat("auto", "Tell me about margins.", stream=stream_it, **extra)
                if stream_it:
                    st, chunks = stream(self.gw.port, body)
                    entries = [e for c in chunks for ch in c.get("choices", [])
                               for e in ((ch.get("logprobs") or {}).get("content") or [])]
                else:
                    _, _, obj = post(self.gw.port, body)
                    entries = obj["choices"][0]["logprobs"]["content"]
                self.assertTrue(entries)
                for e in entries:
                    self.assertEqual(len(e["top_logprobs"]), top or 0, e)

    def test_a_client_that_asked_for_more_alternatives_keeps_them(self):
        _, _, obj = post(self.gw.port, chat("auto", "Tell me about margins.", logprobs=True,
                                            top_logprobs=2))
        for e in obj["choices"][0]["logprobs"]["content"]:
            self.assertEqual(len(e["top_logprobs"]), 2, e)


if __name__ == "__main__":
    unittest.main()
