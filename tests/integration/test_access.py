"""Access control with stock clients: tokens made by `clubvoiced --new-token`
decide who listens, talks and reads the figures; a wrong token is refused,
never taken for none; another site's page cannot open a session; the limits
refuse the next client with a reason and the daemon stays healthy; a reload
that removes a token closes the client that used it; a trusted proxy's
X-Forwarded-For is believed and nobody else's. Every refusal is counted in
/metrics."""

import http.client
import json
import os
import subprocess
import sys
import threading
import time
import unittest

import numpy as np
import socketio
import websocket

sys.path.insert(0, os.path.dirname(__file__))
from harness import CLUBVOICED, Daemon, tone_packets, wait_until  # noqa: E402
from wire import parse_metrics  # noqa: E402

RATE = 48000


def new_token(role, name):
    """A fresh token and its access.tokens entry, from the daemon's own helper."""
    out = subprocess.run([CLUBVOICED, "--new-token", role, name], check=True,
                         capture_output=True, text=True).stdout.splitlines()
    assert len(out) == 2 and out[1].startswith("  - { name: "), out
    return out[0], out[1].strip()[2:]


def access_yaml(talk="token", listen="open", tokens=(), admin_networks=None):
    parts = [f"listen: {listen}", f"talk: {talk}", f"tokens: [{', '.join(tokens)}]"]
    if admin_networks is not None:
        parts.append(f"admin_networks: {json.dumps(admin_networks)}")
    return "{" + ", ".join(parts) + "}"


