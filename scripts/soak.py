#!/usr/bin/env python3
"""Soak test: llm-sim + hybrid-gateway on loopback under mixed load for a bounded time.

Run through scripts/soak.sh (docs/testing.md). Python 3 stdlib only; reuses the integration
harness's config builder. Prints RSS and open fds of the gateway (from /proc) before and after,
requests done and errors per kind, and exits non-zero when:
  - the gateway died (or printed a sanitizer report: run it against build-asan too),
  - its RSS grew by more than RSS_GROWTH_LIMIT_MB between the end of the warm-up and the end,
  - it holds more than FD_SLACK fds more after the load than after the warm-up,
  - more than ERROR_RATE_LIMIT of the well-formed requests failed.
"""

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import http.client

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "integration"))
import harness  # noqa: E402  (config_yaml, sanitizer_report)

WARMUP_S = 5.0  # RSS and fds are measured from here: allocator arenas and pools are filled
SETTLE_S = 6.0  # after the load: idle pooled upstream connections may be reaped (pool idle age 4 s)
RELOAD_EVERY_S = 3.0
RSS_GROWTH_LIMIT_MB = 48  # steady state must stay flat; a leak of 1 KiB/request exceeds this
FD_SLACK = 24  # pooled upstream connections still idle (one per worker and model, some spare)
ERROR_RATE_LIMIT = 0.01
CLIENT_TIMEOUT_S = 20.0

SIM_MODELS = (
    "phi-4-mini:ttft_ms=5,tokens_per_s=4000,answer_tokens=48,logprob=-0.3",
    "gpt-oss-20b:ttft_ms=10,tokens_per_s=4000,answer_tokens=64",
)


def proc_figures(pid):
    """(RSS in KiB, open fds) of a live process."""
    rss_kib = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss_kib = int(line.split()[1])
    return rss_kib, len(os.listdir("/proc/%d/fd" % pid))


class Counters:
    def __init__(self):
        self.lock = threading.Lock()
        self.done = {}
        self.errors = {}
        self.examples = []

    def record(self, kind, ok, detail=""):
        with self.lock:
            self.done[kind] = self.done.get(kind, 0) + 1
            if not ok:
                self.errors[kind] = self.errors.get(kind, 0) + 1
                if len(self.examples) < 10:
                    self.examples.append("%s: %s" % (kind, detail))


def body(model, stream, text="Tell me about soak tests."):
    return json.dumps({"model": model, "stream": stream,
                       "messages": [{"role": "user", "content": text}]}).encode()


def post(port, payload, timeout=CLIENT_TIMEOUT_S):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", "/v1/chat/completions", body=payload,
                     headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def whole(port, model):
    status, data = post(port, body(model, False))
    return status == 200 and b'"choices"' in data, "status %d" % status


def stream(port, model):
    status, data = post(port, body(model, True))
    return status == 200 and data.rstrip().endswith(b"data: [DONE]"), "status %d, %d bytes" % (
        status, len(data))


def abort_mid_stream(port, model):
    """Reads the head and a few bytes of a stream, then resets the connection."""
    s = socket.create_connection(("127.0.0.1", port), timeout=CLIENT_TIMEOUT_S)
    try:
        payload = body(model, True, "A long answer please [sim:tokens=400]")
        s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: soak\r\n"
                  b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(payload)
                  + payload)
        got = s.recv(512)
        ok = got.startswith(b"HTTP/1.1 200")
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        return ok, got[:40]
    finally:
        s.close()


MALFORMED = (
    b"POST /v1/chat/completions HTTP/1.1\r\nHost: soak\r\nContent-Length: 9\r\n\r\n{not json",
    b"POST /v1/chat/completions HTTP/1.1\r\nHost: soak\r\nContent-Length: 40\r\n\r\n"
    b'{"model":"auto","max_tokens":1e999,"x":1}',
    b"POST /v1/chat/completions HTTP/1.1\r\nHost: soak\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"GET / HTTP/1.1\r\nHost: soak\r\nX: " + b"a" * 20000 + b"\r\n\r\n",
    b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03 garbage, not HTTP\r\n\r\n",
    b"POST /v1/chat/completions HTTP/1.1\r\nHost: soak\r\nContent-Length: 20\r\n\r\n"
    b'{"model":"auto","me',  # a body that never ends: the client gives up
)


