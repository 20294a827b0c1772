"""Integration tests of `hybrid-gateway eval run|grade|report` (issue 12) against real llm-sim and
hybrid-gateway processes on loopback: the whole pipeline, resume after kill -9, the judge cache,
unparseable judge output, summary.json recomputed from the outcome rows, and the HTML report in
headless Chromium.

Run:  cd tests/integration && GW_BUILD_DIR=/work/main/build-ev python3 -m unittest -v test_eval
"""

import json
import math
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from harness import GATEWAY_BIN, REPO, Gateway, Sim, config_yaml

QUESTIONS = os.path.join(REPO, "eval", "questions.jsonl")
HERE = os.path.dirname(os.path.abspath(__file__))
ARMS = ("draft", "escalate", "auto")
BEFORE_DRAFT = ("prompt_chars_over", "match")

ROUTING = {
    "before_draft": {"prompt_chars_over": 8000, "match": [r"(?i)\b(contract|incident|diagnos)"]},
    "after_draft": {
        "chars_under": 20,
        "finish_reason_length": True,
        "refusal": [r"(?i)\bI (don't|do not) know\b", r"(?i)insufficient (context|information)"],
        "mean_logprob_under": -1.5,
    },
}
UNPARSEABLE = "Sounds good to me, five stars overall."


def subset(path, per_domain):
    """The first `per_kind` items of each kind (id prefix) of the built-in set (the sim knows them)."""
    seen, out = {}, []
    with open(QUESTIONS) as f:
        for line in f:
            kind = json.loads(line)["id"].split("-")[0]
            if seen.get(kind, 0) < per_domain:
                seen[kind] = seen.get(kind, 0) + 1
                out.append(line)
    with open(path, "w") as f:
        f.writelines(out)
    return len(out)


def eval_cmd(*args, timeout=120):
    r = subprocess.run([GATEWAY_BIN, "eval"] + list(args), capture_output=True, timeout=timeout)
    return r.returncode, r.stdout.decode(), r.stderr.decode()


