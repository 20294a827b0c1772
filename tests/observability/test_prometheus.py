"""Observability against the real thing: llm-sim + hybrid-gateway + a real Prometheus.

- promtool check config / rules on deploy/ files;
- traffic on every route (direct, draft accepted, escalated, fallback; streamed and not);
- promtool check metrics on the gateway's /metrics: no lint problems;
- every PromQL expression of the Grafana dashboard and of the recording rules, evaluated by
  Prometheus after it scraped the gateway, returns data (at least one finite value);
- gateway_tokens_total, gateway_cost_usd_total{model} and gateway_baseline_cost_usd_total
  equal what this test computes from the configured prices and the upstream's usage.

Run:  python3 -m unittest -v test_prometheus      (from tests/observability)
Env:  GW_BUILD_DIR (default <repo>/build), PROMETHEUS, PROMTOOL (default: on PATH);
      GW_OBS_REQUIRE=1 turns "binary missing -> skip" into a failure (CI).
"""

import concurrent.futures
import glob
import json
import math
import os
import shutil
import subprocess
import time
import unittest

import obs_harness as h

PRICES = {  # USD per 1M tokens, as in the config below (= config/demo.yaml)
    "phi-4-mini": (0.10, 0.40),
    "gpt-oss-20b": (0.50, 2.00),
}
DRAFT, ESCALATE = "phi-4-mini", "gpt-oss-20b"

GATEWAY_YAML = """\
server:
  listen: "127.0.0.1:0"
  admin_listen: "127.0.0.1:0"
  threads: 2
  drain_timeout_ms: 2000
models:
  phi-4-mini:
    upstream: "http://127.0.0.1:{sim}/v1"
    timeout_ms: 10000
    price: {{ input_per_mtok: 0.10, output_per_mtok: 0.40 }}
  gpt-oss-20b:
    upstream: "http://127.0.0.1:{sim}/v1"
    timeout_ms: 10000
    price: {{ input_per_mtok: 0.50, output_per_mtok: 2.00 }}
routing:
  model_alias: auto
  draft: phi-4-mini
  escalate: gpt-oss-20b
  on_escalate: replace
  after_draft:
    chars_under: 5
    finish_reason_length: false
    refusal: ["(?i)\\\\bI (don't|do not) know\\\\b", "(?i)insufficient (context|information)"]
  stream:
    hold_tokens: 24
  fallback: true
  shadow:  # every accepted draft is shadowed, so the Quality row has data
    sample_rate: 1.0
    max_inflight: 16
"""

RATE_INTERVAL = "1m"
RANGE = "5m"


def cost(model, prompt, completion):
    pin, pout = PRICES[model]
    return prompt * pin / 1e6 + completion * pout / 1e6