def malformed(port, _model):
    """A bad request: any 4xx/5xx reply or a close is fine; the gateway must survive it."""
    raw = random.choice(MALFORMED)
    s = socket.create_connection(("127.0.0.1", port), timeout=2.0)
    try:
        s.sendall(raw)
        try:
            got = s.recv(64)
        except socket.timeout:
            got = b"(no reply yet)"
        return not got.startswith(b"HTTP/1.1 2"), got[:40]
    finally:
        s.close()


def models_list(port, _model):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=CLIENT_TIMEOUT_S)
    try:
        conn.request("GET", "/v1/models")
        resp = conn.getresponse()
        resp.read()
        return resp.status == 200, "status %d" % resp.status
    finally:
        conn.close()


# (name, function, model, weight, well_formed)
KINDS = (
    ("whole", whole, "phi-4-mini", 20, True),
    ("stream", stream, "gpt-oss-20b", 20, True),
    ("auto_whole", whole, "auto", 15, True),
    ("auto_stream", stream, "auto", 15, True),
    ("abort", abort_mid_stream, "auto", 10, True),
    ("malformed", malformed, None, 10, False),
    ("models", models_list, None, 10, True),
)


def worker(port, stop, counters, seed):
    rng = random.Random(seed)
    weights = [k[3] for k in KINDS]
    while not stop.is_set():
        name, fn, model, _, _ = rng.choices(KINDS, weights)[0]
        try:
            ok, detail = fn(port, model)
        except (OSError, http.client.HTTPException) as e:
            ok, detail = name == "malformed", repr(e)
        counters.record(name, ok, detail)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("seconds", type=float, nargs="?", default=120.0)
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--build-dir", default=harness.BUILD_DIR)
    args = ap.parse_args()
    gateway_bin = os.path.join(args.build_dir, "hybrid-gateway")
    sim_bin = os.path.join(args.build_dir, "llm-sim")
    work = tempfile.mkdtemp(prefix="gw-soak-")

    sim_log = open(os.path.join(work, "sim.log"), "w+")
    sim_argv = [sim_bin, "--listen", "127.0.0.1:0", "--threads", "1"]
    for m in SIM_MODELS:
        sim_argv += ["--model", m]
    sim = subprocess.Popen(sim_argv, stdout=sim_log, stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL, start_new_session=True)
    gw = None
    try:
        sim_port = wait_for(sim_log, lambda l: int(l.rsplit(":", 1)[1]) if "listening on" in l
                            else None)
        config_path = os.path.join(work, "gateway.yaml")
        configs = [harness.config_yaml(sim_port, server={"threads": 2}),
                   harness.config_yaml(sim_port, server={"threads": 2},
                                       cors={"allow_origins": ["http://soak.example"]},
                                       routing={"stream": {"hold_tokens": 8}})]
        with open(config_path, "w") as f:
            f.write(configs[0])
        gw_out = open(os.path.join(work, "gateway.log"), "w+")
        gw_err = open(os.path.join(work, "gateway.err"), "w+")
        gw = subprocess.Popen([gateway_bin, "--config", config_path], stdout=gw_out, stderr=gw_err,
                              stdin=subprocess.DEVNULL, start_new_session=True)
        port = wait_for(gw_out, listening_port)

        stop = threading.Event()
        counters = Counters()
        threads = [threading.Thread(target=worker, args=(port, stop, counters, i), daemon=True)
                   for i in range(args.workers)]
        for t in threads:
            t.start()
        started = time.monotonic()
        time.sleep(min(WARMUP_S, args.seconds / 4))
        before = proc_figures(gw.pid)
        reloads = 0
        while time.monotonic() - started < args.seconds and gw.poll() is None:
            time.sleep(RELOAD_EVERY_S)
            # Every fifth reload is an invalid file: rejected, the previous config stays.
            text = configs[reloads % 2] if reloads % 5 != 4 else "server: [not, a, map"
            with open(config_path, "w") as f:
                f.write(text)
            if gw.poll() is None:
                os.kill(gw.pid, signal.SIGHUP)
                reloads += 1
        with open(config_path, "w") as f:  # leave a valid file behind
            f.write(configs[0])
        peak = proc_figures(gw.pid) if gw.poll() is None else (0, 0)
        load_s = time.monotonic() - started
        stop.set()
        for t in threads:
            t.join(timeout=CLIENT_TIMEOUT_S + 5)
        time.sleep(SETTLE_S)
        alive = gw.poll() is None
        after = proc_figures(gw.pid) if alive else (0, 0)
        return report(args, work, gw, gw_err, counters, before, peak, after, alive, reloads,
                      load_s)
    finally:
        for p in (gw, sim):
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()