def rows_of(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def read(path):
    with open(path) as f:
        return f.read()


def nearest_rank(values, p):
    s = sorted(values)
    k = max(0, math.ceil(p / 100 * len(s)) - 1)
    return s[k]


def upstream_calls(row):
    """Upstream requests one row cost: one per direct arm, one or two for auto."""
    auto = row["arms"]["auto"]
    escalated_after_draft = auto["route"] == "escalated" and auto["reason"] not in BEFORE_DRAFT
    return 2 + (2 if escalated_after_draft else 1)


class EvalPipeline(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="gw-eval-")
        self.set_path = os.path.join(self.dir, "set.jsonl")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self, models=("phi-4-mini:accuracy=0.6", "gpt-oss-20b:accuracy=0.95")):
        sim = Sim(models)
        judge = Sim(["scripted-judge:text=" + UNPARSEABLE])
        gw = Gateway(config_yaml(sim.port, routing=ROUTING, models={
            "scripted-judge": {"upstream": "http://127.0.0.1:%d/v1" % judge.port,
                               "price": {"input_per_mtok": 0, "output_per_mtok": 0}}}))
        self.addCleanup(judge.close)
        self.addCleanup(sim.close)
        self.addCleanup(gw.close)
        return sim, gw

    def run_eval(self, gw, out, *extra, timeout=120):
        return eval_cmd("run", "--set", self.set_path, "--out", out, "--config", gw.config_path,
                        "--gateway", "http://127.0.0.1:%d" % gw.port, *extra, timeout=timeout)

    def test_run_grade_report_and_summary_recomputed(self):
        n = subset(self.set_path, 3)
        sim, gw = self.start()
        out = os.path.join(self.dir, "out.jsonl")
        code, _, err = self.run_eval(gw, out, "--concurrency", "4")
        self.assertEqual(code, 0, err)
        self.assertIn("%d/%d done" % (n, n), err)  # progress on stderr
        rows = rows_of(out)
        self.assertEqual(sorted(r["id"] for r in rows),
                         sorted(r["id"] for r in rows_of(self.set_path)))
        for r in rows:
            self.assertEqual(r["schema"], "hg.outcome/1")
            for arm in ARMS:
                a = r["arms"][arm]
                self.assertIsNone(a["error"], (r["id"], arm, a))
                self.assertTrue(a["simulated"])
                self.assertIsNotNone(a["cost_usd"], (r["id"], arm))
                self.assertIn("total", a["timings_ms"])
            self.assertEqual(r["arms"]["draft"]["route"], "direct")
            self.assertIsNotNone(r["arms"]["draft"]["logprobs"]["mean"])
            self.assertIsNotNone(r["arms"]["auto"]["timings_ms"]["client_ttft"])  # streamed
            self.assertIn(r["arms"]["auto"]["route"], ("draft", "escalated"))
        self.assertTrue(any(r["arms"]["auto"]["route"] == "escalated" for r in rows))
        self.assertTrue(any(r["arms"]["auto"]["route"] == "draft" for r in rows))

        # grade: automatic checks + judge; a second grade is served from the cache alone.
        code, _, err = eval_cmd("grade", "--in", out, "--config", gw.config_path, "--judge",
                                "gpt-oss-20b", "--gateway", "http://127.0.0.1:%d" % gw.port,
                                "--pairwise", "draft,escalate")
        self.assertEqual(code, 0, err)
        before = sim.stats()["requests"]
        first = rows_of(out)
        code, _, err = eval_cmd("grade", "--in", out, "--config", gw.config_path, "--judge",
                                "gpt-oss-20b", "--gateway", "http://127.0.0.1:%d" % gw.port,
                                "--pairwise", "draft,escalate")
        self.assertEqual(code, 0, err)
        self.assertIn("judge: 0 calls", err)
        self.assertEqual(sim.stats()["requests"], before, "the re-run asked the judge again")
        self.assertEqual(rows_of(out), first, "a cached re-grade changed the grades")
        for r in first:
            for arm in ARMS:
                q = r["arms"][arm]["quality"]
                self.assertIn(q["correct"], (True, False))
                self.assertIsInstance(q["rubric"], dict)
                self.assertTrue(1 <= q["rubric"]["factuality"] <= 5)
            self.assertIn(r["pairwise"]["winner"], ("draft", "escalate", "tie"))
        refusals = [r for r in first if r["reference"].get("refusal")]
        self.assertTrue(refusals)
        for r in refusals:
            self.assertEqual(r["arms"]["draft"]["quality"]["checks"]["refusal"]["pass"],
                             r["arms"]["draft"]["quality"]["correct"])

        # report, and every figure of summary.json recomputed here from the rows.
        rep = os.path.join(self.dir, "report")
        code, _, err = eval_cmd("report", "--in", out, "--out-dir", rep, "--requests-per-day",
                                "50000")
        self.assertEqual(code, 0, err)
        s = json.loads(read(os.path.join(rep, "summary.json")))
        self.assertTrue(s["simulated"])
        self.assertEqual(s["rows"], n)
        for arm in ARMS:
            qs = [r["arms"][arm]["quality"] for r in first]
            checked = [q["correct"] for q in qs if isinstance(q["correct"], bool)]
            a = s["arms"][arm]
            self.assertEqual(a["quality"]["auto"]["checked"], len(checked))
            self.assertEqual(a["quality"]["auto"]["correct"], sum(checked))
            self.assertAlmostEqual(a["quality"]["auto"]["accuracy"], sum(checked) / len(checked))
            rub = [q["rubric"]["score"] for q in qs]
            self.assertAlmostEqual(a["quality"]["rubric"]["score_mean"], sum(rub) / len(rub))
            costs = [r["arms"][arm]["cost_usd"] for r in first]
            self.assertAlmostEqual(a["cost"]["per_1k_usd"], sum(costs) / len(costs) * 1000)
            totals = [r["arms"][arm]["timings_ms"]["client_total"] for r in first]
            self.assertAlmostEqual(a["latency_ms"]["client_total"]["p50"], nearest_rank(totals, 50))
            self.assertAlmostEqual(a["latency_ms"]["client_total"]["p95"], nearest_rank(totals, 95))
        autos = [r["arms"]["auto"] for r in first]
        escalated = [a for a in autos if a["route"] == "escalated"]
        self.assertAlmostEqual(s["arms"]["auto"]["escalation_rate"], len(escalated) / len(autos))
        reasons = {}
        for a in escalated:
            reasons[a["reason"]] = reasons.get(a["reason"], 0) + 1
        self.assertEqual(s["arms"]["auto"]["reasons"], reasons)
        base = s["arms"]["escalate"]["cost"]["per_1k_usd"]
        auto_1k = s["arms"]["auto"]["cost"]["per_1k_usd"]
        self.assertAlmostEqual(s["cost"]["savings_vs_baseline"]["auto"]["per_1k_usd"], base - auto_1k)
        self.assertAlmostEqual(s["tco"]["by_arm"]["auto"]["per_day_usd"], auto_1k * 50000 / 1000)
        deltas = [r["arms"]["escalate"]["usage"]["completion_tokens"] -
                  r["arms"]["draft"]["usage"]["completion_tokens"] for r in first]
        self.assertAlmostEqual(s["token_deltas"]["completion_large_minus_small_mean"],
                               sum(deltas) / len(deltas))
        accepted = [r for r in first if r["arms"]["auto"]["route"] == "draft"]
        self.assertEqual(len(s["worst_accepted_drafts"]), min(10, len(accepted)))
        self.assertNotIn("text", s["worst_accepted_drafts"][0])  # only with --show-text
        md = read(os.path.join(rep, "report.md"))
        self.assertIn("SIMULATED", md)
        html = read(os.path.join(rep, "report.html"))
        self.assertNotIn("http://", html.replace("http://www.w3.org/2000/svg", ""))
        self.assertNotIn("<script", html)
        self.check_in_browser(os.path.join(rep, "report.html"))

    def check_in_browser(self, html):
        node = shutil.which("node")
        if not node or not os.path.isdir(os.path.join(HERE, "..", "browser", "node_modules",
                                                      "playwright-core")):
            self.skipTest("node + tests/browser/node_modules/playwright-core needed")
        r = subprocess.run([node, os.path.join(HERE, "eval_report_check.mjs"), html],
                           capture_output=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        result = json.loads(r.stdout.decode().strip().splitlines()[-1])
        self.assertEqual(result["console_errors"], [])
        self.assertEqual(result["page_errors"], [])
        self.assertEqual(result["failed_requests"], [])
        for section, visible in result["sections"].items():
            self.assertTrue(visible, section)
        self.assertGreaterEqual(result["svg"], 3)

    def test_resume_after_kill_sends_no_item_twice(self):
        n = subset(self.set_path, 4)
        sim, gw = self.start(models=("phi-4-mini:ttft_ms=150,accuracy=0.6",
                                     "gpt-oss-20b:ttft_ms=250,accuracy=0.95"))
        out = os.path.join(self.dir, "out.jsonl")
        p = subprocess.Popen([GATEWAY_BIN, "eval", "run", "--set", self.set_path, "--out", out,
                              "--config", gw.config_path, "--gateway",
                              "http://127.0.0.1:%d" % gw.port, "--concurrency", "2", "--quiet"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if os.path.exists(out) and read(out).count("\n") >= 3:
                break
            time.sleep(0.05)
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
        done_before = rows_of(out)
        self.assertGreaterEqual(len(done_before), 3)
        self.assertLess(len(done_before), n, "the run finished before the kill")
        # A kill in the middle of a write leaves a partial last line.
        with open(out, "a") as f:
            f.write('{"schema":"hg.outcome/1","id":"arith-0')
        time.sleep(0.5)  # requests of the killed client have reached the sim
        requests_before = sim.stats()["requests"]

        code, _, err = self.run_eval(gw, out, "--concurrency", "2")
        self.assertEqual(code, 0, err)
        self.assertIn("resuming, %d of %d" % (len(done_before), n), err)
        rows = rows_of(out)  # every line parses: the partial one was cut
        ids = [r["id"] for r in rows]
        self.assertEqual(len(ids), len(set(ids)), "an id appears twice")
        self.assertEqual(len(ids), n)
        done_ids = {r["id"] for r in done_before}
        expected = sum(upstream_calls(r) for r in rows if r["id"] not in done_ids)
        self.assertEqual(sim.stats()["requests"] - requests_before, expected,
                         "the rerun sent an item that was already complete")
        code, _, err = self.run_eval(gw, out)
        self.assertEqual(code, 0, err)
        self.assertEqual(len(rows_of(out)), n)
        self.assertEqual(sim.stats()["requests"] - requests_before, expected)

    def test_refine_arm_goes_to_the_second_gateway(self):
        n = subset(self.set_path, 1)
        sim, gw = self.start()
        refine = Gateway(config_yaml(sim.port, routing=dict(ROUTING, on_escalate="refine")))
        self.addCleanup(refine.close)
        out = os.path.join(self.dir, "out.jsonl")
        code, _, err = self.run_eval(gw, out, "--refine-gateway",
                                     "http://127.0.0.1:%d" % refine.port)
        self.assertEqual(code, 0, err)
        rows = rows_of(out)
        self.assertEqual(len(rows), n)
        for r in rows:
            a, ref = r["arms"]["auto"], r["arms"]["auto_refine"]
            self.assertIsNone(ref["error"], ref)
            self.assertEqual(ref["model"], "auto")
            # Same draft, same rules: the same routing decision on both gateways.
            self.assertEqual((ref["route"], ref["reason"]), (a["route"], a["reason"]))
        self.assertTrue(any(r["arms"]["auto_refine"]["route"] == "escalated" for r in rows))
        rep = os.path.join(self.dir, "report")
        code, _, err = eval_cmd("report", "--in", out, "--out-dir", rep)
        self.assertEqual(code, 0, err)
        s = json.loads(read(os.path.join(rep, "summary.json")))
        self.assertIn("auto_refine", s["arms"])
        self.assertAlmostEqual(s["arms"]["auto_refine"]["escalation_rate"],
                               s["arms"]["auto"]["escalation_rate"])

    def test_unparseable_judge_output_is_recorded_not_guessed(self):
        subset(self.set_path, 1)
        sim, gw = self.start()
        out = os.path.join(self.dir, "out.jsonl")
        code, _, err = self.run_eval(gw, out, "--arms", "draft,escalate")
        self.assertEqual(code, 0, err)
        code, _, err = eval_cmd("grade", "--in", out, "--judge", "scripted-judge", "--gateway",
                                "http://127.0.0.1:%d" % gw.port, "--pairwise", "draft,escalate")
        self.assertEqual(code, 0, err)
        rows = rows_of(out)
        for r in rows:
            for arm in ("draft", "escalate"):
                self.assertEqual(r["arms"][arm]["quality"]["rubric"], "unparsed")
                self.assertEqual(r["arms"][arm]["quality"]["source"], "auto")
            self.assertEqual(r["pairwise"]["winner"], "unparsed")
        rep = os.path.join(self.dir, "report")
        code, _, err = eval_cmd("report", "--in", out, "--out-dir", rep)
        self.assertEqual(code, 0, err)
        s = json.loads(read(os.path.join(rep, "summary.json")))
        self.assertEqual(s["arms"]["draft"]["quality"]["rubric"]["unparsed"], len(rows))
        self.assertIsNone(s["arms"]["draft"]["quality"]["rubric"]["score_mean"])


if __name__ == "__main__":
    unittest.main()
