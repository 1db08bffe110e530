"""nginx balancing two daemons: the site of docs/scaling.md, "A load balancer
in front (nginx)", taken from the document as it is (only its listen address,
certificate paths and the edges' addresses replaced) and run by a real nginx
in front of two daemons with server.trusted_proxies. Through it, stock
python3-socketio clients: polling sessions stay on one daemon request after
request (nginx's own log names the daemon of every request), polling sessions
upgrade to WebSocket on their daemon, new WebSocket sessions from one address
are spread over both, and when one daemon is killed new clients of both kinds
reach the other."""

import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import requests
import socketio

sys.path.insert(0, os.path.dirname(__file__))
from harness import SOURCE_ROOT, Daemon, free_port, terminate, wait_until  # noqa: E402
from test_reverse_proxy import NGINX, NO_NGINX, replace_once, self_signed  # noqa: E402

DOC = os.path.join(SOURCE_ROOT, "docs", "scaling.md")
HEADING = "## A load balancer in front (nginx)"
EDGES = ("10.0.0.11:5000", "10.0.0.12:5000")


def documented_site():
    """The nginx block of the document's load balancer section."""
    with open(DOC) as f:
        text = f.read()
    section = text[text.index(HEADING):]
    section = section[:section.index("\n## ", 1)]
    blocks = re.findall(r"^```nginx\n(.*?)^```$", section, re.MULTILINE | re.DOTALL)
    assert len(blocks) == 1, f"{DOC}: expected one nginx block under '{HEADING}'"
    return blocks[0]


def site_text(port, cert, key, ports):
    site = documented_site()
    site = replace_once(site, "listen 443 ssl;", [f"listen 127.0.0.1:{port} ssl;"])
    site = replace_once(site, "ssl_certificate     /etc/ssl/certs/room.example.org.crt;",
                        [f"ssl_certificate {cert};"])
    site = replace_once(site, "ssl_certificate_key /etc/ssl/private/room.example.org.key;",
                        [f"ssl_certificate_key {key};"])
    for edge, p in zip(EDGES, ports):
        assert site.count(edge) == 2, f"{DOC}: edge {edge} should be in both upstreams"
        site = site.replace(edge, f"127.0.0.1:{p}")
    return site


class Balancer:
    """nginx in the foreground with the documented site, every request logged
    with the daemon it went to."""

    def __init__(self, cert, key, ports):
        self.dir = tempfile.mkdtemp(prefix="clubvoice-lb-")
        os.chmod(self.dir, 0o755)  # nginx started as root runs its workers as nobody
        self.port = free_port()
        self.log = os.path.join(self.dir, "access.log")
        temp = "".join(f"    {kind}_temp_path {self.dir}/{kind}_temp;\n"
                       for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        with open(os.path.join(self.dir, "site.conf"), "w") as f:
            f.write(site_text(self.port, cert, key, ports))
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"daemon off;\nworker_processes 1;\npid {self.dir}/nginx.pid;\n"
                    "error_log stderr notice;\nevents { worker_connections 256; }\n"
                    "http {\n    log_format edges '$request_uri $upstream_addr $status';\n"
                    f"    access_log {self.log} edges;\n{temp}"
                    f"    include {self.dir}/site.conf;\n}}\n")
        self.stderr_path = os.path.join(self.dir, "stderr.log")
        with open(self.stderr_path, "w") as stderr:
            self.proc = subprocess.Popen([NGINX, "-p", self.dir, "-c", conf, "-e", "stderr"],
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=stderr)
        wait_until(lambda: self.proc.poll() is not None or "start worker process" in self.stderr(),
                   10)
        complaints = re.findall(r"^.*\[(?:warn|error|crit|alert|emerg)\].*$", self.stderr(),
                                re.MULTILINE)
        if self.proc.poll() is not None or complaints:
            log = self.stderr()
            self.close()
            raise AssertionError(f"nginx did not start cleanly:\n{log}")

    def stderr(self):
        with open(self.stderr_path) as f:
            return f.read()

    def requests_of(self, sid):
        """(daemon address, status) of every logged request of an Engine.IO session."""
        with open(self.log) as f:
            return [tuple(line.split()[1:3]) for line in f if f"sid={sid}" in line.split()[0]]

    def misrouted(self):
        """Logged requests of a session that reached two daemons or that a
        daemon refused (an unknown sid is refused with 400)."""
        daemons, bad = {}, []
        with open(self.log) as f:
            for line in f:
                uri, upstream, status = line.split()[:3]
                sid = re.search(r"[?&]sid=([^&]+)", uri)
                if sid is None:
                    continue
                daemons.setdefault(sid.group(1), set()).add(upstream)
                if status not in ("200", "101"):
                    bad.append(line.strip())
        return bad + [f"{sid} on {sorted(d)}" for sid, d in daemons.items() if len(d) > 1]

    def close(self):
        terminate(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)