def request(port, path, headers=None, method="GET", body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read().decode()
    finally:
        conn.close()


def connect(port, auth=None, headers=None, transports=("websocket",)):
    """A connected python3-socketio client and the `config` it got first."""
    configs = []
    got = threading.Event()
    c = socketio.Client(reconnection=False)

    def on_config(data):
        configs.append(data)
        got.set()

    c.on("config", on_config)
    c.connect(f"http://127.0.0.1:{port}", transports=list(transports), auth=auth,
              headers=headers or {}, wait_timeout=5)
    assert got.wait(5), "no config event"
    return c, configs


def connect_error(port, auth=None):
    """The CONNECT_ERROR data a client gets."""
    c = socketio.Client(reconnection=False)
    errors = []
    c.on("connect_error", errors.append)
    try:
        c.connect(f"http://127.0.0.1:{port}", transports=["websocket"], auth=auth,
                  wait_timeout=5)
    except socketio.exceptions.ConnectionError:
        assert wait_until(lambda: errors, 2), "no connect_error event"
        return errors[0]
    finally:
        if c.connected:
            c.disconnect()
    raise AssertionError("the connection was not refused")


class Access(unittest.TestCase):
    def start(self, access, server="", extra="  mode: full\n"):
        d = Daemon()
        d.write_config(d.default_config(server=server, access=access, extra=extra))
        d.start()
        self.addCleanup(d.close)
        return d

    def metrics(self, d, headers=None):
        status, _, body = request(d.port, "/metrics", headers)
        self.assertEqual(status, 200)
        return parse_metrics(body)

    def played(self, d, start=0):
        x = np.fromfile(d.playback_path, dtype="<i2")[start:]
        return x.astype(np.float64) / 32768.0

    def played_samples(self, d):
        try:
            return os.path.getsize(d.playback_path) // 2
        except FileNotFoundError:
            return 0

    def send_tone(self, client, seconds=1.5, hz=1000):
        for i, p in enumerate(tone_packets(hz, seconds)):
            client.emit("mic", ({"seq": i}, p))
            time.sleep(0.02)

    def tone_share(self, x, hz):
        spec = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
        freqs = np.fft.rfftfreq(len(x), 1 / RATE)
        return spec[np.abs(freqs - hz) < 30].sum() / max(spec.sum(), 1e-20)

    def test_tokens_decide_who_talks(self):
        desk, desk_entry = new_token("talker", "desk")
        d = self.start(access_yaml(tokens=[desk_entry]))
        wait_until(lambda: self.played_samples(d) > RATE // 10, 5)

        # A wrong token is refused, never downgraded to a listener.
        self.assertEqual(connect_error(d.port, {"token": desk + "x"}),
                         {"message": "invalid token"})

        # No token: a listener; talking is refused and its mic stays silent.
        guest, configs = connect(d.port, {"name": "guest"})
        self.addCleanup(guest.disconnect)
        self.assertEqual((configs[0]["canTalk"], configs[0]["role"]), (False, "listener"))
        answer = guest.call("talk", {"on": True}, timeout=5)
        self.assertEqual((answer["granted"], answer["reason"]),
                         (False, "a talker token is needed"))
        start = self.played_samples(d)
        self.send_tone(guest)
        time.sleep(0.3)
        quiet = self.played(d, start)
        self.assertGreater(len(quiet), RATE)
        self.assertLess(np.abs(quiet).max(), 0.01, "a client without a token was heard")

        # The talker token is heard.
        talker, configs = connect(d.port, {"token": desk})
        self.addCleanup(talker.disconnect)
        self.assertEqual((configs[0]["canTalk"], configs[0]["role"]), (True, "talker"))
        self.assertTrue(talker.call("talk", {"on": True}, timeout=5)["granted"])
        start = self.played_samples(d)
        self.send_tone(talker)
        time.sleep(0.3)
        heard = self.played(d, start)
        loud = np.nonzero(np.abs(heard) > 0.05)[0]
        self.assertGreater(len(loud), 0, "the talker was not heard")
        self.assertGreater(self.tone_share(heard[loud[0]:loud[0] + RATE // 2], 1000), 0.8)

        # Named after its token when it gives no name.
        state = d.get_json("/status")[1]["talk"]
        self.assertEqual([t["name"] for t in state["talkers"]], ["desk"])
        m = self.metrics(d)
        self.assertEqual(m["clubvoice_invalid_token_total"], 1)
        self.assertEqual(m["clubvoice_talk_refused_role_total"], 1)
        self.assertGreaterEqual(m["clubvoice_mic_refused_total"], 50)

    def test_a_token_in_the_authorization_header_counts(self):
        admin, admin_entry = new_token("admin", "ops")
        d = self.start(access_yaml(tokens=[admin_entry]))
        c, configs = connect(d.port, headers={"Authorization": f"Bearer {admin}"})
        self.addCleanup(c.disconnect)
        self.assertEqual((configs[0]["role"], configs[0]["canTalk"]), ("admin", True))

    def test_listening_can_need_a_token(self):
        listener, entry = new_token("listener", "radio")
        d = self.start(access_yaml(listen="token", tokens=[entry]))
        self.assertEqual(connect_error(d.port), {"message": "a token is needed to listen"})
        c, configs = connect(d.port, {"token": listener})
        self.addCleanup(c.disconnect)
        audio = []
        c.on("audio", lambda meta, data: audio.append(meta["seq"]))
        self.assertTrue(wait_until(lambda: len(audio) > 10, 5), "the listener got no audio")
        self.assertEqual((configs[0]["role"], configs[0]["canTalk"]), ("listener", False))
        self.assertEqual(self.metrics(d)["clubvoice_token_needed_total"], 1)

    def test_figures_are_for_admins(self):
        admin, admin_entry = new_token("admin", "ops")
        talker, talker_entry = new_token("talker", "desk")
        d = self.start(access_yaml(tokens=[admin_entry, talker_entry],
                                   admin_networks=["10.0.0.0/8"]))
        for path in ("/status", "/metrics"):
            status, headers, body = request(d.port, path)
            self.assertEqual(status, 401, path)
            self.assertIn("Bearer", headers["www-authenticate"])
            self.assertIn("error", json.loads(body))
            status, _, _ = request(d.port, path, {"Authorization": f"Bearer {talker}"})
            self.assertEqual(status, 403, path)
            status, _, _ = request(d.port, path, {"Authorization": f"Bearer {admin}x"})
            self.assertEqual(status, 401, path)
            status, _, _ = request(d.port, path, {"Authorization": f"Bearer {admin}"})
            self.assertEqual(status, 200, path)
        self.assertEqual(request(d.port, "/health")[0], 200)
        m = self.metrics(d, {"Authorization": f"Bearer {admin}"})
        self.assertEqual(m["clubvoice_admin_refused_total"], 6)

    def test_an_admin_network_needs_no_token(self):
        d = self.start(access_yaml())  # 127.0.0.0/8 is an admin network by default
        self.assertEqual(request(d.port, "/status")[0], 200)
        self.assertEqual(request(d.port, "/metrics")[0], 200)

    def test_a_foreign_origin_is_refused_on_both_transports(self):
        d = self.start(access_yaml())
        base = "/socket.io/?EIO=4&transport="
        status, _, body = request(d.port, base + "polling", {"Origin": "http://evil.example"})
        self.assertEqual(status, 403, body)
        with self.assertRaises(websocket.WebSocketBadStatusException) as refused:
            websocket.create_connection(f"ws://127.0.0.1:{d.port}{base}websocket",
                                        origin="http://evil.example", timeout=5)
        self.assertEqual(refused.exception.status_code, 403)
        # The server's own pages and clients that send no Origin get in.
        own = f"http://127.0.0.1:{d.port}"
        status, _, body = request(d.port, base + "polling", {"Origin": own})
        self.assertEqual((status, body[:1]), (200, "0"))
        ws = websocket.create_connection(f"ws://127.0.0.1:{d.port}{base}websocket", origin=own,
                                         timeout=5)
        self.assertTrue(ws.recv().startswith("0"))
        ws.close()
        ws = websocket.create_connection(f"ws://127.0.0.1:{d.port}{base}websocket",
                                         suppress_origin=True, timeout=5)
        self.assertTrue(ws.recv().startswith("0"))
        ws.close()
        self.assertEqual(self.metrics(d)["clubvoice_origin_refused_total"], 2)
        self.assertEqual(d.stderr().count("Origin http://evil.example"), 2)

    def test_limits_refuse_the_next_client_with_a_reason(self):
        d = self.start(access_yaml(), server=", max_clients_per_ip: 3")
        clients = []
        for _ in range(3):
            c, _ = connect(d.port)
            clients.append(c)
            self.addCleanup(c.disconnect)
        status, headers, body = request(d.port, "/socket.io/?EIO=4&transport=polling")
        self.assertEqual(status, 429)
        self.assertIn("server.max_clients_per_ip", json.loads(body)["message"])
        with self.assertRaises(socketio.exceptions.ConnectionError):
            connect(d.port)
        clients[0].disconnect()
        wait_until(lambda: d.get_json("/status")[1]["server"]["sessions"] == 2, 3)
        c, _ = connect(d.port)  # a place freed is a place taken
        self.addCleanup(c.disconnect)
        self.assertEqual(request(d.port, "/health")[0], 200)
        self.assertEqual(self.metrics(d)["clubvoice_refused_address_full_total"], 2)

    def test_handshakes_too_fast_and_a_full_server_are_refused(self):
        d = self.start(access_yaml(),
                       server=", handshakes_per_ip_per_s: 2, max_clients: 100")
        path = "/socket.io/?EIO=4&transport=polling"
        answers = [request(d.port, path)[0] for _ in range(6)]
        self.assertEqual(answers[:4], [200] * 4)  # a burst of twice the rate
        self.assertIn(429, answers[4:])
        full = self.start(access_yaml(), server=", max_clients: 2")
        self.assertEqual([request(full.port, path)[0] for _ in range(3)], [200, 200, 503])
        self.assertGreaterEqual(self.metrics(d)["clubvoice_refused_too_fast_total"], 1)
        self.assertEqual(self.metrics(full)["clubvoice_refused_server_full_total"], 1)

    def test_a_session_that_never_upgrades_is_closed(self):
        d = self.start(access_yaml(), server=", max_polling_s: 10, ping_interval_ms: 500, "
                                             "connect_timeout_ms: 60000")
        # A raw Engine.IO polling session that answers every ping but never upgrades.
        _, _, body = request(d.port, "/socket.io/?EIO=4&transport=polling")
        path = "/socket.io/?EIO=4&transport=polling&sid=" + json.loads(body[1:])["sid"]
        started = time.monotonic()
        closed_after = None
        while time.monotonic() - started < 14:
            status, _, payload = request(d.port, path)
            if status != 200 or "1" in payload.split("\x1e"):
                closed_after = time.monotonic() - started
                break
            if "2" in payload.split("\x1e"):
                request(d.port, path, method="POST", body="3")
        self.assertIsNotNone(closed_after, "the polling session was not closed")
        self.assertGreaterEqual(closed_after, 9.5)
        self.assertEqual(self.metrics(d)["clubvoice_polling_timeouts_total"], 1)

    def test_a_reload_that_removes_a_token_closes_its_client(self):
        desk, desk_entry = new_token("talker", "desk")
        d = self.start(access_yaml(tokens=[desk_entry]))
        talker, _ = connect(d.port, {"token": desk})
        guest, _ = connect(d.port)
        self.addCleanup(guest.disconnect)
        configs = []
        guest.on("config", configs.append)
        gone = threading.Event()
        talker.on("disconnect", lambda *a: gone.set())
        d.write_config(d.default_config(access=access_yaml(talk="open"),
                                        extra="  mode: full\n"))
        mark = len(d.notify.messages)
        d.signal(1)  # SIGHUP
        d.notify.wait_for("READY", "1", after=mark)
        self.assertTrue(gone.wait(5), "the client of a removed token stayed")
        # Talking is open now: the guest is told it may talk.
        self.assertTrue(wait_until(lambda: configs and configs[-1]["canTalk"], 5))
        self.assertTrue(guest.call("talk", {"on": True}, timeout=5)["granted"])
        self.assertEqual(self.metrics(d)["clubvoice_access_revoked_total"], 1)

    def test_forwarded_addresses_are_believed_from_trusted_proxies_only(self):
        d = self.start(access_yaml(), server=", trusted_proxies: [127.0.0.1/32]")
        forwarded = {"X-Forwarded-For": "203.0.113.9"}
        # Through the trusted proxy, the client is 203.0.113.9: not an admin network.
        self.assertEqual(request(d.port, "/status", forwarded)[0], 401)
        self.assertEqual(request(d.port, "/status", {"Forwarded": "for=203.0.113.9"})[0], 401)
        self.assertEqual(request(d.port, "/status")[0], 200)
        plain = self.start(access_yaml())
        # From a peer that is not a trusted proxy the header is ignored.
        self.assertEqual(request(plain.port, "/status", forwarded)[0], 200)


class Tokens(unittest.TestCase):
    def test_hash_token_prints_one_salted_hash(self):
        run = lambda: subprocess.run([CLUBVOICED, "--hash-token"], input="secret-token\n",  # noqa
                                     capture_output=True, text=True, check=True).stdout
        first, second = run(), run()
        self.assertRegex(first, r"^sha256\$[0-9a-f]{32}\$[0-9a-f]{64}\n$")
        self.assertNotEqual(first, second, "the salt is not random")

    def test_new_token_has_at_least_128_bits(self):
        token, entry = new_token("talker", "desk")
        self.assertGreaterEqual(len(token) * 6, 128)
        self.assertRegex(token, r"^[A-Za-z0-9_-]+$")
        self.assertIn("role: talker", entry)
        bad = subprocess.run([CLUBVOICED, "--new-token", "owner"], capture_output=True,
                             text=True)
        self.assertEqual(bad.returncode, 2)
        self.assertIn("listener, talker or admin", bad.stderr)

    def test_a_malformed_hash_names_the_key(self):
        d = Daemon(notify=False)
        self.addCleanup(d.close)
        d.write_config(d.default_config(
            access='{tokens: [{name: desk, role: talker, hash: "md5$abc"}]}'))
        out = subprocess.run([CLUBVOICED, "--check-config", "-c", d.config_path],
                             capture_output=True, text=True)
        self.assertEqual(out.returncode, 1)
        self.assertIn("access.tokens", out.stderr)
        self.assertIn("desk: hash is not a token hash", out.stderr)
        self.assertEqual(len(out.stderr.strip().splitlines()), 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
