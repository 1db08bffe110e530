"""Behind nginx: the site file shipped in docs/nginx-clubvoice.conf, run by a
real nginx (as a child process, on a free loopback port) with only its listen
address, certificate paths and upstream address replaced, in front of the real
daemon with server.trusted_proxies: [127.0.0.1/32]. Through it, over HTTPS and
WSS: stock python3-socketio clients listen over WebSocket and over polling; a
player gets /stream.opus page by page; a page of this site may open a
WebSocket and another site's page may not;
polling sessions stay on their daemon when there are two; the daemon takes the
client's address from X-Forwarded-For for its admin networks, its limits and
its log, and a spoofed X-Forwarded-For does not fool it.

The clients' source addresses 127.0.0.3 and 127.0.0.4 stand for two visitors
(all of 127.0.0.0/8 is loopback): the test's own address 127.0.0.1 is the
trusted proxy's, and the daemon rightly believes what a trusted address
forwards."""

import http.client
import json
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
import websocket

sys.path.insert(0, os.path.dirname(__file__))
from harness import SOURCE_ROOT, Daemon, free_port, terminate, wait_until  # noqa: E402

NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/sbin/nginx") if os.access(p, os.X_OK)), None)
SITE = os.path.join(SOURCE_ROOT, "docs", "nginx-clubvoice.conf")
TRUSTED = ", trusted_proxies: [127.0.0.1/32]"
VISITOR, OTHER_VISITOR = "127.0.0.3", "127.0.0.4"
HANDSHAKE = "/socket.io/?EIO=4&transport=polling"


