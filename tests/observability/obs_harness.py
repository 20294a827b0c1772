"""The observability tests' additions to the shared harness (tests/integration/harness.py,
re-exported here): Prometheus and promtool, the PromQL of the dashboard and the rules files, and
a chat call that returns usage and text. Python 3 stdlib only.

Binaries: $GW_BUILD_DIR (default <repo>/build) for the gateway and the simulator;
$PROMETHEUS / $PROMTOOL, else `prometheus` / `promtool` on PATH (Debian's `prometheus`
package, see scripts/install-test-deps.sh).
"""

import json
import math
import os
import re
import shutil
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "integration"))

from harness import (  # noqa: E402  (the one Python harness; observability adds Prometheus)
    GATEWAY_BIN,
    REPO,
    SIM_BIN,
    Gateway,
    Process,
    Sim,
    free_port,
    parse_metrics,
    request,
    sample,
)

PROMETHEUS_BIN = os.environ.get("PROMETHEUS") or shutil.which("prometheus")
PROMTOOL_BIN = os.environ.get("PROMTOOL") or shutil.which("promtool")

DASHBOARD = os.path.join(REPO, "grafana", "dashboards", "hybrid-gateway.json")
PROMETHEUS_YML = os.path.join(REPO, "deploy", "prometheus.yml")
RULES_DIR = os.path.join(REPO, "deploy", "rules")


def chat(port, model, messages, stream=False, include_usage=False, timeout=20.0):
    """POST /v1/chat/completions. Returns (status, headers, usage or None, content text)."""
    body = {"model": model, "messages": messages}
    if stream:
        body["stream"] = True
        if include_usage:
            body["stream_options"] = {"include_usage": True}
    status, headers, payload = request(port, "POST", "/v1/chat/completions", body, timeout=timeout)
    if status != 200:
        return status, headers, None, payload.decode("utf-8", "replace")
    if not stream:
        doc = json.loads(payload)
        return status, headers, doc.get("usage"), doc["choices"][0]["message"].get("content") or ""
    usage, text, done = None, [], False
    for line in payload.decode("utf-8").splitlines():
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            done = True
            continue
        chunk = json.loads(data)
        if chunk.get("usage"):
            usage = chunk["usage"]
        for c in chunk.get("choices") or []:
            text.append((c.get("delta") or {}).get("content") or "")
    if not done:
        raise AssertionError("stream without data: [DONE]: %r" % payload[-300:])
    return status, headers, usage, "".join(text)


# ------------------------------------------------------------------------------- PromQL sources


def dashboard_exprs(dashboard):
    """[(panel title, expr)] for every target of every panel (rows' nested panels too)."""
    out = []

    def walk(panels):
        for p in panels:
            for t in p.get("targets") or []:
                if t.get("expr"):
                    out.append((p.get("title", "?"), t["expr"]))
            walk(p.get("panels") or [])

    walk(dashboard.get("panels") or [])
    return out


def substitute_grafana_vars(expr, interval="1m", rng="5m"):
    """Grafana's template variables -> what a `.*`-selected dashboard sends to Prometheus."""
    for var in ("model", "route"):
        expr = expr.replace("${%s}" % var, ".*").replace("$" + var, ".*")
    for var, value in (("__rate_interval", interval), ("__interval", interval), ("__range", rng)):
        expr = expr.replace("${%s}" % var, value).replace("$" + var, value)
    if "$" in expr:
        raise ValueError("unsubstituted variable in %r" % expr)
    return expr


def rule_exprs(path):
    """[(kind 'record'|'alert', name, expr)] from a Prometheus rules file.

    A small reader for the subset of YAML our rules file uses (`- record:`/`- alert:` items
    with `expr:` either inline or as a `|`/`>` block) - no PyYAML in the stdlib. Cross-checked
    with promtool: the caller compares the count with `promtool check rules` output."""
    with open(path, encoding="utf-8") as src:
        lines = src.read().splitlines()
    out, current, i = [], None, 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r'^\s*-\s+(record|alert):\s*(\S.*)$', line)
        if m:
            current = [m.group(1), m.group(2).strip().strip('"\''), None]
            out.append(current)
            i += 1
            continue
        m = re.match(r'^(\s*)expr:\s*(.*)$', line)
        if m and current is not None:
            indent, rest = len(m.group(1)), m.group(2).strip()
            if rest in ("|", ">", "|-", ">-", "|+", ">+"):
                block = []
                i += 1
                while i < len(lines) and (not lines[i].strip() or
                                          len(lines[i]) - len(lines[i].lstrip()) > indent):
                    block.append(lines[i].strip())
                    i += 1
                current[2] = "\n".join(block).strip()
                continue
            current[2] = rest.strip('"\'') if rest[:1] in "\"'" else rest
        i += 1
    for kind, name, expr in out:
        if not expr:
            raise ValueError("no expr for %s %s in %s" % (kind, name, path))
    return [tuple(x) for x in out]


# ------------------------------------------------------------------------------- Prometheus


class Prometheus:
    """A real Prometheus server on 127.0.0.1:<free port> with a temp TSDB."""

    def __init__(self, scrape_target, rule_files, workdir, interval="1s"):
        self.port = free_port()
        cfg = os.path.join(workdir, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: %s\n  evaluation_interval: %s\n" % (interval, interval))
            f.write("rule_files:\n")
            for r in rule_files:
                f.write("  - %s\n" % json.dumps(r))
            f.write("scrape_configs:\n  - job_name: hybrid-gateway\n    static_configs:\n"
                    "      - targets: [%s]\n" % json.dumps(scrape_target))
        self.proc = Process([PROMETHEUS_BIN, "--config.file=" + cfg,
                             "--storage.tsdb.path=" + os.path.join(workdir, "tsdb"),
                             "--web.listen-address=127.0.0.1:%d" % self.port,
                             "--log.level=warn"], cwd=workdir)
        deadline = time.monotonic() + 20
        while True:
            try:
                status, _, _ = request(self.port, "GET", "/-/ready", timeout=1)
                if status == 200:
                    break
            except OSError:
                pass
            if self.proc.proc.poll() is not None or time.monotonic() > deadline:
                out = self.proc.output()
                self.proc.kill()
                raise RuntimeError("prometheus did not become ready:\n" + out)
            time.sleep(0.1)

    def query(self, expr):
        qs = urllib.parse.urlencode({"query": expr})
        status, _, body = request(self.port, "GET", "/api/v1/query?" + qs, timeout=10)
        doc = json.loads(body)
        if status != 200 or doc.get("status") != "success":
            raise AssertionError("query failed (%d): %s\n%s" % (status, expr, body[:500]))
        return doc["data"]

    def label_values(self, label, match):
        qs = urllib.parse.urlencode({"match[]": match})
        status, _, body = request(self.port, "GET", "/api/v1/label/%s/values?%s" % (label, qs), timeout=10)
        doc = json.loads(body)
        assert status == 200 and doc.get("status") == "success", body
        return doc["data"]

    def stop(self):
        return self.proc.terminate(grace=5.0)


def finite_values(data):
    """The finite sample values of an instant-query result (vector or scalar)."""
    if data["resultType"] == "scalar":
        values = [data["result"][1]]
    else:
        values = [r["value"][1] for r in data["result"]]
    out = []
    for v in values:
        f = float(v)
        if math.isfinite(f):
            out.append(f)
    return out


def make_tempdir():
    return tempfile.mkdtemp(prefix="gw-obs-")
