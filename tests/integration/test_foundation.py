"""The daemon skeleton end to end: systemd readiness and watchdog over a real
NOTIFY_SOCKET, HTTP health, status and static files, reload with a broken and
a good file, a clean SIGTERM, and start-up errors."""

import json
import os
import re
import signal
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import SOURCE_ROOT, Daemon, run_daemon_once  # noqa: E402


def project_version():
    with open(os.path.join(SOURCE_ROOT, "meson.build")) as f:
        return re.search(r"version\s*:\s*'([^']+)'", f.read()).group(1)


class Running(unittest.TestCase):
    def test_ready_watchdog_http_reload_and_stop(self):
        with Daemon(extra_env={"WATCHDOG_USEC": "300000"}) as d:
            d.start()
            ready_at, ready = d.notify.wait_for("READY", "1")
            self.assertIn("listening on 127.0.0.1", ready.get("STATUS", ""))
            # Pings at half the interval: several arrive within a second.
            d.notify.wait_for("WATCHDOG", "1", after=ready_at, timeout=2)
            time.sleep(0.6)
            d.notify.poll()
            pings = sum(1 for m in d.notify.messages if m.get("WATCHDOG") == "1")
            self.assertGreaterEqual(pings, 3, d.notify.messages)

            status, headers, body = d.get("/health")
            self.assertEqual(status, 200)
            self.assertEqual(headers["content-type"], "application/json")
            self.assertEqual(json.loads(body), {"status": "ok", "capture": "up", "playback": "up"})

            status, headers, body = d.get("/")
            self.assertEqual(status, 200)
            self.assertTrue(headers["content-type"].startswith("text/html"))
            with open(os.path.join(SOURCE_ROOT, "web", "dist", "index.html"), "rb") as f:
                self.assertEqual(body, f.read())
            # Cross-origin isolation (SharedArrayBuffer for the web client's
            # audio path) on the pages and on the scripts and workers they start.
            for path in ("/", "/talk", "/clubvoice.js", "/room_worker.js"):
                status, headers, _ = d.get(path)
                self.assertEqual(status, 200, path)
                self.assertEqual(headers.get("cross-origin-opener-policy"), "same-origin", path)
                self.assertEqual(headers.get("cross-origin-embedder-policy"), "require-corp", path)

            status, _, body = d.get("/health", method="HEAD")
            self.assertEqual((status, body), (200, b""))
            self.assertEqual(d.get("/no/such/file.js")[0], 404)
            self.assertEqual(d.get("/../../etc/passwd")[0], 404)
            self.assertEqual(d.get("/health", method="DELETE")[0], 405)

            status, info = d.get_json("/status")
            self.assertEqual(status, 200)
            self.assertEqual(info["version"], project_version())
            self.assertGreater(info["uptime_s"], 0)

            # A broken file on SIGHUP is refused; the old configuration keeps serving.
            d.write_config("audio:\n  mode: loud\n")
            mark = len(d.notify.messages)
            d.signal(signal.SIGHUP)
            at, _ = d.notify.wait_for("RELOADING", "1", after=mark)
            _, after = d.notify.wait_for("READY", "1", after=at)
            self.assertIn("reload refused", after.get("STATUS", ""))
            self.assertEqual(d.get("/health")[0], 200)
            self.assertRegex(d.stderr(), r"error: reload refused.*clubvoice\.yaml:2: audio\.mode: "
                                         r"must be one of listen, half, full \(got \"loud\"\)")

            # A good file is applied: a new web root serves at once; a new port
            # only warns, because it needs a restart.
            other_root = os.path.join(d.dir.name, "web")
            os.mkdir(other_root)
            with open(os.path.join(other_root, "index.html"), "w") as f:
                f.write("second root")
            text = d.default_config(web_root=other_root).replace(str(d.port), str(d.port + 1))
            d.write_config(text)
            mark = len(d.notify.messages)
            d.signal(signal.SIGHUP)
            _, after = d.notify.wait_for("READY", "1", after=mark)
            self.assertIn("reloaded", after.get("STATUS", ""))
            self.assertEqual(d.get("/")[2], b"second root")
            self.assertIn("server.port: changed to", d.stderr())

            # SIGTERM with a client connection still open: exit 0 within a second.
            idle = socket.create_connection(("127.0.0.1", d.port))
            started = time.monotonic()
            self.assertEqual(d.stop(), 0)
            self.assertLess(time.monotonic() - started, 1.0)
            idle.settimeout(1)
            self.assertEqual(idle.recv(1), b"")  # the daemon closed it
            idle.close()
            d.notify.wait_for("STOPPING", "1")

    def test_runs_without_notify_socket(self):
        with Daemon(notify=False) as d:
            d.start(wait_ready=False)
            self.assertTrue(wait_for_health(d))
            self.assertEqual(d.stop(), 0)


