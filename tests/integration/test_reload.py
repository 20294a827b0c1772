"""SIGHUP reload off the I/O threads: a reload that is slow to read its file does not hold up
requests on a one-thread gateway; SIGHUPs during a reload coalesce (the latest file wins, none is
lost, none runs alongside another); a stop during a reload waits for it and drops its result.

A reload is made to last exactly as long as the test wants: the config path is swapped for a
named pipe, so the reload's read of the file blocks until the test writes the new config into it.
Every assertion is an order of events, never a duration.
"""

import errno
import json
import os
import signal
import time
import unittest

from harness import Gateway, ModuleSim, chat, config_yaml, metric_value, request

CHAT = "/v1/chat/completions"
SIM = ModuleSim(["phi-4-mini", "gpt-oss-20b"])
setUpModule, tearDownModule = SIM.start, SIM.stop


def with_extra_model(name):
    return config_yaml(SIM.port, models={name: {"upstream": SIM.url, "upstream_model": "gpt-oss-20b"}})


class ConfigPipe:
    """The gateway's config path replaced by a named pipe: a reload opening it blocks there."""

    def __init__(self, path):
        os.unlink(path)
        os.mkfifo(path)
        self.path = path

    def wait_reader(self, timeout=5.0):
        """Waits until a reload holds the pipe open for reading (it blocks there until feed);
        returns the write end. A writer's non-blocking open fails with ENXIO while no one reads."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as e:
                if e.errno != errno.ENXIO or time.monotonic() > deadline:
                    raise AssertionError("no reload opened the config file") from e
                time.sleep(0.01)

    @staticmethod
    def feed(fd, text):
        os.set_blocking(fd, True)
        data = text.encode()
        while data:
            data = data[os.write(fd, data):]
        os.close(fd)

    def release(self):
        """A reader left waiting (a failed test) reads an empty file and fails: the gateway can stop."""
        try:
            os.close(os.open(self.path, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass


def wait_count(gw, name, count, timeout=5.0):
    """Waits until the log holds `count` events called `name`; returns whether it did."""
    deadline = time.monotonic() + timeout
    while len(gw.events(name)) < count:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def event_names(gw, start, names):
    return [ev["event"] for ev in gw.events()[start:] if ev.get("event") in names]


def model_ids(gw):
    status, _, body = request(gw.port, "GET", "/v1/models")
    assert status == 200, body
    return [m["id"] for m in json.loads(body)["data"]]


class ReloadOffIoThreadTest(unittest.TestCase):
    def test_requests_are_answered_while_a_reload_reads_its_file(self):
        # threads: 1 (the harness default): the I/O thread that takes the signal serves every client.
        with Gateway(config_yaml(SIM.port)) as gw:
            pipe = ConfigPipe(gw.config_path)
            try:
                mark = len(gw.events())
                gw.signal(signal.SIGHUP)
                fd = pipe.wait_reader()
                # The reload is under way (blocked reading the file) and is not done before feed():
                # the only I/O thread answers meanwhile, the API and the admin listener alike.
                status, _, body = request(gw.port, "POST", CHAT, body=chat("phi-4-mini", "during"),
                                          headers={"x-request-id": "during-reload"}, timeout=5)
                self.assertEqual(status, 200, body)
                status, _, _ = request(gw.admin_port, "GET", "/healthz", timeout=5)
                self.assertEqual(status, 200)
                self.assertNotIn("reloaded", event_names(gw, mark, {"reloaded"}))
                ConfigPipe.feed(fd, with_extra_model("gpt-extra"))
                self.assertIsNotNone(gw.wait_event("reloaded", timeout=5), gw.output()[-3000:])
                # In the log, the request answered during the reload comes before `reloaded`.
                evs = gw.events()[mark:]
                answered = next(i for i, ev in enumerate(evs) if ev.get("id") == "during-reload")
                reloaded = next(i for i, ev in enumerate(evs) if ev.get("event") == "reloaded")
                self.assertLess(answered, reloaded, evs)
                self.assertIn("gpt-extra", model_ids(gw))
            finally:
                pipe.release()

    def test_sighups_during_a_reload_coalesce_and_the_latest_file_wins(self):
        with Gateway(config_yaml(SIM.port)) as gw:
            pipe = ConfigPipe(gw.config_path)
            try:
                mark = len(gw.events())
                line_mark = gw.mark()
                gw.signal(signal.SIGHUP)
                fd = pipe.wait_reader()
                gw.signal(signal.SIGHUP)
                self.assertIsNotNone(gw.wait_event(
                    "reload_queued", start=line_mark, predicate=lambda ev: ev["coalesced"] is False),
                    gw.output()[-3000:])
                gw.signal(signal.SIGHUP)
                self.assertIsNotNone(gw.wait_event(
                    "reload_queued", start=line_mark, predicate=lambda ev: ev["coalesced"] is True),
                    gw.output()[-3000:])
                ConfigPipe.feed(fd, with_extra_model("extra-a"))
                self.assertTrue(wait_count(gw, "reloaded", 1), gw.output()[-3000:])
                # The two queued SIGHUPs make one more reload, which reads the file as it is now.
                fd = pipe.wait_reader()
                ConfigPipe.feed(fd, with_extra_model("extra-b"))
                self.assertTrue(wait_count(gw, "reloaded", 2), gw.output()[-3000:])
                ids = model_ids(gw)
                self.assertIn("extra-b", ids)
                self.assertNotIn("extra-a", ids)
                # A regular file again and one more SIGHUP: reloads run in order, so a third
                # reload left over from the three SIGHUPs would block on the pipe before this one.
                os.unlink(gw.config_path)
                with open(gw.config_path, "w") as f:
                    f.write(with_extra_model("extra-c"))
                gw.signal(signal.SIGHUP)
                self.assertTrue(wait_count(gw, "reloaded", 3), gw.output()[-3000:])
                self.assertEqual(event_names(gw, mark, {"reload_started", "reloaded"}),
                                 ["reload_started", "reloaded"] * 3)
                self.assertIn("extra-c", model_ids(gw))
                n = metric_value(gw.metrics(), "gateway_config_reloads_total", {"result": "success"})
                self.assertEqual(n, 3)
            finally:
                pipe.release()

    def test_stop_during_a_reload_waits_for_it_and_drops_its_result(self):
        with Gateway(config_yaml(SIM.port)) as gw:
            pipe = ConfigPipe(gw.config_path)
            try:
                mark = len(gw.events())
                gw.signal(signal.SIGHUP)
                fd = pipe.wait_reader()
                gw.signal(signal.SIGTERM)
                self.assertIsNotNone(gw.wait_event("reload_wait"), gw.output()[-3000:])
                self.assertTrue(gw.alive(), "exited while its reload thread still ran")
                ConfigPipe.feed(fd, with_extra_model("too-late"))
                self.assertEqual(gw.wait(timeout=10), 0, gw.output()[-3000:])
                names = event_names(gw, mark, {"reload_started", "reload_wait", "reload_abandoned",
                                               "reloaded", "stopped"})
                self.assertEqual(names, ["reload_started", "reload_wait", "reload_abandoned",
                                         "stopped"])
            finally:
                pipe.release()


if __name__ == "__main__":
    unittest.main()
