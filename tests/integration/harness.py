"""The Python test harness: real llm-sim and hybrid-gateway processes on loopback.

Python 3 stdlib only. The binaries come from $GW_BUILD_DIR (default: <repo>/build). The one
harness module for every Python suite: tests/integration imports it directly, tests/observability
(obs_harness.py), bench/ and scripts/soak.py through sys.path.

    with Sim(["phi-4-mini", "gpt-oss-20b"]) as sim, Gateway(config_yaml(sim.port)) as gw:
        status, headers, body = request(gw.port, "GET", "/v1/models")

A test module shares one simulator among its classes, each class one gateway:

    SIM = ModuleSim(["phi-4-mini", "gpt-oss-20b"])
    setUpModule, tearDownModule = SIM.start, SIM.stop

    class MyTest(GatewayCase):
        @classmethod
        def config(cls):
            return config_yaml(SIM.port)
"""

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BUILD_DIR = os.environ.get("GW_BUILD_DIR") or os.path.join(REPO, "build")
GATEWAY_BIN = os.path.join(BUILD_DIR, "hybrid-gateway")
SIM_BIN = os.path.join(BUILD_DIR, "llm-sim")

DEFAULT_TIMEOUT = 5.0

# Sanitized builds (scripts/test-sanitized.sh): a report on a server's stderr fails the test that
# ran it, even when the server then exited by SIGTERM as asked (nobody looks at that exit code).
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "WARNING: ThreadSanitizer")


