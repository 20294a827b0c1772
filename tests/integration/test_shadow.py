"""Shadow escalation (issue 14) through real processes: llm-sim with per-model scripted answers,
hybrid-gateway with routing.shadow. What the client gets must not change; what the shadow sees is
counted in the gateway_shadow_* metrics and logged as a `shadow` event per sampled request."""

import json
import re
import subprocess
import os
import tempfile
import statistics
import time
import unittest

from harness import (
    GATEWAY_BIN,
    SSEStream,
    Gateway,
    ModuleSim,
    chat,
    config_yaml,
    metric_value,
    request,
    wait_metric,
)

CHAT = "/v1/chat/completions"
DRAFT = "phi-4-mini"
LARGE = "gpt-oss-20b"
SIM = ModuleSim([DRAFT, LARGE], threads=4)
setUpModule, tearDownModule = SIM.start, SIM.stop

M64 = (1 << 64) - 1


def sample_point(seed, request_id):
    """gateway/shadow/sampler.cpp's sample_point: FNV-1a over the seed and id, SplitMix64 mix."""
    h = 14695981039346656037
    for i in range(8):
        h ^= (seed >> (8 * i)) & 0xFF
        h = (h * 1099511628211) & M64
    for c in request_id.encode():
        h ^= c
        h = (h * 1099511628211) & M64
    h ^= h >> 30
    h = (h * 0xBF58476D1CE4E5B9) & M64
    h ^= h >> 27
    h = (h * 0x94D049BB133111EB) & M64
    h ^= h >> 31
    return (h >> 11) * 2.0**-53


def shadow_config(shadow=None, routing=None, **sections):
    r = {"shadow": shadow} if shadow is not None else {}
    r.update(routing or {})
    return config_yaml(SIM.port, routing=r, **sections)


def scripted(draft_text, large_text, extra=""):
    """A user message whose answers the simulator scripts per model (`_` is a space)."""
    return "What is the total? [sim:text=%s@%s] [sim:text=%s@%s] %s" % (
        draft_text, DRAFT, large_text, LARGE, extra)


def post(gw, body, request_id=None):
    headers = {"x-request-id": request_id} if request_id else {}
    status, headers, data = request(gw.port, "POST", CHAT, body=body, headers=headers, timeout=10)
    return status, headers, data


def shadow_metric(gw, name, labels=None):
    return metric_value(gw.metrics(), name, labels) or 0


def shadow_events(gw, want, timeout=5.0):
    """The `shadow` log events once `want` of them arrived (the log is written by its own thread,
    just after the metrics are counted), by request id."""
    deadline = time.monotonic() + timeout
    while True:
        events = gw.events("shadow")
        if len(events) >= want or time.monotonic() > deadline:
            return {e["request_id"]: e for e in events}
        time.sleep(0.02)


def wait_shadow_results(gw, want_total, timeout=5.0):
    """Waits until completed+failed+dropped reaches want_total (the shadows run after replies)."""
    deadline = time.monotonic() + timeout
    while True:
        total = shadow_metric(gw, "gateway_shadow_requests_total")
        if total >= want_total or time.monotonic() > deadline:
            return total
        time.sleep(0.02)


