"""Integration tests of issue 13 (calibration): the confidence rules over real llm-sim and
hybrid-gateway processes, and the `eval` commands (replay, calibrate, import, synth) run as
whole processes on fixture data.

Run:  cd tests/integration && GW_BUILD_DIR=/work/main/build-cb python3 -m unittest -v test_calibrate
"""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import (GATEWAY_BIN, Gateway, GatewayCase, ModuleSim, SSEStream, chat, config_yaml, request,
                     metric_value, run_check_config, wait_metric)

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(os.path.dirname(HERE), "evaluation", "fixtures", "routellm")

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

SIM = ModuleSim([DRAFT, LARGE], threads=2)
setUpModule, tearDownModule = SIM.start, SIM.stop


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


class TestConfidenceRules(GatewayCase):
    @classmethod
    def config(cls):
        return config_yaml(SIM.port, routing=CONFIDENCE)

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


# ----------------------------------------------------------------------------- eval commands

CALIBRATE_BASE = """server:
  listen: "127.0.0.1:0"
  admin_listen: "127.0.0.1:0"
models:
  phi-4-mini:
    upstream: "http://127.0.0.1:5273/v1"
    price: { input_per_mtok: 0.10, output_per_mtok: 0.40 }
  gpt-oss-20b:
    upstream: "http://127.0.0.1:5273/v1"
    price: { input_per_mtok: 0.50, output_per_mtok: 2.00 }
routing:
  draft: phi-4-mini
  escalate: gpt-oss-20b
"""
CALIBRATE_RULES = """  before_draft:
    prompt_chars_over: 8000
  after_draft:
    chars_under: 20
    chars_over: 2000
    finish_reason_length: true
    refusal: ["(?i)\\bI (don't|do not) know\\b"]
"""
PRICES = {"draft": (0.10, 0.40), "escalate": (0.50, 2.00)}
MASK = (1 << 64) - 1


def mix64(x):
    x = (x + 0x9E3779B97F4A7C15) & MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def hash_id(text, seed):
    h = 0xCBF29CE484222325
    for b in text.encode():
        h = ((h ^ b) * 0x100000001B3) & MASK
    return mix64(h ^ mix64(seed))


def eval_cmd(*args):
    r = subprocess.run([GATEWAY_BIN, "eval"] + list(args), capture_output=True, timeout=120)
    return r.returncode, r.stdout.decode(), r.stderr.decode()


def leg_cost(arm, price, cap=None):
    u = arm["usage"]
    completion = u["completion_tokens"] if cap is None else min(cap, u["completion_tokens"])
    return (u["prompt_tokens"] * price[0] + completion * price[1]) / 1e6


def trapz(y, x):
    return sum((x[i] - x[i - 1]) * (y[i] + y[i - 1]) / 2 for i in range(1, len(x)))