def self_signed(directory):
    """A certificate for 127.0.0.1 and its key; the clients take the
    certificate as their only CA."""
    cert, key = os.path.join(directory, "site.crt"), os.path.join(directory, "site.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                    "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    return cert, key


def replace_once(text, old, new):
    """The site file with one line replaced; a line that is not there exactly
    once fails the test, so it never runs a file other than the shipped one."""
    pattern = re.compile(r"^[ \t]*" + re.escape(old) + r"[ \t]*\n", re.MULTILINE)
    found = pattern.findall(text)
    assert len(found) == 1, f"{SITE}: expected one line '{old}', found {len(found)}"
    indent = found[0][:len(found[0]) - len(found[0].lstrip())]
    return pattern.sub("".join(indent + line + "\n" for line in new), text)


def site_text(port, cert, key, upstream_ports, sticky=True):
    """The docs' site with the test's listen address, certificate and daemons."""
    with open(SITE) as f:
        site = f.read()
    site = replace_once(site, "listen 443 ssl;", [f"listen 127.0.0.1:{port} ssl;"])
    site = replace_once(site, "listen [::]:443 ssl;", [])
    site = replace_once(site, "ssl_certificate     /etc/ssl/certs/clubvoice.example.org.crt;",
                        [f"ssl_certificate {cert};"])
    site = replace_once(site, "ssl_certificate_key /etc/ssl/private/clubvoice.example.org.key;",
                        [f"ssl_certificate_key {key};"])
    site = replace_once(site, "server 127.0.0.1:5000;",
                        [f"server 127.0.0.1:{p};" for p in upstream_ports])
    if not sticky:
        site = replace_once(site, "ip_hash;", [])
    return site


class Nginx:
    """nginx in the foreground, everything it writes in a temporary directory,
    serving the docs' site (site_text) on a free loopback port."""

    def __init__(self, cert, key, upstream_ports, sticky=True):
        self.dir = tempfile.mkdtemp(prefix="clubvoice-nginx-")
        os.chmod(self.dir, 0o755)  # nginx started as root runs its workers as nobody
        self.site_path = os.path.join(self.dir, "site.conf")
        self.conf_path = os.path.join(self.dir, "nginx.conf")
        temp = "".join(f"    {kind}_temp_path {self.dir}/{kind}_temp;\n"
                       for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        with open(self.conf_path, "w") as f:
            f.write(f"daemon off;\nworker_processes 1;\npid {self.dir}/nginx.pid;\n"
                    "error_log stderr notice;\n"
                    "events { worker_connections 256; }\n"
                    f"http {{\n    access_log {self.dir}/access.log;\n{temp}"
                    f"    include {self.site_path};\n}}\n")
        self.stderr_path = os.path.join(self.dir, "stderr.log")
        self.proc = None
        for _ in range(3):  # another program may take the free port first
            self.port = free_port()
            with open(self.site_path, "w") as f:
                f.write(site_text(self.port, cert, key, upstream_ports, sticky))
            if self.start() or "Address already in use" not in self.stderr():
                break
        log = self.stderr()
        # The site file as shipped draws no warning either.
        complaints = re.findall(r"^.*\[(?:warn|error|crit|alert|emerg)\].*$", log, re.MULTILINE)
        if self.proc.poll() is not None or complaints:
            self.close()
            raise AssertionError(f"nginx did not start cleanly:\n{log}")

    def start(self):
        """True once nginx accepts connections, False when it exited."""
        with open(self.stderr_path, "w") as stderr:
            # -e: the error log before the configuration is read (not /var/log/nginx).
            self.proc = subprocess.Popen(
                [NGINX, "-p", self.dir, "-c", self.conf_path, "-e", "stderr"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr)

        # nginx starts its workers once its listening socket is bound; it
        # tries a port in use for 2.5 s, then exits.
        wait_until(lambda: self.proc.poll() is not None or "start worker process" in self.stderr(),
                   10)
        return self.proc.poll() is None

    def stderr(self):
        with open(self.stderr_path) as f:
            return f.read()

    def close(self):
        terminate(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)


NO_NGINX = "nginx is not installed (Debian package nginx-light, installed by scripts/install-deps)"


@unittest.skipIf(NGINX is None, NO_NGINX)
class ReverseProxy(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.keys = tempfile.TemporaryDirectory(prefix="clubvoice-nginx-keys-")
        cls.cert, cls.key = self_signed(cls.keys.name)
        cls.context = ssl.create_default_context(cafile=cls.cert)

    @classmethod
    def tearDownClass(cls):
        cls.keys.cleanup()

    def daemon(self, server=TRUSTED, access="{talk: open}"):
        """The daemon, ready; started again on another port when something
        took its free port first (it exits at once then)."""
        for _ in range(3):
            d = Daemon()
            self.addCleanup(d.close)
            d.write_config(d.default_config(server=server, access=access))
            d.start(wait_ready=False)

            def ready(d=d):
                d.notify.poll()
                return any(m.get("READY") == "1" for m in d.notify.messages)
            wait_until(lambda: ready() or d.proc.poll() is not None, 10)
            if ready() and d.proc.poll() is None:
                return d
            if d.proc.poll() is None or "cannot listen on" not in d.stderr():
                break
        raise AssertionError(f"clubvoiced did not start:\n{d.stderr()}")

    def nginx(self, *daemons, sticky=True):
        n = Nginx(self.cert, self.key, [d.port for d in daemons], sticky)
        self.addCleanup(n.close)
        return n

    def https(self, n, path, headers=None, source=None, method="GET", body=None):
        """One request to nginx over HTTPS, from the source address given."""
        conn = http.client.HTTPSConnection("127.0.0.1", n.port, timeout=5, context=self.context,
                                           source_address=(source, 0) if source else None)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return r.status, r.read().decode(), {k.lower(): v for k, v in r.getheaders()}
        finally:
            conn.close()

    def client(self, n, transports):
        """A python3-socketio client through nginx, trusting the test's certificate."""
        # python-engineio reads and writes its WebSocket from two threads, and
        # python3-websocket lets them use one TLS connection at once, which
        # OpenSSL does not allow: about one wss connection in a hundred breaks
        # at once (straight to the daemon's own wss as well). Such a client
        # tries again; a site that cannot carry WebSocket fails every time.
        for attempt in range(3):
            session = requests.Session()
            session.trust_env = False  # no proxy or CA bundle from the environment
            session.verify = self.cert  # also what its WebSocket transport checks against
            events = {"config": threading.Event(), "clients": threading.Event(),
                      "audio": threading.Event()}
            c = socketio.Client(reconnection=False, http_session=session)
            c.on("config", lambda cfg, events=events: events["config"].set())
            c.on("clients", lambda data, events=events: events["clients"].set())
            c.on("audio", lambda meta, data, events=events: events["audio"].set())
            try:
                c.connect(f"https://127.0.0.1:{n.port}", transports=transports, wait_timeout=5)
            except socketio.exceptions.ConnectionError:
                c.disconnect()
                if attempt == 2:
                    raise
                continue
            self.addCleanup(c.disconnect)
            return c, events

    def test_socketio_over_websocket_and_polling(self):
        d = self.daemon()
        n = self.nginx(d)
        self.assertEqual(self.https(n, "/health")[0], 200)
        status, page, headers = self.https(n, "/")
        self.assertEqual(status, 200)
        self.assertIn("<html", page.lower())
        # The isolation headers of the pages pass through (operating.md).
        self.assertEqual(headers.get("cross-origin-opener-policy"), "same-origin")
        self.assertIn("cross-origin-embedder-policy", headers)
        with open(os.path.join(SOURCE_ROOT, "web", "dist", "debug.js")) as f:
            self.assertEqual(self.https(n, "/debug.js")[1], f.read())  # larger than nginx's buffers

        ws, events = self.client(n, ["websocket"])
        self.assertEqual(ws.transport(), "websocket")
        self.assertTrue(events["config"].wait(5), "no config over WebSocket")
        self.assertTrue(events["audio"].wait(5), "no audio over WebSocket through nginx")

        # python-socketio 5.7 decodes binary events over polling racily (a
        # thread of the client may print a ValueError), so this client is
        # judged by its config and clients events only.
        polling, events = self.client(n, ["polling"])
        self.assertEqual(polling.transport(), "polling")
        self.assertTrue(events["config"].wait(5), "no config over polling")
        self.assertTrue(events["clients"].wait(5), "no clients event over polling")
        self.assertTrue(wait_until(lambda: d.get_json("/status")[1]["server"]["sessions"] == 2,
                                   5), "the daemon does not count the two sessions")
        polling.disconnect()

    def test_players_get_the_stream_page_by_page(self):
        d = self.daemon()
        n = self.nginx(d)
        conn = http.client.HTTPSConnection("127.0.0.1", n.port, timeout=5, context=self.context)
        conn.request("GET", "/stream.opus")
        r = conn.getresponse()
        self.assertEqual(r.status, 200)
        self.assertEqual(r.getheader("content-type"), "audio/ogg")
        data = b""
        started = time.monotonic()
        while time.monotonic() - started < 2:
            data += r.read1(65536)
        conn.close()
        self.assertEqual(data[:4], b"OggS")
        self.assertIn(b"OpusHead", data[:100])
        # Passed on as it comes: about 2 s of 40 ms pages arrived in 2 s.
        self.assertGreater(data.count(b"OggS"), 2 + 30)

    def test_a_page_of_the_site_may_open_a_websocket_and_another_site_may_not(self):
        d = self.daemon()
        n = self.nginx(d)
        url = f"wss://127.0.0.1:{n.port}/socket.io/?EIO=4&transport=websocket"
        sslopt = {"ca_certs": self.cert}
        # A browser on https://127.0.0.1:PORT/ sends that Origin and that Host.
        ws = websocket.create_connection(url, origin=f"https://127.0.0.1:{n.port}",
                                         sslopt=sslopt, timeout=5)
        try:
            self.assertTrue(ws.recv().startswith("0{"), "no Engine.IO open packet")
        finally:
            ws.close()
        with self.assertRaises(websocket.WebSocketBadStatusException) as refused:
            websocket.create_connection(url, origin="https://evil.example", sslopt=sslopt,
                                        timeout=5)
        self.assertEqual(refused.exception.status_code, 403)
        # The same on the polling transport.
        own = {"Origin": f"https://127.0.0.1:{n.port}"}
        self.assertEqual(self.https(n, HANDSHAKE, own)[0], 200)
        self.assertEqual(self.https(n, HANDSHAKE, {"Origin": "https://evil.example"})[0], 403)
        self.assertEqual(d.stderr().count("Origin https://evil.example"), 2)

    def test_polling_sessions_stay_on_their_daemon(self):
        first, second = self.daemon(), self.daemon()

        def answers(n):
            """Status codes of one raw Engine.IO polling session's requests, up
            to the first refused one."""
            status, body, _ = self.https(n, HANDSHAKE)
            self.assertEqual(status, 200, body)
            path = HANDSHAKE + "&sid=" + json.loads(body[1:])["sid"]
            codes = [self.https(n, path, method="POST", body="40")[0]]  # Socket.IO CONNECT
            while codes[-1] == 200 and len(codes) < 5:
                codes.append(self.https(n, path)[0])  # config, then audio
            return codes

        self.assertEqual(answers(self.nginx(first, second)), [200] * 5)
        # The same site without ip_hash sends the next request to the other daemon,
        # which does not know the session: why the site file has it.
        self.assertEqual(answers(self.nginx(first, second, sticky=False))[-1], 400)

    def test_the_daemon_takes_the_client_address_from_the_proxy(self):
        d = self.daemon(server=TRUSTED + ", max_clients_per_ip: 2",
                        access=f'{{talk: open, admin_networks: ["{VISITOR}/32"]}}')
        n = self.nginx(d)
        # Straight from 127.0.0.1 (nginx's address) /status is refused: the
        # visitor's 200 below comes from the address nginx forwarded.
        self.assertEqual(d.get("/status")[0], 401)
        self.assertEqual(self.https(n, "/status", source=VISITOR)[0], 200)
        # nginx appends the address it sees; the daemon takes the rightmost one
        # that is not a trusted proxy, never what the visitor wrote before it.
        spoofed = {"X-Forwarded-For": "10.9.9.9"}
        self.assertEqual(self.https(n, "/status", spoofed, source=VISITOR)[0], 200)
        spoofed = {"X-Forwarded-For": VISITOR}
        self.assertEqual(self.https(n, "/status", spoofed, source=OTHER_VISITOR)[0], 401)

        # server.max_clients_per_ip counts the visitor, not the proxy.
        self.assertEqual([self.https(n, HANDSHAKE, source=VISITOR)[0] for _ in range(3)],
                         [200, 200, 429])
        self.assertEqual(self.https(n, HANDSHAKE, source=OTHER_VISITOR)[0], 200)
        self.assertIn(f"engine.io: refused {VISITOR}: ", d.stderr())
        self.assertNotIn("engine.io: refused 127.0.0.1", d.stderr())


if __name__ == "__main__":
    if NGINX is None:
        print(f"skipped: {NO_NGINX}", file=sys.stderr)
        sys.exit(77)  # meson and ctest (SKIP_RETURN_CODE) report a skip
    unittest.main(verbosity=2)
