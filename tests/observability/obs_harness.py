"""Helpers for the observability tests: real llm-sim, hybrid-gateway and Prometheus processes
on loopback, plain HTTP calls, and Prometheus text-format parsing. Python 3 stdlib only.

Binaries: $GW_BUILD_DIR (default <repo>/build) for the gateway and the simulator;
$PROMETHEUS / $PROMTOOL, else `prometheus` / `promtool` on PATH (Debian's `prometheus`
package, see scripts/install-test-deps.sh).
"""

import http.client
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BUILD_DIR = os.environ.get("GW_BUILD_DIR") or os.path.join(REPO, "build")
GATEWAY_BIN = os.path.join(BUILD_DIR, "hybrid-gateway")
SIM_BIN = os.path.join(BUILD_DIR, "llm-sim")
PROMETHEUS_BIN = os.environ.get("PROMETHEUS") or shutil.which("prometheus")
PROMTOOL_BIN = os.environ.get("PROMTOOL") or shutil.which("promtool")

DASHBOARD = os.path.join(REPO, "grafana", "dashboards", "hybrid-gateway.json")
PROMETHEUS_YML = os.path.join(REPO, "deploy", "prometheus.yml")
RULES_DIR = os.path.join(REPO, "deploy", "rules")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Process:
    """A child process in its own session; stdout/stderr collected by background threads."""

    def __init__(self, argv, cwd=None):
        self.argv = argv
        self.lines = []
        self._cond = threading.Condition()
        self._open = 2
        self.proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, start_new_session=True)
        self._threads = [threading.Thread(target=self._pump, args=(p,), daemon=True)
                         for p in (self.proc.stdout, self.proc.stderr)]
        for t in self._threads:
            t.start()

    @property
    def pid(self):
        return self.proc.pid

    def _pump(self, pipe):
        for raw in iter(pipe.readline, b""):
            with self._cond:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._open -= 1
            self._cond.notify_all()

    def wait_line(self, predicate, timeout):
        deadline = time.monotonic() + timeout
        with self._cond:
            i = 0
            while True:
                while i < len(self.lines):
                    if predicate(self.lines[i]):
                        return self.lines[i]
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0 or self._open == 0:
                    return None
                self._cond.wait(left)

    def output(self, last=60):
        with self._cond:
            return "\n".join(self.lines[-last:])

    def stop(self, grace=5.0):
        """SIGTERM this PID, SIGKILL after `grace` s. Returns the exit code."""
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                try:
                    os.kill(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=5)
        for t in self._threads:
            t.join(timeout=1)
        for p in (self.proc.stdout, self.proc.stderr):
            try:
                p.close()
            except OSError:
                pass
        return self.proc.returncode


# ------------------------------------------------------------------------------- HTTP


def http_call(port, method, path, body=None, headers=None, timeout=10.0):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = None
        hdrs = dict(headers or {})
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            hdrs.setdefault("content-type", "application/json")
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        payload = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, payload
    finally:
        conn.close()


def chat(port, model, messages, stream=False, include_usage=False, timeout=20.0):
    """POST /v1/chat/completions. Returns (status, headers, usage or None, content text)."""
    body = {"model": model, "messages": messages}
    if stream:
        body["stream"] = True
        if include_usage:
            body["stream_options"] = {"include_usage": True}
    status, headers, payload = http_call(port, "POST", "/v1/chat/completions", body, timeout=timeout)
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


# ------------------------------------------------------------------------------- metrics text

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """{(name, frozenset(labels.items())): value} for every sample line."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if not m:
            raise ValueError("unparsable metrics line: %r" % line)
        labels = frozenset(_LABEL.findall(m.group(3) or ""))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


def sample(metrics, name, **labels):
    return metrics.get((name, frozenset(labels.items())))


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
                status, _, _ = http_call(self.port, "GET", "/-/ready", timeout=1)
                if status == 200:
                    break
            except OSError:
                pass
            if self.proc.proc.poll() is not None or time.monotonic() > deadline:
                out = self.proc.output()
                self.proc.stop()
                raise RuntimeError("prometheus did not become ready:\n" + out)
            time.sleep(0.1)

    def query(self, expr):
        qs = urllib.parse.urlencode({"query": expr})
        status, _, body = http_call(self.port, "GET", "/api/v1/query?" + qs, timeout=10)
        doc = json.loads(body)
        if status != 200 or doc.get("status") != "success":
            raise AssertionError("query failed (%d): %s\n%s" % (status, expr, body[:500]))
        return doc["data"]

    def label_values(self, label, match):
        qs = urllib.parse.urlencode({"match[]": match})
        status, _, body = http_call(self.port, "GET", "/api/v1/label/%s/values?%s" % (label, qs))
        doc = json.loads(body)
        assert status == 200 and doc.get("status") == "success", body
        return doc["data"]

    def stop(self):
        return self.proc.stop()


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