@unittest.skipIf(NGINX is None, NO_NGINX)
class LoadBalancer(unittest.TestCase):
    def setUp(self):
        self.keys = tempfile.TemporaryDirectory(prefix="clubvoice-lb-keys-")
        self.addCleanup(self.keys.cleanup)
        self.cert, key = self_signed(self.keys.name)
        self.daemons = []
        for _ in range(2):
            d = Daemon()
            self.addCleanup(d.close)
            d.write_config(d.default_config(server=", trusted_proxies: [127.0.0.1/32]"))
            d.start()
            self.daemons.append(d)
        self.lb = Balancer(self.cert, key, [d.port for d in self.daemons])
        self.addCleanup(self.lb.close)

    def client(self, transports):
        """A python3-socketio client through nginx. It tries again when its
        TLS connection breaks at once (a known race of python-engineio's two
        threads on one TLS connection, see test_reverse_proxy.py). A session
        request sent to the wrong daemon cannot hide behind that: nginx's log
        of every session request is checked by misrouted()."""
        attempts = 3
        for attempt in range(attempts):
            session = requests.Session()
            session.trust_env = False
            session.verify = self.cert
            config = threading.Event()
            c = socketio.Client(reconnection=False, http_session=session)
            c.on("config", lambda cfg, config=config: config.set())
            try:
                c.connect(f"https://127.0.0.1:{self.lb.port}", transports=transports,
                          wait_timeout=5)
            except socketio.exceptions.ConnectionError:
                c.disconnect()
                if attempt == attempts - 1:
                    raise
                continue
            self.addCleanup(c.disconnect)
            self.assertTrue(config.wait(5), "no config through the balancer")
            return c

    def sessions(self):
        return [d.get_json("/status")[1]["server"]["sessions"] if d.proc.poll() is None else None
                for d in self.daemons]

    def test_sessions_stick_new_websockets_spread_and_a_dead_daemon_is_passed_over(self):
        # New WebSocket sessions, all from 127.0.0.1: both daemons get some.
        for _ in range(4):
            self.assertEqual(self.client(["websocket"]).transport(), "websocket")
        self.assertTrue(wait_until(lambda: sum(self.sessions()) == 4, 5), self.sessions())
        self.assertTrue(all(n >= 1 for n in self.sessions()),
                        f"WebSocket sessions not spread: {self.sessions()}")

        # A polling session: every request of it reaches one daemon.
        polling = self.client(["polling"])
        self.assertEqual(polling.transport(), "polling")
        sid = polling.eio.sid
        self.assertTrue(wait_until(lambda: len(self.lb.requests_of(sid)) >= 6, 10),
                        self.lb.requests_of(sid))
        seen = self.lb.requests_of(sid)
        self.assertEqual(len({daemon for daemon, _ in seen}), 1, seen)
        self.assertEqual({status for _, status in seen}, {"200"}, seen)
        polling.disconnect()

        # Polling, then the upgrade (as browsers connect): the WebSocket
        # carries the session's sid and reaches the daemon that holds it.
        for _ in range(4):
            upgraded = self.client(["polling", "websocket"])
            self.assertTrue(wait_until(lambda: upgraded.transport() == "websocket", 5),
                            "the upgrade to WebSocket failed through the balancer")
            upgraded.disconnect()
        self.assertEqual(self.lb.misrouted(), [])

        # One daemon killed: new clients of both kinds reach the other.
        survivor = self.daemons[1]
        self.daemons[0].proc.kill()
        self.daemons[0].proc.wait()
        before = time.monotonic()
        for transports in (["websocket"], ["polling"], ["polling", "websocket"]) * 2:
            self.client(transports)
        took = time.monotonic() - before
        self.assertLess(took, 20)
        self.assertTrue(wait_until(lambda: survivor.get_json("/status")[1]["server"]["sessions"]
                                   >= 6, 5), self.sessions())
        self.assertEqual(self.lb.proc.poll(), None)


if __name__ == "__main__":
    if NGINX is None:
        print(f"skipped: {NO_NGINX}", file=sys.stderr)
        sys.exit(77)  # meson and ctest (SKIP_RETURN_CODE) report a skip
    unittest.main(verbosity=2)