def listening_port(line):
    try:
        ev = json.loads(line)
    except ValueError:
        return None
    if isinstance(ev, dict) and ev.get("event") == "listening":
        return int(ev["listen"].rsplit(":", 1)[1])
    return None


def wait_for(log, parse, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log.seek(0)
        for line in log:
            value = parse(line.strip())
            if value is not None:
                return value
        time.sleep(0.05)
    log.seek(0)
    raise RuntimeError("did not start: " + log.read()[-2000:])


def gateway_log_counts(path):
    """Counts of the gateway's log lines: requests by status, other events by name."""
    counts = {}
    with open(path, errors="replace") as f:
        for line in f:
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if not isinstance(ev, dict):
                continue
            key = "status_%s" % ev.get("status") if ev.get("event") == "request" else ev.get("event")
            counts[key] = counts.get(key, 0) + 1
    return counts


def report(args, work, gw, gw_err, counters, before, peak, after, alive, reloads, elapsed):
    total = sum(counters.done.values())
    errors = sum(counters.errors.values())
    well_formed = sum(v for k, v in counters.done.items() if k != "malformed")
    wf_errors = sum(v for k, v in counters.errors.items() if k != "malformed")
    print("soak: %.0f s, %d workers, %d requests (%.0f/s), %d errors, %d SIGHUP reloads" % (
        elapsed, args.workers, total, total / max(elapsed, 1e-9), errors, reloads))
    for name, *_ in KINDS:
        print("  %-12s %7d done %5d errors" % (name, counters.done.get(name, 0),
                                              counters.errors.get(name, 0)))
    for e in counters.examples:
        print("  e.g. " + e)
    print("gateway RSS: %.1f MB after warm-up, %.1f MB at the end of the load, %.1f MB after" % (
        before[0] / 1024, peak[0] / 1024, after[0] / 1024))
    print("gateway fds: %d after warm-up, %d at the end of the load, %d after" % (
        before[1], peak[1], after[1]))
    log_counts = gateway_log_counts(os.path.join(work, "gateway.log"))
    print("gateway log: " + ", ".join("%s %d" % kv for kv in sorted(log_counts.items())))
    print("logs: " + work)

    failures = []
    # A session that ended by an exception is a bug whatever the request was (issue 9, item 8).
    if log_counts.get("session_failed"):
        failures.append("%d session_failed events in the log" % log_counts["session_failed"])
    gw_err.seek(0)
    san = harness.sanitizer_report(gw_err.read())
    if san:
        failures.append("sanitizer report:\n" + san)
    if not alive:
        failures.append("the gateway died (exit %s)" % gw.returncode)
    else:
        growth_mb = (max(peak[0], after[0]) - before[0]) / 1024
        if growth_mb > RSS_GROWTH_LIMIT_MB:
            failures.append("RSS grew by %.1f MB (limit %d MB)" % (growth_mb, RSS_GROWTH_LIMIT_MB))
        if after[1] > before[1] + FD_SLACK:
            failures.append("fds: %d after the load vs %d before (slack %d)" % (
                after[1], before[1], FD_SLACK))
    if well_formed and wf_errors / well_formed > ERROR_RATE_LIMIT:
        failures.append("%d of %d well-formed requests failed (limit %.0f%%)" % (
            wf_errors, well_formed, ERROR_RATE_LIMIT * 100))
    if well_formed == 0:
        failures.append("no request completed")
    for f in failures:
        print("soak: FAIL: " + f)
    if not failures:
        print("soak: PASS")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