class SamplingTest(unittest.TestCase):
    def test_sampled_requests_are_exactly_the_seeded_hash_below_the_rate(self):
        rate, seed, n = 0.3, 7, 200
        ids = ["shadow-sample-%d" % i for i in range(n)]
        want = {i for i in ids if sample_point(seed, i) < rate}
        # The hash is a fair coin: the expected share within 4 standard deviations.
        sd = (n * rate * (1 - rate)) ** 0.5
        self.assertLess(abs(len(want) - n * rate), 4 * sd)
        with Gateway(shadow_config({"sample_rate": rate, "seed": seed, "max_inflight": 64})) as gw:
            for i in ids:
                status, _, _ = post(gw, chat("auto", scripted("It_is_7.", "It_is_7.")), i)
                self.assertEqual(status, 200)
            self.assertEqual(wait_shadow_results(gw, len(want)), len(want))
            time.sleep(0.2)  # nothing more arrives
            self.assertEqual(shadow_metric(gw, "gateway_shadow_requests_total",
                                           {"result": "completed"}), len(want))
            got = set(shadow_events(gw, len(want)))
            self.assertEqual(got, want)
            self.assertEqual(shadow_metric(gw, "gateway_shadow_verdicts_total",
                                           {"verdict": "draft_ok"}), len(want))
            self.assertEqual(shadow_metric(gw, "gateway_shadow_agreement_count",
                                           {"route": "draft"}), len(want))

    def test_bad_accept_estimate_matches_the_scripted_answers(self):
        # The "done when": sample_rate 0.05; every third draft gets the number wrong. The
        # metrics' bad-accept estimate equals what the scripted answers and the hash say.
        rate, seed, n = 0.05, 3, 600
        with Gateway(shadow_config({"sample_rate": rate, "seed": seed, "max_inflight": 64})) as gw:
            sampled, worse = 0, 0
            for i in range(n):
                rid = "demo-%d" % i
                wrong = i % 3 == 0
                draft = "It_is_%d." % (i + 1 if wrong else i)
                post(gw, chat("auto", scripted(draft, "It_is_%d." % i)), rid)
                if sample_point(seed, rid) < rate:
                    sampled += 1
                    worse += wrong
            self.assertEqual(wait_shadow_results(gw, sampled), sampled)
            got_worse = shadow_metric(gw, "gateway_shadow_verdicts_total",
                                      {"verdict": "draft_worse", "route": "draft"})
            got_compared = shadow_metric(gw, "gateway_shadow_verdicts_total", {"route": "draft"})
            self.assertEqual((got_worse, got_compared), (worse, sampled))
            print("\nbad-accept estimate at sample_rate %.2f over %d requests: %d/%d = %.3f "
                  "(true rate 1/3)" % (rate, n, worse, sampled, worse / sampled))

    def test_off_by_default(self):
        with Gateway(shadow_config()) as gw:
            for i in range(5):
                self.assertEqual(post(gw, chat("auto", "hello"), "off-%d" % i)[0], 200)
            time.sleep(0.2)
            self.assertEqual(shadow_metric(gw, "gateway_shadow_requests_total"), 0)
            self.assertEqual(gw.events("shadow"), [])


def comparable(body):
    j = json.loads(body)
    for k in ("id", "created"):
        j.pop(k, None)
    return j


def bytes_but_id_and_created(body):
    """The raw answer with the per-response id and timestamp blanked: every other byte must match.
    (The simulator's id counter is shared with shadow calls, so ids differ in length too.)"""
    body = re.sub(rb'"id":"[^"]*"', b'"id":""', body, count=1)
    return re.sub(rb'"created":[0-9]+', b'"created":0', body, count=1)


# Headers whose values are per request by design (timings), compared by presence only.
# content-length follows the sim's id counter (shadow calls advance it): checked against the body.
VARYING_HEADERS = {"server-timing", "date", "x-gateway-timing", "content-length"}


class ClientSeesNoDifferenceTest(unittest.TestCase):
    def test_bytes_and_headers_equal_with_shadow_on_and_off_and_latency_side_by_side(self):
        content = scripted("The_answer_is_41.", "The_answer_is_42.")
        off = Gateway(shadow_config())
        on = Gateway(shadow_config({"sample_rate": 1.0, "max_inflight": 64}))
        try:
            lat = {"off": [], "on": []}
            for i in range(30):
                got = {}
                for name, gw in (("off", off), ("on", on)):
                    t0 = time.perf_counter()
                    status, headers, data = post(gw, chat("auto", content), "same-%d" % i)
                    lat[name].append((time.perf_counter() - t0) * 1000)
                    self.assertEqual(status, 200)
                    got[name] = (headers, data)
                (h_off, b_off), (h_on, b_on) = got["off"], got["on"]
                self.assertEqual(comparable(b_off), comparable(b_on))
                self.assertEqual(bytes_but_id_and_created(b_off), bytes_but_id_and_created(b_on))
                self.assertEqual(set(h_off), set(h_on))
                self.assertEqual(int(h_off["content-length"]), len(b_off))
                self.assertEqual(int(h_on["content-length"]), len(b_on))
                for k in h_off:
                    if k not in VARYING_HEADERS:
                        self.assertEqual(h_off[k], h_on[k], k)
            self.assertEqual(wait_shadow_results(on, 30), 30)
            self.assertEqual(shadow_metric(on, "gateway_shadow_verdicts_total",
                                           {"verdict": "draft_worse"}), 30)
            print("\nclient latency ms over 30 requests (median, p90): shadow off %.2f %.2f, "
                  "shadow on (sample_rate 1) %.2f %.2f" % (
                      statistics.median(lat["off"]), sorted(lat["off"])[26],
                      statistics.median(lat["on"]), sorted(lat["on"])[26]))
        finally:
            off.close()
            on.close()

    def test_streamed_answer_unchanged_and_shadowed(self):
        content = scripted("The_answer_is_41.", "The_answer_is_42.")
        texts = {}
        for name, shadow in (("off", None), ("on", {"sample_rate": 1.0})):
            with Gateway(shadow_config(shadow)) as gw:
                st = SSEStream(gw.port, chat("auto", content, stream=True),
                               headers={"x-request-id": "stream-1"})
                try:
                    events = st.collect()
                finally:
                    st.close()
                chunks = [json.loads(p) for _, p in events if p != "[DONE]"]
                for c in chunks:
                    c.pop("id", None)
                    c.pop("created", None)
                texts[name] = chunks
                if name == "on":
                    self.assertEqual(wait_shadow_results(gw, 1), 1)
                    ev = gw.wait_event("shadow")
                    self.assertEqual(ev["verdict"], "draft_worse")
                    self.assertEqual(ev["draft_number"], "41")
                    self.assertEqual(ev["large_number"], "42")
                    # The shadow asked the large model the same request, not streamed.
                    sent = json.loads(SIM.last_request()["body"])
                    self.assertEqual(sent["model"], LARGE)
                    self.assertIs(sent["stream"], False)
                    self.assertNotIn("stream_options", sent)
                    self.assertEqual(sent["messages"], [{"role": "user", "content": content}])
        self.assertEqual(texts["off"], texts["on"])