def sanitizer_report(text):
    """The lines of a sanitizer report in `text` (at most 40), or None when there is none."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if any(m in line for m in SANITIZER_MARKERS):
            return "\n".join(lines[i:i + 40])
    return None


def _fail_on_sanitizer_report(process, name):
    report = sanitizer_report("\n".join(process.stderr_lines))
    if report:
        raise AssertionError("%s: sanitizer report on stderr:\n%s" % (name, report))


# --------------------------------------------------------------------------- processes


class Process:
    """A child process whose stdout and stderr are collected line by line in background threads."""

    def __init__(self, argv, env=None, cwd=None):
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        self.argv = argv
        self.lines = []  # every stdout line, in order
        self.stderr_lines = []
        self._cond = threading.Condition()
        self._eof = False
        self.proc = subprocess.Popen(
            argv,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=full_env,
            start_new_session=True,  # our signals go to this process only
        )
        self._threads = [
            threading.Thread(target=self._pump, args=(self.proc.stdout, self.lines, True), daemon=True),
            threading.Thread(target=self._pump, args=(self.proc.stderr, self.stderr_lines, False), daemon=True),
        ]
        for t in self._threads:
            t.start()

    def _pump(self, pipe, sink, is_stdout):
        for raw in iter(pipe.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self._cond:
                sink.append(line)
                self._cond.notify_all()
        with self._cond:
            if is_stdout:
                self._eof = True
            self._cond.notify_all()

    def wait_line(self, predicate, timeout=DEFAULT_TIMEOUT, start=0):
        """The first stdout line (from index `start`) satisfying predicate, or None on timeout/EOF."""
        deadline = time.monotonic() + timeout
        with self._cond:
            i = start
            while True:
                while i < len(self.lines):
                    if predicate(self.lines[i]):
                        return self.lines[i]
                    i += 1
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._eof:
                    return None
                self._cond.wait(remaining)

    @property
    def pid(self):
        return self.proc.pid

    def output(self):
        with self._cond:
            return "\n".join(self.lines) + "\n--- stderr ---\n" + "\n".join(self.stderr_lines)

    def exit_code(self, wait_s=0.0):
        """The exit code once the process has exited (waiting up to `wait_s`), else None."""
        try:
            return self.proc.wait(timeout=wait_s)
        except subprocess.TimeoutExpired:
            return None

    def terminate(self, grace=3.0):
        """SIGTERM, then SIGKILL after `grace` seconds. Returns the exit code."""
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.kill()
        code = self.proc.wait(timeout=grace)
        self._close_pipes()
        return code

    def _close_pipes(self):
        for t in self._threads:
            t.join(timeout=1)
        for pipe in (self.proc.stdout, self.proc.stderr):
            try:
                pipe.close()
            except OSError:
                pass

    def kill(self):
        if self.proc.poll() is None:
            try:
                self.proc.kill()
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=5)
        self._close_pipes()

    def alive(self):
        return self.proc.poll() is None

    stop = terminate


class Sim:
    """build/llm-sim on 127.0.0.1:<free port>."""

    def __init__(self, models=("phi-4-mini", "gpt-oss-20b"), threads=1, extra_args=()):
        argv = [SIM_BIN, "--listen", "127.0.0.1:0", "--threads", str(threads)]
        for spec in models:
            argv += ["--model", spec]
        argv += list(extra_args)
        self._p = Process(argv)
        line = self._p.wait_line(lambda l: "listening on" in l, timeout=5)
        if line is None:
            out = self._p.output()
            self._p.kill()
            raise RuntimeError("llm-sim did not start: " + out)
        self.port = int(line.rsplit(":", 1)[1])
        self.url = "http://127.0.0.1:%d/v1" % self.port

    @property
    def pid(self):
        return self._p.proc.pid

    def stats(self):
        status, _, body = request(self.port, "GET", "/sim/stats", timeout=3)
        assert status == 200, body
        return json.loads(body)

    def last_request(self):
        status, _, body = request(self.port, "GET", "/sim/last_request", timeout=3)
        assert status == 200, body
        return json.loads(body)

    def wait_stats(self, predicate, timeout=2.0):
        """Polls /sim/stats until predicate(stats) holds; returns the last stats seen."""
        deadline = time.monotonic() + timeout
        while True:
            s = self.stats()
            if predicate(s) or time.monotonic() > deadline:
                return s
            time.sleep(0.02)

    def close(self):
        self._p.terminate()
        _fail_on_sanitizer_report(self._p, "llm-sim")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Gateway:
    """build/hybrid-gateway --config <temp file holding yaml_text>."""

    def __init__(self, yaml_text, env=None, args=(), start_timeout=5.0):
        fd, self.config_path = tempfile.mkstemp(prefix="gw-it-", suffix=".yaml")
        with os.fdopen(fd, "w") as f:
            f.write(yaml_text)
        self._p = Process([GATEWAY_BIN, "--config", self.config_path] + list(args), env=env)
        line = self._p.wait_line(lambda l: _event_of(l) == "listening", timeout=start_timeout)
        if line is None:
            out = self._p.output()
            self._p.kill()
            os.unlink(self.config_path)
            raise RuntimeError("hybrid-gateway did not start: " + out)
        ev = json.loads(line)
        self.port = int(ev["listen"].rsplit(":", 1)[1])
        self.admin_port = int(ev["admin"].rsplit(":", 1)[1])

    @property
    def pid(self):
        return self._p.proc.pid

    @property
    def lines(self):
        return list(self._p.lines)

    def events(self, name=None):
        """Parsed JSON log lines (optionally only those with event == name)."""
        out = []
        for line in self.lines:
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if isinstance(ev, dict) and (name is None or ev.get("event") == name):
                out.append(ev)
        return out

    def wait_event(self, name, timeout=DEFAULT_TIMEOUT, start=0, predicate=None):
        def match(line):
            if _event_of(line) != name:
                return False
            return predicate is None or predicate(json.loads(line))

        line = self._p.wait_line(match, timeout=timeout, start=start)
        return json.loads(line) if line else None

    def mark(self):
        """The index of the next log line (to wait only for events after now)."""
        return len(self._p.lines)

    def output(self):
        return self._p.output()

    def reload(self, new_yaml):
        with open(self.config_path, "w") as f:
            f.write(new_yaml)
        os.kill(self.pid, signal.SIGHUP)

    def signal(self, sig):
        os.kill(self.pid, sig)

    def stop(self, timeout=10.0):
        """SIGTERM; returns the exit code (SIGKILL and raise if it does not exit in time)."""
        if self._p.proc.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
        try:
            return self._p.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._p.kill()
            raise AssertionError("gateway did not exit within %.1f s after SIGTERM" % timeout)

    def wait(self, timeout=10.0):
        """Waits for the process to exit by itself (no signal); returns the exit code."""
        try:
            return self._p.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._p.kill()
            raise AssertionError("gateway did not exit within %.1f s" % timeout)

    def alive(self):
        return self._p.alive()

    def exit_code(self, wait_s=0.0):
        """The exit code once the gateway has exited (waiting up to `wait_s`), else None."""
        return self._p.exit_code(wait_s)

    def metrics(self):
        status, _, body = request(self.admin_port, "GET", "/metrics", timeout=3)
        assert status == 200, body
        return body.decode()

    def close(self):
        try:
            self._p.terminate()
        finally:
            try:
                os.unlink(self.config_path)
            except OSError:
                pass
        _fail_on_sanitizer_report(self._p, "hybrid-gateway")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class ModuleSim:
    """One llm-sim shared by every test class of a module, started by setUpModule:

        SIM = ModuleSim([DRAFT, LARGE], threads=2)
        setUpModule, tearDownModule = SIM.start, SIM.stop

    Its attributes (port, url, stats(), last_request(), ...) are those of the running Sim."""

    def __init__(self, models=("phi-4-mini", "gpt-oss-20b"), threads=1, extra_args=()):
        self._args = (list(models), threads, tuple(extra_args))
        self._sim = None

    def start(self):
        self._sim = Sim(*self._args)

    def stop(self):
        sim, self._sim = self._sim, None
        if sim is not None:
            sim.close()

    def __getattr__(self, name):
        sim = self.__dict__.get("_sim")
        if sim is None:
            raise AttributeError("llm-sim not started (setUpModule = SIM.start): " + name)
        return getattr(sim, name)


class GatewayCase(unittest.TestCase):
    """A test class with one gateway (class-wide) built from `config()` with `env`.

    A gateway that died during a test fails that test, with its last output, and a fresh one
    serves the tests after it."""

    env = None

    @classmethod
    def config(cls):
        raise NotImplementedError("%s: a GatewayCase defines config()" % cls.__name__)

    @classmethod
    def setUpClass(cls):
        cls.gw = Gateway(cls.config(), env=cls.env)

    @classmethod
    def tearDownClass(cls):
        cls.gw.close()

    def tearDown(self):
        # A crash is a bug of its own: name the test that caused it. A crash at the very end of a
        # test is not yet visible to poll(), hence the short wait.
        code = self.gw.exit_code(wait_s=0.05)
        if code is None:
            return
        out = self.gw.output()[-3000:]
        try:
            self.gw.close()
        finally:
            type(self).gw = Gateway(self.config(), env=self.env)
        self.fail("the gateway died (exit %s) during this test:\n%s" % (code, out))


def _event_of(line):
    if not line.startswith("{"):
        return None
    try:
        ev = json.loads(line)
    except ValueError:
        return None
    return ev.get("event") if isinstance(ev, dict) else None


def run_check_config(yaml_text, timeout=10.0):
    """`hybrid-gateway --check-config FILE`: (exit code, stdout+stderr text, file path)."""
    fd, path = tempfile.mkstemp(prefix="gw-check-", suffix=".yaml")
    with os.fdopen(fd, "w") as f:
        f.write(yaml_text)
    try:
        r = subprocess.run([GATEWAY_BIN, "--check-config", path], capture_output=True, timeout=timeout)
        report = sanitizer_report(r.stderr.decode("utf-8", "replace"))
        if report:
            raise AssertionError("hybrid-gateway --check-config: sanitizer report:\n" + report)
        return r.returncode, r.stdout.decode() + r.stderr.decode(), path
    finally:
        os.unlink(path)


def wait_metric(gw, name, labels, want, timeout=3.0):
    """The metric once it equals `want`, or its last value when the timeout passed. Metrics are
    recorded just after the answer is sent, so a scrape right after a response can race them."""
    deadline = time.monotonic() + timeout
    while True:
        value = metric_value(gw.metrics(), name, labels) or 0
        if value == want or time.monotonic() > deadline:
            return value
        time.sleep(0.02)


_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """{(name, frozenset(labels.items())): value} for every sample line of Prometheus text."""
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
    """The value of the sample with exactly these labels in parse_metrics() output, or None."""
    return metrics.get((name, frozenset(labels.items())))


def metric_value(text, name, labels=None):
    """Sum of the samples of `name` whose labels include `labels` (a dict). None if absent."""
    total = None
    for (metric, have), value in parse_metrics(text).items():
        if metric != name:
            continue
        have = dict(have)
        if labels and any(have.get(k) != v for k, v in labels.items()):
            continue
        total = (total or 0.0) + value
    return total


def free_port():
    """A loopback port with nothing listening on it (bound, then closed)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class FakeUpstream:
    """A scripted upstream for what llm-sim cannot send (e.g. non-JSON error bodies).

    Every request gets `status`, `content_type`, `body`; `requests` records (path, headers, body).
    """

    def __init__(self, status=500, body=b"<html>oops</html>", content_type="text/html"):
        import http.server

        outer = self
        self.status, self.body, self.content_type = status, body, content_type
        self.requests = []

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(n)
                outer.requests.append((self.path, dict(self.headers), data))
                body = outer.body if isinstance(outer.body, bytes) else outer.body.encode()
                self.send_response(outer.status)
                self.send_header("Content-Type", outer.content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d/v1" % self.port
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# --------------------------------------------------------------------------- HTTP client


def request(port, method, path, body=None, headers=None, timeout=DEFAULT_TIMEOUT, conn=None):
    """One HTTP/1.1 exchange -> (status, {lowercased header: value}, body bytes).

    `body` may be bytes, str or a JSON-able object (sent as application/json). Pass an open
    http.client.HTTPConnection as `conn` to reuse a keep-alive connection.
    """
    hdrs = dict(headers or {})
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
        hdrs.setdefault("Content-Type", "application/json")
    if isinstance(body, str):
        body = body.encode()
    own = conn is None
    if own:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, _lower_headers(resp), data
    finally:
        if own:
            conn.close()


def _lower_headers(resp):
    out = {}
    for k, v in resp.getheaders():
        k = k.lower()
        out[k] = out[k] + ", " + v if k in out else v
    return out


def chat(model, content="hello", stream=False, **extra):
    body = {"model": model, "messages": [{"role": "user", "content": content}]}
    if stream:
        body["stream"] = True
    body.update(extra)
    return body


class SSEStream:
    """A streaming POST whose SSE `data:` payloads are read as they arrive.

        s = SSEStream(port, body)
        for t, data in s.events():   # t: seconds since the request was sent
            ...
        s.close()                    # or disconnect mid-stream

    `status`/`headers` are set once the response head arrived. `raw` keeps every body byte.
    """

    def __init__(self, port, body, headers=None, timeout=DEFAULT_TIMEOUT, path="/v1/chat/completions"):
        hdrs = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        hdrs.update(headers or {})
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        if isinstance(data, str):
            data = data.encode()
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self.t0 = time.monotonic()
        self.conn.request("POST", path, body=data, headers=hdrs)
        self.resp = self.conn.getresponse()
        self.head_at = time.monotonic() - self.t0
        self.status = self.resp.status
        self.headers = _lower_headers(self.resp)
        self.raw = b""
        self.ended = False  # the body ended cleanly (terminating chunk / EOF)

    def events(self):
        """Yields (arrival seconds since the request, data payload str) per SSE event."""
        buf = b""
        while True:
            try:
                chunk = self.resp.read1(65536)
            except (http.client.IncompleteRead, ConnectionError) as e:
                # The peer cut the body: yield what is complete and stop.
                partial = getattr(e, "partial", b"") or b""
                self.raw += partial
                buf += partial
                chunk = b""
            now = time.monotonic() - self.t0
            if not chunk:
                for payload in _sse_payloads(buf.replace(b"\r\n", b"\n") + b"\n\n"):
                    yield now, payload
                self.ended = True
                return
            self.raw += chunk
            buf += chunk
            norm = buf.replace(b"\r\n", b"\n")
            cut = norm.rfind(b"\n\n")
            if cut < 0:
                continue
            complete, buf = norm[: cut + 2], norm[cut + 2:]
            for payload in _sse_payloads(complete):
                yield now, payload

    def collect(self):
        """Every (t, payload) until the stream ends."""
        return list(self.events())

    def close(self):
        try:
            sock = self.conn.sock
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.conn.close()


def _sse_payloads(block):
    for event in block.split(b"\n\n"):
        datas = [line[5:].lstrip(b" ") if line.startswith(b"data:") else None for line in event.split(b"\n")]
        datas = [d for d in datas if d is not None]
        if datas:
            yield b"\n".join(datas).decode("utf-8", "replace")


def stream_content(payloads):
    """Concatenated choices[0].delta.content of a list of SSE payload strings."""
    text = ""
    for p in payloads:
        if p == "[DONE]":
            continue
        obj = json.loads(p)
        for choice in obj.get("choices") or []:
            text += (choice.get("delta") or {}).get("content") or ""
    return text


# --------------------------------------------------------------------------- raw sockets


def raw_connect(port, timeout=DEFAULT_TIMEOUT):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_until_close(sock, timeout=DEFAULT_TIMEOUT, limit=1 << 20):
    """Reads until EOF (or reset) or timeout. Returns (bytes, closed: bool, seconds)."""
    t0 = time.monotonic()
    sock.settimeout(0.05)
    data = b""
    while time.monotonic() - t0 < timeout and len(data) < limit:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        except ConnectionError:
            return data, True, time.monotonic() - t0
        if not chunk:
            return data, True, time.monotonic() - t0
        data += chunk
    return data, False, time.monotonic() - t0


def status_of(raw):
    """The status code of a raw HTTP response (bytes), or None when there is none."""
    if not raw.startswith(b"HTTP/1."):
        return None
    try:
        return int(raw.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return None


# --------------------------------------------------------------------------- config


def _merge(base, over):
    """Deep merge `over` into a copy of `base`; a None value deletes the key."""
    out = dict(base)
    for k, v in over.items():
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def to_yaml(obj, indent=0):
    """Block YAML for mappings; scalars and lists as JSON (a YAML subset)."""
    pad = "  " * indent
    lines = []
    for k, v in obj.items():
        key = k if _plain_key(k) else json.dumps(k)
        if isinstance(v, dict) and v:
            lines.append("%s%s:" % (pad, key))
            lines.append(to_yaml(v, indent + 1))
        else:
            lines.append("%s%s: %s" % (pad, key, json.dumps(v)))
    return "\n".join(lines)


def _plain_key(k):
    return k and all(c.isalnum() or c in "-_." for c in k)


def config_dict(sim_port, gpt_port=None, **sections):
    """The two-model config (phi-4-mini, gpt-oss-20b -> the sim), with overrides per section.

    config_dict(port, server={"max_body_bytes": 1024}, cors={"allow_origins": ["*"]},
                models={"phi-4-mini": {"timeout_ms": 500}}, auth=None)
    """
    gpt_port = gpt_port or sim_port
    base = {
        "server": {
            "listen": "127.0.0.1:0",
            "admin_listen": "127.0.0.1:0",
            "threads": 1,
            "max_body_bytes": 1048576,
            "request_timeout_ms": 30000,
            "drain_timeout_ms": 5000,
        },
        "cors": {"allow_origins": ["*"]},
        "models": {
            "phi-4-mini": {
                "upstream": "http://127.0.0.1:%d/v1" % sim_port,
                "timeout_ms": 10000,
                "price": {"input_per_mtok": 0.10, "output_per_mtok": 0.40},
            },
            "gpt-oss-20b": {
                "upstream": "http://127.0.0.1:%d/v1" % gpt_port,
                "timeout_ms": 10000,
                "price": {"input_per_mtok": 0.50, "output_per_mtok": 2.00},
            },
        },
        "routing": {
            "model_alias": "auto",
            "draft": "phi-4-mini",
            "escalate": "gpt-oss-20b",
            "on_escalate": "replace",
            "stream": {"hold_tokens": 24},
            "fallback": True,
        },
    }
    return _merge(base, sections)


def config_yaml(sim_port, gpt_port=None, **sections):
    return to_yaml(config_dict(sim_port, gpt_port, **sections)) + "\n"