class TestCalibrateRouteLlmFixture(unittest.TestCase):
    """import routellm -> calibrate -> figures recomputed here from the rows -> YAML accepted."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="gw-calibrate-")
        cls.rows_path = os.path.join(cls.dir, "rows.jsonl")
        code, out, err = eval_cmd(
            "import", "routellm",
            "--gsm8k", os.path.join(FIXTURES, "gsm8k_responses.csv"),
            "--contaminated", os.path.join(FIXTURES, "gsm8k_contaminated_prompts.jsonl"),
            "--out", cls.rows_path)
        assert code == 0, err
        cls.config_path = os.path.join(cls.dir, "config.yaml")
        with open(cls.config_path, "w") as f:
            f.write(CALIBRATE_BASE + CALIBRATE_RULES)
        cls.out = os.path.join(cls.dir, "out")
        cls.code, cls.stdout, cls.stderr = eval_cmd(
            "calibrate", "--input", cls.rows_path, "--config", cls.config_path, "--out", cls.out,
            "--target-quality", "0.9", "--seed", "3", "--resamples", "200")
        with open(os.path.join(cls.out, "calibration.json")) as f:
            cls.summary = json.load(f)
        with open(cls.rows_path) as f:
            cls.rows = [json.loads(line) for line in f]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_import_dropped_the_contaminated_prompts(self):
        self.assertEqual(len(self.rows), 38)
        with open(os.path.join(FIXTURES, "gsm8k_contaminated_prompts.jsonl")) as f:
            listed = {json.loads(line)["eval_prompt"] for line in f}
        self.assertFalse(listed & {r["prompt"] for r in self.rows})

    def test_writes_every_output(self):
        self.assertEqual(self.code, 0, self.stderr)
        for name in ("calibration.md", "calibration.html", "calibration.json", "routing.yaml"):
            self.assertTrue(os.path.getsize(os.path.join(self.out, name)) > 0, name)
        with open(os.path.join(self.out, "calibration.html")) as f:
            html = f.read()
        self.assertIn("<svg", html)
        self.assertNotIn("<script", html)
        self.assertNotIn("http://", html.replace("http://www.w3.org/2000/svg", ""))

    def split(self):
        seed = self.summary["split"]["seed"]
        pct = self.summary["split"]["train_percent"]
        return [r for r in self.rows if hash_id(r["id"], seed) % 100 >= pct]

    def decide(self, row, knobs):
        """The chosen setting's rules, re-implemented here (length rules only: no refusal in
        these drafts, no finish_reason recorded)."""
        draft, large = row["arms"]["draft"], row["arms"]["escalate"]
        pco = int(knobs.get("prompt_chars_over") or 0)
        under = int(knobs.get("chars_under") or 0)
        over = int(knobs.get("chars_over") or 0)
        cost_large = leg_cost(large, PRICES["escalate"])
        qd, ql = draft["quality"]["score"], large["quality"]["score"]
        if pco and len(row["prompt"]) > pco:
            return True, cost_large, ql, qd, ql
        n = len(draft["text"])
        esc = bool((under and n < under) or (over and n > over))
        cost = leg_cost(draft, PRICES["draft"]) + (cost_large if esc else 0)
        return esc, cost, (ql if esc else qd), qd, ql

    def test_held_out_figures_recomputed_from_the_rows(self):
        chosen = self.summary["chosen"]
        self.assertIsNotNone(chosen)
        held = self.split()
        self.assertEqual(len(held), self.summary["split"]["held_out"])
        decided = [self.decide(r, chosen["knobs"]) for r in held]
        n = len(decided)
        f = chosen["held_out"]
        self.assertAlmostEqual(f["escalation_rate"], sum(d[0] for d in decided) / n, places=12)
        self.assertAlmostEqual(f["cost_per_1k_usd"], sum(d[1] for d in decided) / n * 1000, places=12)
        self.assertAlmostEqual(f["quality"], sum(d[2] for d in decided) / n, places=12)
        bad = sum(1 for d in decided if not d[0] and d[3] < d[4])
        self.assertAlmostEqual(f["bad_accept_rate"], bad / n, places=12)
        # One-sided 95% Wilson upper bound, recomputed.
        z = 1.6448536269514722
        p = bad / n
        upper = (p + z * z / (2 * n) + z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5)) / (1 + z * z / n)
        self.assertAlmostEqual(chosen["bad_accept_upper"], min(1.0, upper), places=6)
        lo, hi = chosen["intervals_95"]["quality"]
        self.assertLessEqual(lo, f["quality"])
        self.assertGreaterEqual(hi, f["quality"])

    def test_the_choice_is_the_cheapest_meeting_the_target_on_train(self):
        settings = self.summary["settings"]
        meeting = [s for s in settings if s["train"]["quality"] >= 0.9 * s["train"]["quality_large_only"]]
        self.assertEqual([s["meets_target"] for s in settings],
                         [s in meeting for s in settings])
        cheapest = min(s["train"]["cost_per_1k_usd"] for s in meeting)
        self.assertEqual(self.summary["chosen"]["train"]["cost_per_1k_usd"], cheapest)

    def test_pareto_frontier(self):
        settings = self.summary["settings"]
        for s in settings:
            dominated = any(
                t["train"]["cost_per_1k_usd"] <= s["train"]["cost_per_1k_usd"]
                and t["train"]["quality"] >= s["train"]["quality"]
                and (t["train"]["cost_per_1k_usd"] < s["train"]["cost_per_1k_usd"]
                     or t["train"]["quality"] > s["train"]["quality"])
                for t in settings)
            self.assertEqual(s["pareto"], not dominated)

    def test_routellm_figures_recomputed(self):
        small = sum(r["arms"]["draft"]["quality"]["score"] for r in self.rows) / len(self.rows)
        large = sum(r["arms"]["escalate"]["quality"]["score"] for r in self.rows) / len(self.rows)
        self.assertAlmostEqual(self.summary["all_rows"]["small_only"]["quality"], small, places=12)
        self.assertAlmostEqual(self.summary["all_rows"]["large_only"]["quality"], large, places=12)
        for c in self.summary["curves"]:
            pts = sorted(c["escalation_axis"], key=lambda p: p[0])  # stable, as numpy's sort_values
            x = [p[0] / 100 for p in pts]
            y = [p[1] for p in pts]
            span = x[-1] - x[0]
            apgr = (trapz(y, x) - small * span) / (large * span - small * span)
            self.assertAlmostEqual(c["apgr"], apgr, places=9, msg=c["rule"])
            self.assertEqual(pts[0][0], 0.0)
            self.assertEqual(pts[-1][0], 100.0)

    def test_the_yaml_snippet_passes_check_config(self):
        with open(os.path.join(self.out, "routing.yaml")) as f:
            snippet = f.read()
        self.assertIn("sha256:", snippet)
        code, out, _ = run_check_config(CALIBRATE_BASE + snippet)
        self.assertEqual(code, 0, out + "\n" + snippet)

    def test_replay_agrees_with_calibrate_on_the_chosen_setting(self):
        with open(os.path.join(self.out, "routing.yaml")) as f:
            snippet = f.read()
        path = os.path.join(self.dir, "chosen.yaml")
        with open(path, "w") as f:
            f.write(CALIBRATE_BASE + snippet)
        out_json = os.path.join(self.dir, "replay.json")
        code, out, err = eval_cmd("replay", "--input", self.rows_path, "--config", path, "--json", out_json)
        self.assertEqual(code, 0, err)
        with open(out_json) as f:
            replay = json.load(f)
        chosen = self.summary["chosen"]
        n_all = chosen["train"]["n"] + chosen["held_out"]["n"]
        rate = (chosen["train"]["escalation_rate"] * chosen["train"]["n"]
                + chosen["held_out"]["escalation_rate"] * chosen["held_out"]["n"]) / n_all
        self.assertAlmostEqual(replay["escalation_rate"], rate, places=12)


class TestCheckConfigConfidenceRules(unittest.TestCase):
    def test_bounds_reported_with_their_position(self):
        bad = CALIBRATE_BASE + """  after_draft:
    min_logprob_under: 0.5
    p10_logprob_under: -2
    first_margin_under: -1
