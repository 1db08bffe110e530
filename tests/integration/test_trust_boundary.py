"""Client input is untrusted: what a client sends decides at most its own
session's fate. Regression tests for two inputs from a stock python-socketio
client that once took the daemon down (`levels` {on: "yes"}; a 65-byte name
cut inside its last character, then `talk`), and the documented answer to
every class of wrong shape: an ack {error} where the event has an ack, the
session closed (with a warning and a counter) where it has none, CONNECT_ERROR
for bad CONNECT auth, unknown events ignored and counted, and a WebSocket
frame that declares more than server.max_payload_bytes closed with 1009 as
soon as its first bytes arrive. After each: the daemon runs, /health answers
200 and a new client gets `audio`."""

import json
import os
import struct
import sys
import threading
import time
import unittest

import socketio

sys.path.insert(0, os.path.dirname(__file__))
import wire  # noqa: E402
from harness import wait_until  # noqa: E402
from wire import (SANITIZED, Daemon, RawSio, client_frame, frame_header,  # noqa: E402
                  metrics, open_upgraded, quiet_socketio_decode_races, server_frames, status,
                  tone_packets)

quiet_socketio_decode_races()

NAME_LIMIT = 64
MAX_PAYLOAD = 1000000  # server.max_payload_bytes at its default
# A client that sends a frame header claiming more must be closed at once,
# not at the ping timeout (45 s at the defaults). ASan makes the daemon ~3x
# slower.
PROMPT_CLOSE_S = 2.0 if SANITIZED else 1.0


class Client:
    """A stock python3-socketio client."""

    def __init__(self, port, auth=None):
        self.audio, self.states = [], []
        self.gone = threading.Event()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("audio", lambda meta, data: self.audio.append(meta["seq"]))
        self.sio.on("talk_state", self.states.append)
        self.sio.on("disconnect", lambda *a: self.gone.set())
        self.sio.connect(f"http://127.0.0.1:{port}", transports=["websocket"], auth=auth,
                         wait_timeout=5)

    @property
    def sid(self):
        return self.sio.get_sid("/")

    def close(self):
        if self.sio.connected:
            self.sio.disconnect()