class VerdictTest(unittest.TestCase):
    def test_draft_worse_when_the_numbers_differ_ok_when_equal(self):
        with Gateway(shadow_config({"sample_rate": 1.0})) as gw:
            post(gw, chat("auto", scripted("Total:_1,200.", "The_total_is_1200.00")), "v-ok")
            post(gw, chat("auto", scripted("Total:_1,300.", "The_total_is_1200.")), "v-worse")
            post(gw, chat("auto", scripted("Paris.", "Lyon_and_Marseille.")), "v-tie")
            self.assertEqual(wait_shadow_results(gw, 3), 3)
            by_id = shadow_events(gw, 3)
            self.assertEqual(by_id["v-ok"]["verdict"], "draft_ok")
            self.assertEqual(by_id["v-ok"]["agreement"], 1)
            self.assertEqual(by_id["v-worse"]["verdict"], "draft_worse")
            self.assertEqual(by_id["v-worse"]["agreement"], 0)
            self.assertEqual(by_id["v-tie"]["verdict"], "tie")
            self.assertEqual(by_id["v-tie"]["basis"], "token_f1")
            for e in by_id.values():
                self.assertEqual(e["sample_probability"], 1)
                self.assertEqual(e["shadow_of"], "draft")
            for verdict, n in (("draft_ok", 1), ("draft_worse", 1), ("tie", 1),
                               ("draft_better", 0)):
                self.assertEqual(shadow_metric(gw, "gateway_shadow_verdicts_total",
                                               {"verdict": verdict, "route": "draft"}), n, verdict)
            # Agreement 1, 0 and the tie's token F1 (0): two in the lowest bucket.
            self.assertEqual(shadow_metric(gw, "gateway_shadow_agreement_bucket",
                                           {"route": "draft", "le": "0.1"}), 2)

    def test_tool_calls_compare_function_and_arguments(self):
        tools = [
            {"type": "function", "function": {"name": "get_weather", "parameters": {
                "type": "object", "properties": {"city": {"type": "string"}},
                "required": ["city"]}}},
            {"type": "function", "function": {"name": "get_time", "parameters": {
                "type": "object", "properties": {"city": {"type": "string"}},
                "required": ["city"]}}},
        ]
        with Gateway(shadow_config({"sample_rate": 1.0})) as gw:
            same = chat("auto", "Weather in Oslo?", tools=tools)
            other = chat("auto", "Weather in Oslo? [sim:tool=get_time@%s]" % DRAFT, tools=tools)
            self.assertEqual(post(gw, same, "tool-same")[0], 200)
            self.assertEqual(post(gw, other, "tool-other")[0], 200)
            self.assertEqual(wait_shadow_results(gw, 2), 2)
            by_id = shadow_events(gw, 2)
            self.assertEqual(by_id["tool-same"]["basis"], "tool_calls")
            self.assertEqual(by_id["tool-same"]["verdict"], "draft_ok")
            self.assertEqual(by_id["tool-other"]["basis"], "tool_calls")
            self.assertEqual(by_id["tool-other"]["verdict"], "draft_worse")

    def test_judged_sub_sample_uses_the_evaluation_pair_judge(self):
        # llm-sim's pair judge prefers the shorter answer: the draft here, in both orders. Only
        # the draft is scripted: the judge (the large model) sees the question's directives too.
        content = "What is the total? [sim:text=7@%s]" % DRAFT
        with Gateway(shadow_config({"sample_rate": 1.0, "judge_sample_rate": 1.0})) as gw:
            self.assertEqual(post(gw, chat("auto", content), "judge-1")[0], 200)
            self.assertEqual(wait_shadow_results(gw, 1), 1)
            ev = gw.wait_event("shadow")
            self.assertEqual(ev["judge"], "draft_better")
            self.assertEqual(ev["judge_prompt"], "hg.pair/1")
            self.assertEqual(ev["verdict"], "draft_better")
            self.assertEqual(shadow_metric(gw, "gateway_shadow_verdicts_total",
                                           {"verdict": "draft_better", "route": "draft"}), 1)

    def test_before_draft_escalations_are_drafted_at_pre_draft_sample_rate(self):
        cfg = shadow_config({"pre_draft_sample_rate": 1.0},
                            routing={"before_draft": {"match": ["(?i)contract"]}})
        with Gateway(cfg) as gw:
            body = chat("auto", scripted("It_is_5.", "It_is_6.", "contract"))
            status, headers, _ = post(gw, body, "pre-1")
            self.assertEqual(status, 200)
            self.assertEqual(headers.get("x-gateway-route"), "escalated")
            st = SSEStream(gw.port, chat("auto", scripted("It_is_6.", "It_is_6.", "contract"),
                                         stream=True), headers={"x-request-id": "pre-2"})
            try:
                st.collect()
            finally:
                st.close()
            self.assertEqual(wait_shadow_results(gw, 2), 2)
            by_id = shadow_events(gw, 2)
            self.assertEqual(by_id["pre-1"]["shadow_of"], "escalated")
            self.assertEqual(by_id["pre-1"]["model"], DRAFT)
            self.assertEqual(by_id["pre-1"]["verdict"], "draft_worse")
            self.assertEqual(by_id["pre-2"]["verdict"], "draft_ok")
            self.assertEqual(shadow_metric(gw, "gateway_shadow_agreement_count",
                                           {"route": "escalated"}), 2)
            for verdict in ("draft_worse", "draft_ok"):
                self.assertEqual(shadow_metric(gw, "gateway_shadow_verdicts_total",
                                               {"verdict": verdict, "route": "escalated"}), 1)
            self.assertEqual(shadow_metric(gw, "gateway_shadow_verdicts_total",
                                           {"route": "draft"}), 0)