def wait_for_health(d, timeout=5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return d.get("/health")[0] == 200
        except OSError:
            time.sleep(0.05)
    return False


class StartUp(unittest.TestCase):
    def test_version_and_help(self):
        rc, out, _, _ = run_daemon_once(["--version"])
        self.assertEqual((rc, out), (0, f"clubvoiced {project_version()}\n"))
        rc, out, _, _ = run_daemon_once(["--help"])
        self.assertEqual(rc, 0)
        self.assertIn("--check-config", out)
        rc, _, err, _ = run_daemon_once(["--bogus"])
        self.assertEqual(rc, 2)
        self.assertIn("unknown option --bogus", err)

    def test_check_config(self):
        rc, out, err, path = run_daemon_once(["-c", "{config}", "--check-config"])
        self.assertEqual((rc, out, err), (0, f"{path}: ok\n", ""))
        shipped = os.path.join(SOURCE_ROOT, "etc", "clubvoice.yaml")
        rc, out, err, _ = run_daemon_once(["-c", shipped, "--check-config"])
        self.assertEqual((rc, err), (0, ""))

    def test_bad_config_is_one_line_and_non_zero(self):
        rc, _, err, path = run_daemon_once(["-c", "{config}", "--check-config"],
                                           "server:\n  port: 99999\n")
        self.assertEqual(rc, 1)
        self.assertEqual(err, f"error: {path}:2: server.port: must be an integer from 1 to "
                              f"65535 (got \"99999\")\n")
        rc, _, err, path = run_daemon_once(["-c", "{config}"], "log:\n  level: loud\n")
        self.assertEqual(rc, 1)
        self.assertEqual(len(err.splitlines()), 1, err)
        self.assertIn(f"{path}:2: log.level: must be one of", err)

    def test_unknown_key_warns_and_starts(self):
        rc, out, err, path = run_daemon_once(["-c", "{config}", "--check-config"],
                                             "serverr:\n  port: 1\n")
        self.assertEqual(rc, 0)
        self.assertEqual(err, f"warning: {path}:1: serverr: unknown key, ignored\n")

    def test_missing_file(self):
        rc, _, err, _ = run_daemon_once(["-c", "/nonexistent/clubvoice.yaml"])
        self.assertEqual(rc, 1)
        self.assertEqual(err, "error: /nonexistent/clubvoice.yaml: cannot read: "
                              "No such file or directory\n")

    def test_port_in_use(self):
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            port = busy.getsockname()[1]
            with Daemon(notify=False, port=port) as d:
                d.start(wait_ready=False)
                rc = d.proc.wait(timeout=10)
                self.assertEqual(rc, 1)
                self.assertRegex(d.stderr(), rf"error: .*clubvoice\.yaml: server\.port: cannot "
                                             rf"listen on 127\.0\.0\.1:{port}")

    def test_journal_prefixes(self):
        with Daemon(extra_env={"JOURNAL_STREAM": "8:1234"}) as d:
            d.start()
            self.assertEqual(d.stop(), 0)
            lines = d.stderr().splitlines()
            self.assertTrue(lines)
            for line in lines:
                self.assertRegex(line, r"^<[3-7]>")
            self.assertTrue(any(line.startswith("<5>clubvoiced ") for line in lines), lines)


if __name__ == "__main__":
    unittest.main(verbosity=2)