class TrustBoundary(unittest.TestCase):
    def start_daemon(self, mode="full"):
        d = Daemon()
        d.write_config(d.default_config(extra=f"  mode: {mode}\n"))
        d.start()
        self.addCleanup(d.close)
        self.d = d
        return d

    def client(self, auth=None):
        c = Client(self.d.port, auth)
        self.addCleanup(c.close)
        return c

    def raw(self, connect=True):
        r = RawSio(self.d.port)
        self.addCleanup(r.close)
        if connect:
            answer = r.connect()
            self.assertTrue(answer.startswith("0{"), answer)
        return r

    def warnings(self):
        return sum(1 for line in self.d.stderr().splitlines() if line.startswith("warning:"))

    def counter(self, metric, status_key):
        """A counter read from /metrics and /status, which must agree."""
        m = metrics(self.d)
        self.assertIn(metric, m, f"/metrics has no {metric}")
        server = status(self.d)["server"]
        self.assertIn(status_key, server, f"/status has no server.{status_key}")
        self.assertEqual(m[metric], server[status_key], f"{metric} and server.{status_key}")
        return m[metric]

    def invalid_events(self):
        return self.counter("clubvoice_invalid_events_total", "invalid_events")

    def assert_still_serving(self):
        d = self.d
        if not d.alive():
            tail = "\n".join(d.stderr().splitlines()[-15:])
            self.fail(f"clubvoiced is gone (exit status {d.proc.returncode}); "
                      f"its log ends:\n{tail}")
        self.assertEqual(d.get("/health")[0], 200)
        c = Client(d.port)
        try:
            self.assertTrue(wait_until(lambda: len(c.audio) >= 5, 5),
                            "a new client got no audio")
        finally:
            c.close()
        self.assertEqual(metrics(d).get("clubvoice_internal_errors_total"), 0.0,
                         "clubvoice_internal_errors_total missing or not 0")

    def stop_cleanly(self):
        self.assertEqual(self.d.stop(), 0, "clubvoiced did not exit 0 on SIGTERM")

    # ---------------------------------------------------------- regressions

    def test_levels_with_a_string_for_on_closes_only_that_session(self):
        self.start_daemon()
        bystander = self.client()
        victim = self.client()
        warnings = self.warnings()
        victim.sio.emit("levels", {"on": "yes"})
        self.assertTrue(victim.gone.wait(5), "the session that sent levels {on:'yes'} stayed open")
        self.assert_still_serving()
        seen = len(bystander.audio)
        self.assertTrue(wait_until(lambda: len(bystander.audio) >= seen + 10, 3),
                        "the bystander stopped getting audio")
        self.assertFalse(bystander.gone.is_set())
        self.assertGreaterEqual(self.invalid_events(), 1)
        self.assertGreater(self.warnings(), warnings, "no warning logged")
        self.stop_cleanly()

    def test_name_cut_inside_a_character_then_talk(self):
        self.start_daemon("full")
        watcher = self.client()
        name = "a" * 63 + "é"  # 65 bytes: a cut at 64 would split the é
        talker = self.client({"name": name})
        answer = talker.sio.call("talk", {"on": True}, timeout=5)
        self.assertEqual(answer, {"granted": True, "holder": None})
        self.assertTrue(wait_until(lambda: watcher.states and watcher.states[-1]["talkers"], 3),
                        "no talk_state with the talker")
        self.assertEqual(watcher.states[-1]["talkers"], [{"id": talker.sid, "name": "a" * 63}])
        self.assert_still_serving()
        self.assertFalse(talker.gone.is_set())
        self.stop_cleanly()

    # ---------------------------------------------------------- CONNECT auth

    def test_names_are_cleaned_and_cut_at_a_character_boundary(self):
        self.start_daemon("full")
        watcher = self.client()
        cases = {
            "An\x00n\x1b[1ma\x07\x7f\u0085\u009f!": "Ann[1ma!",  # C0, DEL and C1 go
            "é" * 40: "é" * 32,  # 80 bytes -> 64
            "€" * 30: "€" * 21,  # 90 bytes -> 63: a 22nd would end at byte 66
            "😀" * 20: "😀" * 16,  # 80 bytes -> 64
            "x" * 62 + "😀": "x" * 62,  # 66 bytes -> 62
            "陈" * 21 + "\n": "陈" * 21,  # 63 bytes once the newline goes
        }
        talkers = {}
        for sent, shown in cases.items():
            c = self.client({"name": sent})
            self.assertTrue(c.sio.call("talk", {"on": True}, timeout=5)["granted"])
            talkers[c.sid] = shown
        self.assertTrue(wait_until(lambda: watcher.states and
                                   len(watcher.states[-1]["talkers"]) == len(cases), 3))
        got = {t["id"]: t["name"] for t in watcher.states[-1]["talkers"]}
        self.assertEqual(got, talkers)
        for name in got.values():
            self.assertLessEqual(len(name.encode()), NAME_LIMIT)
        self.assert_still_serving()
        self.stop_cleanly()

    def test_bad_connect_auth_gets_connect_error(self):
        self.start_daemon()
        # Not an object at all: the Socket.IO framing itself refuses the
        # packet (as the reference server does) and closes that session.
        for auth in ['5', '"Ann"', '[1]', '["name","Ann"]', 'true', 'null']:
            with self.subTest(auth=auth):
                r = self.raw(connect=False)
                with self.assertRaises(wire.Closed, msg=f"CONNECT {auth} was answered"):
                    r.connect(auth)
                r.close()
        # An object with wrong fields: CONNECT_ERROR with a message, session kept.
        bad = ['{"name":5}', '{"name":["Ann"]}',
               '{"name":{"first":"Ann"}}', '{"token":1}', '{"token":["x"]}', '{"token":{}}',
               '{"name":true,"token":"x"}', '{"name":"Ann","token":false}']
        for auth in bad:
            with self.subTest(auth=auth):
                r = self.raw(connect=False)
                answer = r.connect(auth)
                self.assertTrue(answer.startswith("4"), f"CONNECT {auth} answered {answer!r}")
                error = json.loads(answer[1:])
                self.assertIsInstance(error, dict)
                self.assertIsInstance(error.get("message"), str)
                self.assertTrue(error["message"])
                r.close()
        for auth in [None, "{}", '{"name":"Ann"}', '{"name":"Ann","other":[1,{"x":2}]}']:
            with self.subTest(auth=auth):
                r = self.raw(connect=False)
                answer = r.connect(auth)
                self.assertTrue(answer.startswith("0{"), f"CONNECT {auth} answered {answer!r}")
                self.assertTrue(r.gets_audio(), "no audio after a good CONNECT")
                r.close()
        self.assert_still_serving()
        self.stop_cleanly()

    # -------------------------------------------------- events with an ack

    def test_wrong_shapes_on_events_with_an_ack_get_an_error_ack(self):
        self.start_daemon()
        r = self.raw()
        talk_cases = [[], [{"on": "yes"}], [{"on": 1}], [{"on": None}], [{}], [None], ["on"],
                      [True], [[True]], [{"off": True}], [{"on": {"on": True}}]]
        for ack, args in enumerate(talk_cases, start=1):
            with self.subTest(event="talk", args=args):
                reply = r.call("talk", *args, ack=ack)
                self.assertEqual(len(reply), 1, reply)
                answer = reply[0]
                self.assertIsInstance(answer, dict, reply)
                self.assertIsInstance(answer.get("error"), str, reply)
                self.assertTrue(answer["error"])
                self.assertIs(answer.get("granted"), False, reply)
                self.assertIn("holder", answer, reply)
                self.assertIsNone(answer["holder"], reply)
                self.assertIsInstance(answer.get("reason"), str, reply)
        config_cases = [[1], ["x"], [{}], [None], [[]], [{"a": 1}, 2]]
        for ack, args in enumerate(config_cases, start=100):
            with self.subTest(event="get_config", args=args):
                reply = r.call("get_config", *args, ack=ack)
                self.assertEqual(len(reply), 1, reply)
                self.assertIsInstance(reply[0], dict, reply)
                self.assertIsInstance(reply[0].get("error"), str, reply)
        # The session is still open and works.
        self.assertEqual(r.call("get_config", ack=7)[0]["codec"], "opus")
        self.assertEqual(r.call("talk", {"on": True}, ack=8)[0],
                         {"granted": True, "holder": None})
        self.assertTrue(r.gets_audio())
        self.assert_still_serving()
        self.stop_cleanly()

    # ----------------------------------------------- events without an ack

    def test_wrong_shapes_without_an_ack_close_the_session(self):
        self.start_daemon()
        bystander = self.client()
        opus = tone_packets(1000, 0.2)[3]
        placeholder = {"_placeholder": True, "num": 0}
        def event(args, ack=""):
            return "2" + str(ack) + json.dumps(args, separators=(",", ":"))

        def mic(meta):  # a binary event with one attachment
            return "51-" + json.dumps(["mic", meta, placeholder], separators=(",", ":"))

        # Each: (what, Socket.IO packet after the Engine.IO "4", binary attachments).
        cases = [
            ("levels on a string", event(["levels", {"on": "yes"}]), []),
            ("levels on a number", event(["levels", {"on": 1}]), []),
            ("levels on null", event(["levels", {"on": None}]), []),
            ("levels without arguments", event(["levels"]), []),
            ("levels with a number", event(["levels", 1]), []),
            ("levels with a list", event(["levels", [{"on": True}]]), []),
            # Where an ack could carry the error but there is no ack id.
            ("talk on a string without an ack id", event(["talk", {"on": "yes"}]), []),
            ("talk without arguments or ack id", event(["talk"]), []),
            ("get_config with an argument and no ack id", event(["get_config", 1]), []),
            ("mic without a binary", event(["mic", {"seq": 1}]), []),
            ("mic without arguments", event(["mic"]), []),
            ("mic with a string for the packet", event(["mic", {"seq": 1}, "AAAA"]), []),
            ("mic with a negative seq", mic({"seq": -1}), [opus]),
            ("mic with a fractional seq", mic({"seq": 1.5}), [opus]),
            ("mic with a string seq", mic({"seq": "1"}), [opus]),
            ("mic with a list for metadata", mic([1]), [opus]),
            ("mic with bytes that are not Opus", mic({"seq": 1}), [b"\xff\xff\xff"]),
            ("mic with an empty packet", mic({"seq": 1}), [b""]),
            ("mic with a 2.5 ms packet", mic({"seq": 1}), [b"\x80" + b"\x00" * 20]),
            ("mic with a 120 ms packet", mic({"seq": 1}),
             [bytes([(opus[0] & 0xFC) | 3, 6]) + b"\x00" * 60]),
            ("mic over 4000 bytes", mic({"seq": 1}), [opus + b"\x00" * (4001 - len(opus))]),
        ]
        before = self.invalid_events()
        warnings = self.warnings()
        closed = 0
        for what, packet, binaries in cases:
            with self.subTest(what):
                r = self.raw()
                # Allowed to talk, so a mic packet is checked, not just refused.
                self.assertTrue(r.call("talk", {"on": True}, ack=1)[0]["granted"])
                r.sio(packet)
                for b in binaries:
                    r.binary(b)
                code = r.closed_within(3)
                self.assertTrue(code, f"{what}: the session stayed open")
                closed += 1
                r.close()
        self.assertEqual(self.invalid_events() - before, len(cases))
        self.assertGreaterEqual(self.warnings() - warnings, len(cases), "a warning per session")
        self.assertFalse(bystander.gone.is_set(), "the bystander was closed")
        seen = len(bystander.audio)
        self.assertTrue(wait_until(lambda: len(bystander.audio) >= seen + 10, 3))
        self.assert_still_serving()
        self.stop_cleanly()

    def test_unknown_events_are_ignored_and_counted(self):
        self.start_daemon()
        r = self.raw()
        before = self.counter("clubvoice_unknown_events_total", "unknown_events")
        names = ["nope", "TALK", "talk ", "Levels", "mic2", "🎤", "a" * 1000, "get_config\u0000"]
        for name in names:
            r.emit(name, {"on": "yes"}, 5, None)
        r.emit("nope", ack=3)
        self.assertEqual(r.call("get_config", ack=4)[0]["codec"], "opus")
        self.assertTrue(wait_until(lambda: self.counter("clubvoice_unknown_events_total",
                                                        "unknown_events") - before
                                   >= len(names) + 1, 3))
        self.assertTrue(r.gets_audio())
        self.assertEqual(self.invalid_events(), 0)
        self.assert_still_serving()
        self.stop_cleanly()

    # ------------------------------------------------ oversized WebSocket frames

    def close_code_after(self, data, wait=5.0):
        """Sends data on a joined WebSocket; (close code or None, seconds
        from the last byte sent to the close frame or EOF, None if neither
        came within `wait`)."""
        s, rest = open_upgraded(self.d.port)
        self.addCleanup(s.close)
        buf = bytearray(rest)
        frames, buf = server_frames(buf)
        while not any(op == 1 and p.startswith(b"0{") for op, p in frames):
            buf += s.recv(4096)
            frames, buf = server_frames(buf)
        s.sendall(client_frame(1, b"40"))
        s.sendall(data)
        sent = time.monotonic()
        s.settimeout(0.1)
        while time.monotonic() - sent < wait:
            try:
                chunk = s.recv(65536)
            except TimeoutError:
                continue
            except ConnectionResetError:
                return None, time.monotonic() - sent
            if not chunk:
                return None, time.monotonic() - sent
            buf += chunk
            frames, buf = server_frames(buf)
            for opcode, payload in frames:
                if opcode == 8:
                    code = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else None
                    return code, time.monotonic() - sent
        return None, None

    def test_frames_declaring_more_than_max_payload_are_closed_at_once(self):
        self.start_daemon()
        bystander = self.client()
        cases = [
            ("text frame of 2^62 bytes", frame_header(1, 2 ** 62) + b"4abcdefg"),
            ("binary frame of 2^62 bytes", frame_header(2, 2 ** 62) + b"\x01\x02\x03\x04"),
            ("text frame of 2^63-1 bytes", frame_header(1, 2 ** 63 - 1) + b"42[\"talk\""),
            ("text frame one byte over max payload",
             frame_header(1, MAX_PAYLOAD + 1) + b"42[\"levels\""),
        ]
        for what, data in cases:
            with self.subTest(what):
                code, took = self.close_code_after(data)
                self.assertIsNotNone(took, f"{what}: still open 5 s later")
                self.assertEqual(code, 1009, f"{what}: closed without close code 1009")
                print(f"{what}: closed with {code} after {took * 1000:.0f} ms")
                self.assertLess(took, PROMPT_CLOSE_S)
        # A message over max payload in fragments, each under it.
        half = b"4" + b"a" * (MAX_PAYLOAD // 2 + 10)
        code, took = self.close_code_after(client_frame(1, half, fin=False) +
                                           client_frame(0, half[1:], fin=True))
        self.assertEqual(code, 1009, "fragments over max payload")
        self.assertFalse(bystander.gone.is_set())
        self.assert_still_serving()
        self.stop_cleanly()


if __name__ == "__main__":
    unittest.main(verbosity=2)