class DecisionLogTest(unittest.TestCase):
    def test_each_sample_goes_to_the_decision_log_with_its_probability(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "decisions.jsonl")
            cfg = shadow_config({"sample_rate": 1.0}, routing={"decision_log": path})
            with Gateway(cfg) as gw:
                post(gw, chat("auto", scripted("It_is_41.", "It_is_42.")), "dl-1")
                self.assertEqual(wait_shadow_results(gw, 1), 1)
                deadline = time.monotonic() + 5
                rows = []
                while time.monotonic() < deadline:
                    if os.path.exists(path):
                        with open(path) as f:
                            rows = [json.loads(l) for l in f if l.strip()]
                    if any(r.get("schema") == "hg.shadow/1" for r in rows):
                        break
                    time.sleep(0.05)
                # `eval replay` reads the same file: the shadow lines are not rows to it.
                res = subprocess.run([GATEWAY_BIN, "eval", "replay", "--input", path, "--config",
                                      gw.config_path], capture_output=True, text=True, timeout=30)
                self.assertEqual(res.returncode, 0, res.stderr)
                self.assertNotIn("skipped", res.stderr)
            shadow = [r for r in rows if r.get("schema") == "hg.shadow/1"]
            self.assertEqual(len(shadow), 1, rows)
            self.assertEqual(shadow[0]["request_id"], "dl-1")
            self.assertEqual(shadow[0]["sample_probability"], 1)
            self.assertEqual(shadow[0]["verdict"], "draft_worse")
            self.assertEqual(shadow[0]["result"], "completed")
            decisions = [r for r in rows if r.get("schema") == "hg.decision/1"]
            self.assertIn("dl-1", [r.get("request_id") for r in decisions])


