"""Live listening end to end: a 440 Hz tone enters through the ALSA `file`
plugin, stock python3-socketio clients over WebSocket and over polling get
`audio` events in real time, and libopus (tests/tools/opus_tone) hears
440 Hz in them. A listener that stops reading slows nobody else, loses its
oldest audio (counted) and is cut after a while; the daemon's memory stays
bounded. A capture device that is missing at start appears later and audio
flows without a restart."""

import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time
import unittest

import socketio

sys.path.insert(0, os.path.dirname(__file__))
from harness import Daemon, asoundrc_text, rss_kib, wait_until, write_tone  # noqa: E402

OPUS_TONE = os.environ.get("OPUS_TONE", "build/tests/opus-tone")


def dominant_tone(packets):
    data = b"".join(struct.pack("<I", len(p)) + p for p in packets)
    out = subprocess.run([OPUS_TONE], input=data, capture_output=True, check=True).stdout
    return json.loads(out)


class Listener:
    """A python3-socketio client collecting `audio` events."""

    def __init__(self, port, transports):
        self.events = []  # (arrival monotonic s, seq, t, bytes)
        self.client = socketio.Client(reconnection=False)
        self.client.on("audio", self.on_audio)
        self.client.connect(f"http://127.0.0.1:{port}", transports=transports, wait_timeout=5)

    def on_audio(self, meta, payload):
        self.events.append((time.monotonic(), meta["seq"], meta["t"], payload))

    def close(self):
        self.client.disconnect()


class Listen(unittest.TestCase):
    def check_stream(self, events, seconds):
        self.assertGreater(len(events), 10)
        seqs = [e[1] for e in events]
        self.assertEqual(seqs, list(range(seqs[0], seqs[0] + len(seqs))), "seq has gaps")
        self.assertTrue(all(isinstance(e[3], bytes) and 0 < len(e[3]) < 1500 for e in events))
        # Real time: 50 frames a second of 20 ms (within 15 %), and capture
        # stamps 20 ms apart.
        span = events[-1][0] - events[0][0]
        rate = (len(events) - 1) / span
        self.assertAlmostEqual(rate, 50.0, delta=50.0 * 0.15)
        stamps = [e[2] for e in events]
        step = (stamps[-1] - stamps[0]) / (len(stamps) - 1)
        self.assertAlmostEqual(step, 20.0, delta=3.0)
        self.assertLess(abs(stamps[-1] / 1000.0 - time.time()), 2.0)  # wall-clock ms
        tone = dominant_tone([e[3] for e in events])
        self.assertEqual(tone["dominant_hz"], 440, tone)
        self.assertGreater(tone["rms_dbfs"], -20, tone)

    def test_tone_reaches_websocket_and_polling_listeners(self):
        with Daemon() as d:
            d.start()
            listeners = [Listener(d.port, ["websocket"]), Listener(d.port, ["polling"])]
            try:
                time.sleep(3)
            finally:
                for listener in listeners:
                    listener.close()
            for listener in listeners:
                self.check_stream(listener.events[5:], 3)
            status, info = d.get_json("/status")
            self.assertGreater(info["audio"]["capture"]["frames_total"], 100 * 960)
            status, _, metrics = d.get("/metrics")
            self.assertIn(b"clubvoice_stream_drops_total", metrics)
            self.assertEqual(d.stop(), 0)

    def test_payload_per_listener_within_64_kbit(self):
        # WebSocket payload bytes a listener receives, read off the wire.
        with Daemon() as d:
            d.start()
            ws = socket.create_connection(("127.0.0.1", d.port))
            ws.sendall(b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\n"
                       b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
                       b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                       b"Sec-WebSocket-Version: 13\r\n\r\n")
            reader = ws.makefile("rb")
            while reader.readline() not in (b"\r\n", b""):
                pass

            def frame():
                head = reader.read(2)
                n = head[1] & 0x7F
                if n == 126:
                    n = struct.unpack(">H", reader.read(2))[0]
                elif n == 127:
                    n = struct.unpack(">Q", reader.read(8))[0]
                return head[0] & 0x0F, reader.read(n)

            frame()  # the Engine.IO open packet
            ws.sendall(bytes([0x81, 0x82, 1, 2, 3, 4]) + bytes(b ^ m for b, m in
                                                               zip(b"40", b"\x01\x02")))
            payload = events = 0
            started = None
            while events < 250:  # five seconds of audio
                opcode, data = frame()
                if opcode == 1 and data.startswith(b'451-["audio"'):
                    started = started or time.monotonic()
                    events += 1
                    payload += len(data)
                elif opcode == 2 and started:
                    payload += len(data)
                elif opcode == 1 and data == b"2":
                    ws.sendall(bytes([0x81, 0x81, 1, 2, 3, 4, ord("3") ^ 1]))
            ws.close()
            kbit_s = payload * 8 / 5 / 1000
            print(f"WebSocket payload per listener: {kbit_s:.1f} kbit/s", file=sys.stderr)
            self.assertLessEqual(kbit_s, 64.0)
            self.assertEqual(d.stop(), 0)

    def test_stalled_listener_slows_nobody(self):
        with Daemon() as d:
            d.start()
            # A raw WebSocket client with a tiny receive buffer that joins and
            # then never reads again.
            stalled = socket.socket()
            stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
            stalled.connect(("127.0.0.1", d.port))
            stalled.sendall(b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
                            b"Host: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                            b"Sec-WebSocket-Version: 13\r\n\r\n")
            time.sleep(0.2)
            stalled.sendall(bytes([0x81, 0x82, 1, 2, 3, 4]) + bytes(b ^ m for b, m in
                                                                   zip(b"40", b"\x01\x02")))
            healthy = Listener(d.port, ["websocket"])
            before = rss_kib(d.proc.pid)
            try:
                cut = wait_until(lambda: d.get_json("/status")[1]["server"]["lag_disconnects"] >= 1,
                                 timeout=20, interval=0.5)
            finally:
                healthy.close()
                stalled.close()
            after = rss_kib(d.proc.pid)
            self.assertTrue(cut, "the stalled listener was never cut")
            _, info = d.get_json("/status")
            self.assertGreater(info["server"]["stream_drops"], 0)
            self.check_stream(healthy.events[5:], 10)
            if os.environ.get("CLUBVOICE_SANITIZED") != "1":
                self.assertLess(after - before, 4096, "daemon memory grew")
            self.assertIn("took no audio", d.stderr())
            self.assertEqual(d.stop(), 0)

    def test_capture_device_appears_later(self):
        with Daemon(with_devices=False) as d:
            d.start()
            status, _, body = d.get("/health")
            self.assertEqual(status, 503)
            health = json.loads(body)
            self.assertEqual(health["status"], "down")
            self.assertIn("clubvoice_capture", health["capture"])
            listener = Listener(d.port, ["websocket"])
            try:
                write_tone(d.tone_path, 440, seconds=30)
                d.write_asoundrc(asoundrc_text(d.tone_path, d.playback_path))
                self.assertTrue(wait_until(lambda: d.get("/health")[0] == 200, timeout=15),
                                "capture never came up")
                self.assertTrue(wait_until(lambda: len(listener.events) > 80, timeout=10))
            finally:
                listener.close()
            self.check_stream(listener.events[5:], 1)
            self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