class PrometheusObservabilityTest(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        # GW_OBS_REQUIRE=1 (CI): a missing binary fails the test instead of skipping it.
        unavailable = RuntimeError if os.environ.get("GW_OBS_REQUIRE") == "1" else unittest.SkipTest
        missing = [p for p in (h.GATEWAY_BIN, h.SIM_BIN) if not os.access(p, os.X_OK)]
        if missing:
            raise unavailable("not built: %s" % ", ".join(missing))
        if not h.PROMETHEUS_BIN or not h.PROMTOOL_BIN:
            raise unavailable("prometheus/promtool not installed (scripts/install-test-deps.sh)")
        cls.tmp = h.make_tempdir()
        cls.addClassCleanup(shutil.rmtree, cls.tmp, ignore_errors=True)
        # Class cleanups run last-in first-out, even when setUpClass fails half-way.

        # llm-sim serving both models.
        sim = h.Sim(["phi-4-mini:ttft_ms=5,tokens_per_s=500", "gpt-oss-20b:ttft_ms=10,tokens_per_s=300"],
                    threads=2)
        cls.addClassCleanup(sim.close)
        cls.sim_port = sim.port

        # The gateway.
        gw = h.Gateway(GATEWAY_YAML.format(sim=cls.sim_port))
        cls.addClassCleanup(gw.close)
        cls.port = gw.port
        cls.admin_port = gw.admin_port

        # Prometheus: 1 s scrapes of the admin port, the shipped rules evaluated every 1 s.
        rules = []
        for path in sorted(glob.glob(os.path.join(h.RULES_DIR, "*.yml"))):
            with open(path, encoding="utf-8") as src:
                text = src.read()
            dst = os.path.join(cls.tmp, os.path.basename(path))
            with open(dst, "w", encoding="utf-8") as f:
                f.write(text.replace("interval: 15s", "interval: 1s"))
            rules.append(dst)
        cls.prom = h.Prometheus("127.0.0.1:%d" % cls.admin_port, rules, cls.tmp)
        cls.addClassCleanup(cls.prom.stop)
        cls._wait_scrapes(2)  # the zero-valued series exist in the TSDB before any traffic

        # Traffic: two rounds, a few scrapes apart, so every series created by the first round
        # has increased by the second one (rate() > 0) and inflight is seen above 0.
        cls.requests = []
        cls.counter = 0
        for _ in range(2):
            cls._round()
            time.sleep(2.5)
        cls.metrics_text = cls._fetch_metrics()
        cls._wait_scrapes(3)

    @classmethod
    def _wait_scrapes(cls, n):
        """Waits until Prometheus has completed `n` more scrapes of the gateway."""
        def scrapes():
            data = cls.prom.query('count_over_time(up{job="hybrid-gateway"}[1h])')
            return int(float(data["result"][0]["value"][1])) if data["result"] else 0
        target = scrapes() + n
        deadline = time.monotonic() + 15
        while scrapes() < target:
            if time.monotonic() > deadline:
                raise RuntimeError("prometheus does not scrape the gateway:\n" + cls.prom.proc.output())
            time.sleep(0.2)

    @classmethod
    def _fetch_metrics(cls):
        status, headers, body = h.request(cls.admin_port, "GET", "/metrics", timeout=10)
        assert status == 200, status
        cls.metrics_content_type = headers.get("content-type", "")
        return body.decode("utf-8")

    @classmethod
    def _round(cls):
        plan = []

        def add(kind, model, text, stream=False, include_usage=False):
            cls.counter += 1
            msgs = [{"role": "system", "content": "You are terse. Request %d." % cls.counter},
                    {"role": "user", "content": text + " (item %d)" % cls.counter}]
            plan.append((kind, model, msgs, stream, include_usage))

        for stream, usage in ((False, False), (False, False), (True, True), (True, False)):
            add("direct", DRAFT, "Summarise the quarterly plan", stream, usage)
            add("draft", "auto", "Explain the routing of this gateway", stream, usage)
            add("escalated", "auto", "[sim:refuse@phi-4-mini] What is the capital of Atlantis?", stream, usage)
            add("fallback", "auto", "[sim:error=500@phi-4-mini] Describe the fallback", stream, usage)
        add("direct", ESCALATE, "Write a haiku about latency")
        add("direct_error", DRAFT, "[sim:error=500] this one fails")

        def run(item):
            kind, model, msgs, stream, include_usage = item
            status, headers, usage, text = h.chat(cls.port, model, msgs, stream, include_usage)
            return dict(kind=kind, model=model, messages=msgs, stream=stream,
                        include_usage=include_usage, status=status, headers=headers,
                        usage=usage, text=text)

        with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
            cls.requests.extend(pool.map(run, plan))

    # ---------------------------------------------------------------- helpers

    def sim_usage(self, model, messages, _cache={}):
        """What llm-sim answers `model` for these messages, asked directly (not streamed)."""
        key = (model, json.dumps(messages, sort_keys=True))
        if key not in _cache:
            status, _, usage, _ = h.chat(self.sim_port, model, messages)
            if status != 200:
                _cache[key] = None  # the directive makes this model fail
            else:
                _cache[key] = (usage["prompt_tokens"], usage["completion_tokens"])
        return _cache[key]

    def expected_legs(self, r):
        """[(model, prompt_tokens, completion_tokens, answering)] of the successful upstream
        calls behind one client request."""
        kind, msgs = r["kind"], r["messages"]
        if kind == "direct":
            return [(r["model"],) + self.sim_usage(r["model"], msgs) + (True,)]
        if kind == "direct_error":
            return []
        if kind == "draft":
            return [(DRAFT,) + self.sim_usage(DRAFT, msgs) + (True,)]
        if kind == "escalated":  # on_escalate: replace -> the same messages to the large model
            return [(DRAFT,) + self.sim_usage(DRAFT, msgs) + (False,),
                    (ESCALATE,) + self.sim_usage(ESCALATE, msgs) + (True,)]
        if kind == "fallback":
            self.assertIsNone(self.sim_usage(DRAFT, msgs), "the draft should fail for fallback")
            return [(ESCALATE,) + self.sim_usage(ESCALATE, msgs) + (True,)]
        raise AssertionError(kind)

    # ---------------------------------------------------------------- tests

    def test_01_promtool_check_config_and_rules(self):
        res = subprocess.run([h.PROMTOOL_BIN, "check", "config", h.PROMETHEUS_YML],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        rule_files = sorted(glob.glob(os.path.join(h.RULES_DIR, "*.yml")))
        self.assertTrue(rule_files)
        res = subprocess.run([h.PROMTOOL_BIN, "check", "rules"] + rule_files,
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        # Our stdlib reader of the rules file sees as many rules as promtool does.
        found = sum(len(h.rule_exprs(p)) for p in rule_files)
        self.assertIn("SUCCESS: %d rules found" % found, res.stdout)

    def test_02_routes_as_driven(self):
        for r in self.requests:
            want_status = 500 if r["kind"] == "direct_error" else 200
            self.assertEqual(r["status"], want_status, r)
            if r["kind"] == "direct_error":
                continue
            route = "direct" if r["kind"] == "direct" else r["kind"]
            self.assertEqual(r["headers"].get("x-gateway-route"), route, r)

    def test_03_metrics_lint_clean(self):
        self.assertTrue(self.metrics_content_type.startswith("text/plain"), self.metrics_content_type)
        self.assertIn("version=0.0.4", self.metrics_content_type)
        res = subprocess.run([h.PROMTOOL_BIN, "check", "metrics"], input=self.metrics_text,
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(res.returncode, 0, "promtool check metrics:\n" + res.stdout + res.stderr)
        self.assertEqual((res.stdout + res.stderr).strip(), "", "lint output:\n" + res.stdout + res.stderr)

    def test_04_every_spec_family_exported(self):
        m = h.parse_metrics(self.metrics_text)
        names = {name for name, _ in m}
        for family in ("gateway_requests_total", "gateway_stage_duration_seconds_bucket",
                       "gateway_stage_duration_seconds_sum", "gateway_stage_duration_seconds_count",
                       "gateway_tokens_total", "gateway_cost_usd_total",
                       "gateway_baseline_cost_usd_total", "gateway_escalations_total",
                       "gateway_upstream_errors_total", "gateway_inflight_requests",
                       "gateway_config_reloads_total", "gateway_token_estimates_total",
                       "process_resident_memory_bytes", "process_open_fds",
                       "process_cpu_seconds_total", "process_start_time_seconds"):
            self.assertIn(family, names)
        stages = {dict(l).get("stage") for n, l in m if n == "gateway_stage_duration_seconds_count"}
        self.assertEqual(stages, {"prep", "upstream_send", "first_token", "completion", "total"})

    def test_05_dashboard_queries_return_data(self):
        with open(h.DASHBOARD, encoding="utf-8") as src:
            dashboard = json.load(src)
        exprs = h.dashboard_exprs(dashboard)
        self.assertGreater(len(exprs), 20)
        empty = []
        for title, expr in exprs:
            q = h.substitute_grafana_vars(expr, RATE_INTERVAL, RANGE)
            data = self.prom.query(q)
            if not h.finite_values(data):
                empty.append("%s: %s -> %s" % (title, q, json.dumps(data["result"])[:200]))
        self.assertEqual(empty, [], "dashboard queries without data:\n" + "\n".join(empty))
        # The template variables' label_values() queries.
        for var in dashboard["templating"]["list"]:
            if var["type"] != "query":
                continue
            q = var["query"]["query"] if isinstance(var["query"], dict) else var["query"]
            metric, label = q[len("label_values("):-1].split(",")
            values = self.prom.label_values(label.strip(), metric.strip())
            self.assertTrue(values, q)
            if label.strip() == "model":
                self.assertTrue({DRAFT, ESCALATE} <= set(values), values)
            if label.strip() == "route":
                self.assertTrue({"direct", "draft", "escalated", "fallback"} <= set(values), values)

    def test_06_rule_queries_return_data(self):
        empty, alerts = [], 0
        for path in sorted(glob.glob(os.path.join(h.RULES_DIR, "*.yml"))):
            for kind, name, expr in h.rule_exprs(path):
                data = self.prom.query(expr)  # must at least parse and evaluate
                if kind == "alert":
                    alerts += 1  # an alert's condition is (rightly) empty on a healthy run
                    continue
                if not h.finite_values(data):
                    empty.append("%s: %s" % (name, expr))
                # ... and Prometheus itself evaluated the recording rule.
                if not h.finite_values(self.prom.query(name)):
                    empty.append("%s (recorded series)" % name)
        self.assertGreaterEqual(alerts, 3)
        self.assertEqual(empty, [], "recording rules without data:\n" + "\n".join(empty))

    def test_07_cost_and_tokens_match_prices_and_usage(self):
        m = h.parse_metrics(self.metrics_text)
        want_tokens = {(mod, k): 0 for mod in PRICES for k in ("prompt", "completion")}
        want_cost = {mod: 0.0 for mod in PRICES}
        want_baseline = 0.0
        for r in self.requests:
            legs = self.expected_legs(r)
            for model, prompt, completion, answering in legs:
                want_tokens[(model, "prompt")] += prompt
                want_tokens[(model, "completion")] += completion
                want_cost[model] += cost(model, prompt, completion)
                if answering:
                    want_baseline += cost(ESCALATE, prompt, completion)
            # The client-visible usage agrees with the upstream's.
            if r["usage"] is not None and legs:
                answer = [l for l in legs if l[3]][0]
                if r["kind"] == "escalated":
                    # escalations report both legs' tokens, streamed or not (an abandoned
                    # streamed draft's tokens are the gateway's estimate, as in the metrics)
                    got = (r["usage"]["prompt_tokens"], r["usage"]["completion_tokens"])
                    self.assertEqual(got, (sum(l[1] for l in legs), sum(l[2] for l in legs)), r)
                else:
                    got = (r["usage"]["prompt_tokens"], r["usage"]["completion_tokens"])
                    self.assertEqual(got, answer[1:3], r)
            if not r["stream"] and r["status"] == 200:
                self.assertIsNotNone(r["usage"], r)
            if r["stream"] and r["include_usage"]:
                self.assertIsNotNone(r["usage"], "include_usage asked, no usage chunk: %r" % r)
            if r["stream"] and not r["include_usage"]:
                self.assertIsNone(r["usage"], "usage chunk the client did not ask for: %r" % r)

        problems = []
        for (model, kind), want in sorted(want_tokens.items()):
            got = h.sample(m, "gateway_tokens_total", model=model, kind=kind)
            if got != want:
                problems.append("gateway_tokens_total{model=%s,kind=%s} = %s, want %s" % (model, kind, got, want))
        for model, want in sorted(want_cost.items()):
            got = h.sample(m, "gateway_cost_usd_total", model=model)
            if got is None or not math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12):
                problems.append("gateway_cost_usd_total{model=%s} = %r, want %r" % (model, got, want))
        got = h.sample(m, "gateway_baseline_cost_usd_total")
        if got is None or not math.isclose(got, want_baseline, rel_tol=1e-9, abs_tol=1e-12):
            problems.append("gateway_baseline_cost_usd_total = %r, want %r" % (got, want_baseline))
        self.assertEqual(problems, [], "\n".join(problems))
        self.assertEqual(h.sample(m, "gateway_token_estimates_total"), 0.0)
        # The baseline is what makes the hybrid design worth it: it must exceed the actual cost.
        self.assertGreater(want_baseline, sum(want_cost.values()))

        # Prometheus holds the same numbers (scraped after the traffic ended).
        got = self.prom.query("sum(gateway_cost_usd_total)")
        self.assertTrue(math.isclose(float(got["result"][0]["value"][1]), sum(want_cost.values()),
                                     rel_tol=1e-9))
        got = self.prom.query("gateway_baseline_cost_usd_total")
        self.assertTrue(math.isclose(float(got["result"][0]["value"][1]), want_baseline, rel_tol=1e-9))

    def test_08_request_counters_match_traffic(self):
        m = h.parse_metrics(self.metrics_text)
        want = {}
        for r in self.requests:
            if r["kind"] == "direct_error":
                key = (r["model"], "direct", "500")
            elif r["kind"] == "direct":
                key = (r["model"], "direct", "200")
            elif r["kind"] == "draft":
                key = (DRAFT, "draft", "200")
            else:
                key = (ESCALATE, r["kind"], "200")
            want[key] = want.get(key, 0) + 1
        got = {(dict(l)["model"], dict(l)["route"], dict(l)["code"]): v
               for (n, l), v in m.items() if n == "gateway_requests_total" and v}
        self.assertEqual(got, want)
        esc = {dict(l)["reason"]: v for (n, l), v in m.items() if n == "gateway_escalations_total" and v}
        n_esc = sum(1 for r in self.requests if r["kind"] == "escalated")
        n_fb = sum(1 for r in self.requests if r["kind"] == "fallback")
        self.assertEqual(esc, {"refusal": n_esc, "upstream_error": n_fb})
        self.assertEqual(h.sample(m, "gateway_upstream_errors_total", model=DRAFT, kind="http_5xx"),
                         n_fb + sum(1 for r in self.requests if r["kind"] == "direct_error"))
        self.assertEqual(h.sample(m, "gateway_inflight_requests"), 0.0)


if __name__ == "__main__":
    unittest.main()