"""
        code, out, path = run_check_config(bad)
        self.assertEqual(code, 2, out)
        self.assertRegex(out, r":15:24: .*min_logprob_under.*at most 0|:15:\d+: .*at most 0")
        self.assertRegex(out, r":17:\d+: .*at least 0")
        self.assertNotIn(":16:", out)
        code, out, _ = run_check_config(CALIBRATE_BASE + """  after_draft:
    min_logprob_under: -6
    p10_logprob_under: ~
    first_margin_under: 0
""")
        self.assertEqual(code, 0, out)


class TestDecisionLogToCalibrate(unittest.TestCase):
    """Demo-like traffic through a real gateway -> its decision log -> calibrate -> YAML that
    --check-config accepts; every routed request has a line with every signal."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="gw-decisions-")
        cls.log_path = os.path.join(cls.dir, "decisions.jsonl")
        routing = {
            "before_draft": {"prompt_chars_over": 600},
            "after_draft": {
                "chars_under": 20,
                "finish_reason_length": True,
                "refusal": [r"(?i)\bI (don't|do not) know\b"],
                "mean_logprob_under": -2.5,
                "min_logprob_under": -9.0,
                "p10_logprob_under": -4.0,
                "first_margin_under": 0.05,
            },
            "decision_log": cls.log_path,
            "decision_log_max_bytes": 10485760,
        }
        cls.yaml = config_yaml(SIM.port, routing=routing)
        cls.gw = Gateway(cls.yaml)
        # Varied traffic: confidence levels, dips, margins, refusals, short and long drafts, long
        # prompts; half streamed.
        cls.sent = 0
        for i in range(60):
            parts = ["[sim:logprob=-%.2f@phi-4-mini]" % (0.1 + (i % 12) * 0.3)]
            if i % 5 == 0:
                parts.append("[sim:min_logprob=-%d@phi-4-mini]" % (3 + i % 9))
            if i % 7 == 0:
                parts.append("[sim:first_margin=%.2f@phi-4-mini]" % ((i % 4) * 0.5))
            if i % 11 == 0:
                parts.append("[sim:refuse@phi-4-mini]")
            if i % 13 == 0:
                parts.append("[sim:short@phi-4-mini]")
            prompt = " ".join(parts) + " Question %d about the quarter?" % i
            if i % 17 == 0:
                prompt += " Please be thorough." * 40
            body = chat("auto", prompt, stream=(i % 2 == 1))
            if i % 2:
                st = SSEStream(cls.gw.port, body, timeout=5)
                try:
                    st.collect()
                finally:
                    st.close()
            else:
                request(cls.gw.port, "POST", CHAT, body=body, timeout=5)
            cls.sent += 1
        # A direct request is not routed: no line.
        request(cls.gw.port, "POST", CHAT, body=chat(DRAFT, "direct"), timeout=5)
        cls.gw.close()  # the writer drains at exit
        with open(cls.log_path) as f:
            cls.lines = [json.loads(line) for line in f]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_one_line_per_routed_request_with_every_signal(self):
        self.assertEqual(len(self.lines), self.sent)
        routes = {l["route"] for l in self.lines}
        self.assertTrue({"draft", "escalated"} <= routes, routes)
        for l in self.lines:
            self.assertEqual(l["schema"], "hg.decision/1")
            self.assertNotIn("prompt", l)  # no --log-prompts
            self.assertIn("prompt_chars", l)
            if l["draft"] is None:
                self.assertEqual(l["reason"], "prompt_chars_over")
                continue
            d = l["draft"]
            for key in ("chars", "finish_reason", "refusal_matched", "logprobs", "usage", "cost_usd"):
                self.assertIn(key, d)
            self.assertNotIn("text", d)
            lp = d["logprobs"]
            self.assertIsNotNone(lp, l)
            for key in ("n", "mean", "min", "p10", "first_margin"):
                self.assertIn(key, lp)
        reasons = {l["reason"] for l in self.lines}
        for r in ("min_logprob_under", "mean_logprob_under", "refusal", "prompt_chars_over"):
            self.assertIn(r, reasons)

    def test_replay_reproduces_the_gateways_decisions(self):
        path = os.path.join(self.dir, "gw.yaml")
        with open(path, "w") as f:
            f.write(self.yaml)
        out_json = os.path.join(self.dir, "replay.json")
        code, out, err = eval_cmd("replay", "--input", self.log_path, "--config", path, "--json", out_json)
        self.assertEqual(code, 0, err)
        with open(out_json) as f:
            replay = json.load(f)
        by_id = {r["id"]: r for r in replay["rows"]}
        for l in self.lines:
            if l["draft"] is None or l["stream"]:
                continue  # streams: judged on the held prefix, recorded as the whole draft
            r = by_id[l["request_id"]]
            self.assertEqual(r["route"], l["route"], l)
            self.assertEqual(r["reason"], l["reason"], l)

    def test_calibrate_on_the_log_gives_a_report_and_yaml_check_config_accepts(self):
        path = os.path.join(self.dir, "gw2.yaml")
        with open(path, "w") as f:
            f.write(self.yaml)
        out = os.path.join(self.dir, "calib")
        code, stdout, err = eval_cmd("calibrate", "--input", self.log_path, "--config", path,
                                     "--out", out, "--target-escalation", "0.3", "--resamples", "100")
        self.assertEqual(code, 0, err)
        with open(os.path.join(out, "calibration.json")) as f:
            summary = json.load(f)
        self.assertIsNotNone(summary["chosen"])
        self.assertLessEqual(summary["chosen"]["train"]["escalation_rate"], 0.3)
        with open(os.path.join(out, "routing.yaml")) as f:
            snippet = f.read()
        base = config_yaml(SIM.port).split("routing:")[0] + "routing:\n  draft: phi-4-mini\n  escalate: gpt-oss-20b\n"
        code, text, _ = run_check_config(base + snippet)
        self.assertEqual(code, 0, text + "\n" + base + snippet)


class TestDecisionLogLossIsCounted(unittest.TestCase):
    """The decision log is written on a thread of its own, which has no one to tell when a line is
    lost: /metrics counts lines it could not write and lines a full backlog dropped."""

    def test_lines_the_file_refuses_are_counted(self):
        d = tempfile.mkdtemp(prefix="gw-decisions-")
        try:
            path = os.path.join(d, "decisions.jsonl")
            os.mkdir(path)  # a directory where the file should be: every open fails
            gw = Gateway(config_yaml(SIM.port, routing={"decision_log": path}))
            try:
                for i in range(3):
                    status, _, body = request(gw.port, "POST", CHAT, body=chat("auto", "q%d" % i), timeout=5)
                    self.assertEqual(status, 200, body)
                self.assertEqual(wait_metric(gw, "gateway_decision_log_write_errors_total", None, 3), 3)
                self.assertEqual(metric_value(gw.metrics(), "gateway_decision_log_lines_dropped_total"), 0)
            finally:
                gw.close()
        finally:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
