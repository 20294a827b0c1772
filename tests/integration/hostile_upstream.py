"""A misbehaving OpenAI-compatible upstream for integration tests (Python 3 stdlib, raw sockets).

Each request's behaviour is chosen by a marker in its body, so one server serves every test and
the gateway's pooled connections to it are exercised across tests:

    [hostile:NAME]  or  [hostile:NAME=ARG]

Without a marker the answer is a normal chat completion whose content is "echo:" followed by
the request's last user message, so a test can tell its own answer from anybody else's.

    with HostileUpstream() as up:
        up.url            # http://127.0.0.1:PORT/v1
        up.connections    # TCP connections accepted so far
        up.requests       # [(headers: {lower name: value}, body bytes)]
"""

import json
import re
import socket
import threading
import time

MARKER = re.compile(rb"\[hostile:([a-z0-9_]+)(?:=([^\]]*))?\]")
# Bounded: a scripted endless stream stops by itself after this long.
ENDLESS_SECONDS = 20.0


def completion(content, model="hostile", finish="stop"):
    return {
        "id": "chatcmpl-hostile",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                     "finish_reason": finish}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
    }


def chunk(delta, finish=None):
    return {
        "id": "chatcmpl-hostile",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "hostile",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def response(status, body, content_type="application/json", reason=None, extra=""):
    if not isinstance(body, bytes):
        body = json.dumps(body).encode()
    head = "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s\r\n" % (
        status, reason or "OK", content_type, len(body), extra)
    return head.encode() + body


def last_user_text(body):
    try:
        req = json.loads(body)
        for m in reversed(req.get("messages") or []):
            if m.get("role") == "user" and isinstance(m.get("content"), str):
                return m["content"]
    except (ValueError, AttributeError):
        pass
    return ""


class HostileUpstream:
    def __init__(self, obedient_models=("large",)):
        # Requests for these upstream model names ignore markers: an escalation target that
        # answers normally although it gets the same messages as the misbehaving draft.
        self.obedient_models = set(obedient_models)
        self.idle_closed = 0  # connections the gateway closed while they waited for a request
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.url = "http://127.0.0.1:%d/v1" % self.port
        self.connections = 0
        self.requests = []
        self.closed_streams = 0  # scripted streams that ended because the gateway hung up
        self._lock = threading.Lock()
        self._stop = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ plumbing

    def _accept(self):
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _read_request(self, conn, buf):
        while b"\r\n\r\n" not in buf:
            data = conn.recv(65536)
            if not data:
                return None, buf
            buf += data
        head, _, rest = buf.partition(b"\r\n\r\n")
        headers = {}
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            headers[k.strip().lower().decode()] = v.strip().decode("latin-1")
        n = int(headers.get("content-length", "0"))
        while len(rest) < n:
            data = conn.recv(65536)
            if not data:
                return None, b""
            rest += data
        return (headers, rest[:n]), rest[n:]

    def _serve(self, conn):
        buf = b""
        try:
            while not self._stop:
                req, buf = self._read_request(conn, buf)
                if req is None:
                    with self._lock:
                        self.idle_closed += 1
                    return
                with self._lock:
                    self.requests.append(req)
                headers, body = req
                m = MARKER.search(body)
                try:
                    if json.loads(body).get("model") in self.obedient_models:
                        m = None
                except ValueError:
                    pass
                name = m.group(1).decode() if m else "normal"
                arg = m.group(2).decode() if m and m.group(2) else ""
                keep = getattr(self, "do_" + name)(conn, headers, body, arg)
                if not keep:
                    return
        except (ConnectionError, BrokenPipeError, socket.timeout, OSError):
            with self._lock:
                self.closed_streams += 1
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def close(self):
        self._stop = True
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------------ behaviours
    # Each returns True when the connection stays open for the next request.

    def do_normal(self, conn, headers, body, arg):
        text = "echo:" + last_user_text(body)
        if json.loads(body).get("stream"):
            self._sse_head(conn)
            self._sse(conn, chunk({"role": "assistant", "content": text}))
            self._sse(conn, chunk({}, "stop"))
            self._chunked(conn, b"data: [DONE]\n\n")
            self._chunked(conn, b"")
            return True
        conn.sendall(response(200, completion(text)))
        return True

    def do_interim(self, conn, headers, body, arg):
        """100 Continue and 103 Early Hints (with a Link header) before the real answer."""
        conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        conn.sendall(b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n")
        return self.do_normal(conn, headers, body, arg)

    def do_interim_many(self, conn, headers, body, arg):
        """An endless run of 103s: no final answer ever comes."""
        for _ in range(int(arg or 1000)):
            conn.sendall(b"HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n")
        return self.do_normal(conn, headers, body, arg)

    def do_surplus(self, conn, headers, body, arg):
        """A complete answer, then a whole second answer nobody asked for, in the same write."""
        leak = response(200, completion("LEAKED-SURPLUS"))
        conn.sendall(response(200, completion("echo:" + last_user_text(body))) + leak)
        return True

    def do_surplus_late(self, conn, headers, body, arg):
        """A complete answer, then (a moment later, a separate segment) a second answer."""
        conn.sendall(response(200, completion("echo:" + last_user_text(body))))
        time.sleep(0.05)
        conn.sendall(response(200, completion("LEAKED-LATE")))
        return True

    def do_overlong(self, conn, headers, body, arg):
        """A body longer than its Content-Length: the extra bytes are a second response."""
        good = json.dumps(completion("echo:" + last_user_text(body))).encode()
        leak = response(200, completion("LEAKED-OVERLONG"))
        head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(good)
        conn.sendall(head.encode() + good + leak)
        return True

    def do_nested_error(self, conn, headers, body, arg):
        depth = int(arg or 60000)
        nested = b'{"error":{"message":' + b"[" * depth + b"]" * depth + b',"type":"deep"}}'
        conn.sendall(response(500, nested, reason="Internal Server Error"))
        return True

    def do_status(self, conn, headers, body, arg):
        """An odd status line with a JSON completion body (e.g. 304 or 999)."""
        code = int(arg)
        payload = json.dumps(completion("ODD-STATUS-BODY")).encode()
        head = "HTTP/1.1 %d Odd\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (
            code, len(payload))
        conn.sendall(head.encode() + payload)
        return True

    def do_echo_auth(self, conn, headers, body, arg):
        """An error that quotes the request's Authorization header (as some providers do)."""
        auth = headers.get("authorization", "")
        key = auth.split(" ", 1)[1] if " " in auth else auth
        err = {"error": {"message": "Incorrect API key provided: %s. Header was %r" % (key, auth),
                         "type": "invalid_request_error", "param": key, "code": "invalid_api_key"}}
        conn.sendall(response(401, err, reason="Unauthorized"))
        return True

    def do_echo_auth_hint(self, conn, headers, body, arg):
        """A 429 whose rate-limit hint header quotes the request's key."""
        auth = headers.get("authorization", "")
        key = auth.split(" ", 1)[1] if " " in auth else auth
        err = {"error": {"message": "slow down", "type": "rate_limit_error", "code": "rate_limited"}}
        conn.sendall(response(429, err, reason="Too Many Requests",
                              extra="x-ratelimit-key: %s\r\nx-ratelimit-remaining-requests: 0\r\n" % key))
        return True

    def do_echo_auth_page(self, conn, headers, body, arg):
        """A plain-text error page that quotes the Authorization header with the key starting
        ARG bytes in: where the gateway cuts an unparsed error body short, the key straddles
        the cut."""
        auth = headers.get("authorization", "")
        key = auth.split(" ", 1)[1] if " " in auth else auth
        page = ("x" * int(arg or 0) + key + " was rejected").encode()
        conn.sendall(response(401, page, content_type="text/plain", reason="Unauthorized"))
        return True

    def do_big_draft(self, conn, headers, body, arg):
        """A non-stream completion of ARG MiB, built on the fly: a quarter text, the rest the
        per-token logprobs a model sends when asked (many small JSON values)."""
        size = int(float(arg or 12) * 1024 * 1024)
        text_size = size // 4
        entry = b'{"token":"word ","logprob":-0.125,"bytes":[119,111,114,100,32],"top_logprobs":[]}'
        entries = max(1, (size - text_size) // (len(entry) + 1))
        prefix = (b'{"id":"x","object":"chat.completion","created":0,"model":"hostile","choices":[{"index":0,'
                  b'"message":{"role":"assistant","content":"')
        middle = b'"},"finish_reason":"stop","logprobs":{"content":['
        suffix = b']}}],"usage":{"prompt_tokens":3,"completion_tokens":%d}}' % entries
        total = len(prefix) + text_size + len(middle) + entries * (len(entry) + 1) - 1 + len(suffix)
        head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % total
        conn.sendall(head.encode() + prefix)
        piece = b"word " * 13107  # 64 KiB
        sent = 0
        while sent < text_size:
            n = min(len(piece), text_size - sent)
            conn.sendall(piece[:n])
            sent += n
        conn.sendall(middle)
        batch = 800
        for i in range(0, entries, batch):
            n = min(batch, entries - i)
            conn.sendall((b"," if i else b"") + b",".join([entry] * n))
        conn.sendall(suffix)
        return True

    # -- streams

    def _sse_head(self, conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n")

    def _chunked(self, conn, data):
        conn.sendall(b"%x\r\n" % len(data) + data + b"\r\n")

    def _sse(self, conn, obj):
        self._chunked(conn, b"data: " + json.dumps(obj).encode() + b"\n\n")

    def _endless(self, conn, event, interval):
        t0 = time.monotonic()
        while time.monotonic() - t0 < ENDLESS_SECONDS:
            self._chunked(conn, event)
            time.sleep(interval)
        return False

    def do_sse_comments(self, conn, headers, body, arg):
        """A stream of SSE comments (and empty events) that never carries a token."""
        self._sse_head(conn)
        return self._endless(conn, b": keep-alive " + b"x" * 1000 + b"\n\n", float(arg or 0.001))

    def do_sse_empty(self, conn, headers, body, arg):
        """Deltas with no content (empty, then reasoning only), forever."""
        self._sse_head(conn)
        self._sse(conn, chunk({"role": "assistant"}))
        ev = b"data: " + json.dumps(chunk({"reasoning_content": "hmm " * 200})).encode() + b"\n\n"
        return self._endless(conn, ev, float(arg or 0.001))

    def do_trickle(self, conn, headers, body, arg):
        """A non-stream answer one byte every ARG seconds (default 0.1): never done in time."""
        interval = float(arg or 0.1)
        payload = json.dumps(completion("x" * 4000)).encode()
        head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(payload)
        conn.sendall(head.encode())
        t0 = time.monotonic()
        for b in payload:
            if time.monotonic() - t0 > ENDLESS_SECONDS:
                return False
            conn.sendall(bytes([b]))
            time.sleep(interval)
        return True

    def do_trickle_stream(self, conn, headers, body, arg):
        """A stream with one content token every ARG seconds (default 0.1), for ever."""
        self._sse_head(conn)
        interval = float(arg or 0.1)
        t0 = time.monotonic()
        while time.monotonic() - t0 < ENDLESS_SECONDS:
            self._sse(conn, chunk({"content": "tok "}))
            time.sleep(interval)
        return False

    def do_tool_flood(self, conn, headers, body, arg):
        """A stream that starts as a plain answer (30 text tokens), then sends one tool call
        whose arguments run to ARG MiB in 4 KiB deltas, then finish_reason tool_calls."""
        size = int(float(arg or 60) * 1024 * 1024)
        self._sse_head(conn)
        for _ in range(30):
            self._sse(conn, chunk({"content": "word "}))
        call = {"index": 0, "id": "call_1", "type": "function",
                "function": {"name": "flood", "arguments": ""}}
        self._sse(conn, chunk({"tool_calls": [call]}))
        piece = {"tool_calls": [{"index": 0, "function": {"arguments": "a" * 4096}}]}
        event = b"data: " + json.dumps(chunk(piece)).encode() + b"\n\n"
        for _ in range(size // 4096):
            self._chunked(conn, event)
        self._sse(conn, chunk({}, "tool_calls"))
        self._chunked(conn, b"data: [DONE]\n\n")
        self._chunked(conn, b"")
        return True

    def do_big_event(self, conn, headers, body, arg):
        """One SSE event of ARG MiB (a single data line), written 2 KiB at a time, then [DONE]."""
        size = int(float(arg or 3) * 1024 * 1024)
        self._sse_head(conn)
        prefix = b'data: {"id":"x","object":"chat.completion.chunk","model":"hostile","choices":[{"index":0,"delta":{"content":"'
        suffix = b'"},"finish_reason":null}]}\n\n'
        self._chunked(conn, prefix)
        piece = b"y" * 2048
        sent = 0
        while sent < size:
            n = min(len(piece), size - sent)
            self._chunked(conn, piece[:n])
            sent += n
        self._chunked(conn, suffix)
        self._sse(conn, chunk({}, "stop"))
        self._chunked(conn, b"data: [DONE]\n\n")
        self._chunked(conn, b"")
        return True