class LimitsTest(unittest.TestCase):
    def test_max_inflight_drops_and_counts(self):
        # The large model takes 1.5 s to answer: the first shadow holds the only slot.
        content = scripted("It_is_1.", "It_is_1.", "[sim:ttft=1500@%s]" % LARGE)
        with Gateway(shadow_config({"sample_rate": 1.0, "max_inflight": 1})) as gw:
            for i in range(3):
                self.assertEqual(post(gw, chat("auto", content), "cap-%d" % i)[0], 200)
            self.assertEqual(shadow_metric(gw, "gateway_shadow_requests_total",
                                           {"result": "dropped_inflight"}), 2)
            self.assertEqual(wait_metric(gw, "gateway_shadow_requests_total",
                                         {"result": "completed"}, 1, timeout=5), 1)

    def test_budget_drops_once_spent_and_shadow_cost_stays_out_of_cost_total(self):
        # $1 per prompt token on the large model: one shadow call spends the hour's budget.
        models = {LARGE: {"price": {"input_per_mtok": 1e6, "output_per_mtok": 0}}}
        with Gateway(shadow_config({"sample_rate": 1.0, "budget_usd_per_hour": 0.5},
                                   models=models)) as gw:
            post(gw, chat("auto", scripted("It_is_1.", "It_is_1.")), "b-0")
            self.assertEqual(wait_metric(gw, "gateway_shadow_requests_total",
                                         {"result": "completed"}, 1), 1)
            for i in range(1, 3):
                post(gw, chat("auto", scripted("It_is_1.", "It_is_1.")), "b-%d" % i)
            self.assertEqual(shadow_metric(gw, "gateway_shadow_requests_total",
                                           {"result": "dropped_budget"}), 2)
            text = gw.metrics()
            self.assertGreater(metric_value(text, "gateway_shadow_cost_usd_total"), 0.5)
            # The client's requests were all answered by the draft: no large-model cost.
            self.assertFalse(metric_value(text, "gateway_cost_usd_total", {"model": LARGE}))

    def test_shadow_failure_is_invisible_to_the_client(self):
        content = scripted("It_is_1.", "It_is_1.", "[sim:error=500@%s]" % LARGE)
        with Gateway(shadow_config()) as off, Gateway(shadow_config({"sample_rate": 1.0})) as on:
            s_off, h_off, b_off = post(off, chat("auto", content), "fail-1")
            s_on, h_on, b_on = post(on, chat("auto", content), "fail-1")
            self.assertEqual((s_off, s_on), (200, 200))
            self.assertEqual(comparable(b_off), comparable(b_on))
            self.assertEqual(h_on.get("x-gateway-route"), "draft")
            self.assertEqual(wait_metric(on, "gateway_shadow_requests_total",
                                         {"result": "failed"}, 1), 1)
            ev = on.wait_event("shadow")
            self.assertEqual(ev["result"], "failed")

    def test_reload_keeps_an_in_flight_shadow_on_its_config(self):
        # The shadow call takes 1 s; meanwhile the config is reloaded with only token_f1 and
        # shadowing off. The comparison still uses the old snapshot's `numeric`.
        content = scripted("It_is_41.", "It_is_42.", "[sim:ttft=1000@%s]" % LARGE)
        with Gateway(shadow_config({"sample_rate": 1.0, "compare": ["numeric"]})) as gw:
            self.assertEqual(post(gw, chat("auto", content), "reload-1")[0], 200)
            mark = gw.mark()
            gw.reload(shadow_config({"sample_rate": 0.0, "compare": ["token_f1"]}))
            self.assertIsNotNone(gw.wait_event("reloaded", start=mark))
            ev = gw.wait_event("shadow", timeout=5)
            self.assertEqual(ev["request_id"], "reload-1")
            self.assertEqual(ev["basis"], "numeric")
            self.assertEqual(ev["verdict"], "draft_worse")
            # New requests use the new config: not shadowed.
            self.assertEqual(post(gw, chat("auto", content), "reload-2")[0], 200)
            time.sleep(0.2)
            self.assertEqual(shadow_metric(gw, "gateway_shadow_requests_total"), 1)

    def test_drain_does_not_wait_for_a_shadow_call(self):
        # A shadow call that would take 20 s; the drain timeout is 5 s. The gateway exits once
        # the client's request is done, abandoning the shadow.
        content = scripted("It_is_1.", "It_is_1.", "[sim:ttft=20000@%s]" % LARGE)
        gw = Gateway(shadow_config({"sample_rate": 1.0}))
        try:
            self.assertEqual(post(gw, chat("auto", content), "drain-1")[0], 200)
            time.sleep(0.1)
            self.assertEqual(gw.stop(timeout=4.0), 0)
        finally:
            gw.close()


if __name__ == "__main__":
    unittest.main()
