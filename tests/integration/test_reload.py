"""What a reload (SIGHUP) applies to the running daemon: the next handshake
shows the new heartbeat and payload limit, the new CORS list is enforced,
talk.* changes show in /status and take effect (turning
talk.mute_floor_holder off gives the current floor holder the room's audio
again), and a changed restart-only key only warns."""

import http.client
import json
import os
import signal
import sys
import time
import unittest

import socketio

sys.path.insert(0, os.path.dirname(__file__))
from harness import Daemon, wait_until  # noqa: E402


def handshake(port, origin=None, status=200):
    """A polling handshake: (its open packet's JSON, the response headers); with
    another `status`, the refusal's (JSON body, headers)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/socket.io/?EIO=4&transport=polling",
                     headers={"Origin": origin} if origin else {})
        r = conn.getresponse()
        body = r.read().decode()
        headers = {k.lower(): v for k, v in r.getheaders()}
        if status != 200:
            assert r.status == status, (r.status, body)
            return json.loads(body), headers
        assert r.status == 200 and body.startswith("0"), (r.status, body)
        return json.loads(body[1:]), headers
    finally:
        conn.close()


class Reload(unittest.TestCase):
    def config(self, d, server="", extra=""):
        """The test config with more server.* keys and more lines after audio.*."""
        return d.default_config(server=server, extra=extra)

    def reload(self, d, text):
        d.write_config(text)
        mark = len(d.notify.messages)
        d.signal(signal.SIGHUP)
        _, after = d.notify.wait_for("READY", "1", after=mark)
        self.assertIn("reloaded", after.get("STATUS", ""))

    def test_reload_applies_server_and_talk_keys(self):
        with Daemon() as d:
            d.write_config(self.config(
                d, extra="  mode: half\ntalk: {mute_floor_holder: true, max_talkers: 8}\n"))
            d.start()
            opened, _ = handshake(d.port)
            self.assertEqual((opened["pingInterval"], opened["pingTimeout"],
                              opened["maxPayload"]), (25000, 20000, 1000000))
            # Another site's page may not open a session until cors_origins lists it.
            _, headers = handshake(d.port, origin="http://desk.example", status=403)
            self.assertNotIn("access-control-allow-origin", headers)

            # The floor holder is muted: no room audio while holding.
            holder = socketio.Client(reconnection=False)
            audio = []
            holder.on("audio", lambda meta, data: audio.append(meta["seq"]))
            holder.connect(f"http://127.0.0.1:{d.port}", transports=["websocket"],
                           auth={"name": "desk"}, wait_timeout=5)
            self.addCleanup(holder.disconnect)
            self.assertTrue(wait_until(lambda: len(audio) > 5, 5), "no audio before the floor")
            self.assertTrue(holder.call("talk", {"on": True}, timeout=5)["granted"])
            time.sleep(0.3)
            muted_from = len(audio)
            time.sleep(0.5)
            self.assertLessEqual(len(audio) - muted_from, 1, "the holder still gets audio")

            changed = self.config(
                d, server=", ping_interval_ms: 7000, ping_timeout_ms: 9000, "
                          "max_payload_bytes: 50000, cors_origins: [\"http://desk.example\"]",
                extra="  mode: half\ntalk: {mute_floor_holder: false, max_talkers: 3}\n")
            self.reload(d, changed.replace(f"port: {d.port}", f"port: {d.port + 1}"))

            opened, headers = handshake(d.port, origin="http://desk.example")
            self.assertEqual((opened["pingInterval"], opened["pingTimeout"],
                              opened["maxPayload"]), (7000, 9000, 50000))
            self.assertEqual(headers.get("access-control-allow-origin"), "http://desk.example")
            _, headers = handshake(d.port, origin="http://elsewhere.example", status=403)
            self.assertNotIn("access-control-allow-origin", headers)

            talk = d.get_json("/status")[1]["talk"]
            self.assertEqual((talk["mute_floor_holder"], talk["max_talkers"]), (False, 3))
            self.assertEqual(talk["floor"]["name"], "desk")
            # Unmuted while still holding the floor: the room's audio comes back.
            unmuted_from = len(audio)
            self.assertTrue(wait_until(lambda: len(audio) - unmuted_from > 10, 3),
                            "the holder was not given the room's audio again")
            # The port needs a restart: one warning, and it still serves on the old one.
            self.assertEqual(d.stderr().count("server.port: changed to"), 1)
            self.assertEqual(d.get("/health")[0], 200)


if __name__ == "__main__":
    unittest.main(verbosity=2)
