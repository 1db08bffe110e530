"""Talking back end to end: stock python3-socketio clients take the floor and
send Opus `mic` packets (made by tests/tools/opus_packets from a tone); the
daemon decodes, mixes and plays them on the ALSA `file` playback device, and
the test reads what was played from that file. Floor control in half mode,
two talkers mixed in full mode, packet loss concealed, bad and flooding
clients closed alone, room ducking and muting the floor holder."""

import json
import os
import struct
import subprocess
import sys
import threading
import time
import unittest

import numpy as np
import socketio

sys.path.insert(0, os.path.dirname(__file__))
from harness import OPUS_PACKETS, Daemon, tone_packets, wait_until  # noqa: E402

OPUS_TONE = os.environ.get("OPUS_TONE", "build/tests/opus-tone")
RATE = 48000
BUFFER_MS = 40  # audio.buffer_ms: the device's own delay, ahead of what the file shows


def spectrum_peak(x, lo=50, hi=4000):
    """The strongest frequency of x (Hz) and the share of the energy in
    lo..hi that lies within 30 Hz of it."""
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / RATE)
    band = (freqs >= lo) & (freqs <= hi)
    peak = freqs[np.argmax(np.where(band, spec, 0))]
    near = band & (np.abs(freqs - peak) < 30)
    return peak, spec[near].sum() / max(spec[band].sum(), 1e-20)


def band_energy(x, hz, width=30):
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / RATE)
    return spec[(freqs > hz - width) & (freqs < hz + width)].sum() / max(spec.sum(), 1e-20)


class Client:
    """A python3-socketio client that can talk."""

    def __init__(self, port, name=None):
        self.states = []
        self.audio = []  # (monotonic s, opus bytes)
        self.gone = threading.Event()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("talk_state", self.states.append)
        self.sio.on("audio", lambda meta, data: self.audio.append((time.monotonic(), data)))
        self.sio.on("disconnect", lambda *a: self.gone.set())
        self.sio.connect(f"http://127.0.0.1:{port}", transports=["websocket"],
                         auth={"name": name} if name else None, wait_timeout=5)

    @property
    def sid(self):
        return self.sio.get_sid("/")

    def talk(self, on):
        return self.sio.call("talk", {"on": on}, timeout=5)

    def send(self, packets, skip=lambda i: False, interval=0.02):
        """Sends packets in real time, numbered by their index; skipped ones
        leave a gap in seq as a lost packet would."""
        start = time.monotonic()
        for i, p in enumerate(packets):
            if self.gone.is_set():
                return
            if not skip(i):
                self.sio.emit("mic", ({"seq": i}, p))
            delay = start + (i + 1) * interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)

    def close(self):
        if self.sio.connected:
            self.sio.disconnect()


class Talk(unittest.TestCase):
    def start_daemon(self, extra=""):
        self.daemon = Daemon()
        self.daemon.write_config(self.daemon.default_config(extra=extra))
        self.daemon.start()
        self.addCleanup(self.daemon.close)
        self.clients = []
        wait_until(lambda: self.played_samples() > RATE // 10, 5)  # playback is running
        return self.daemon

    def client(self, name=None):
        c = Client(self.daemon.port, name)
        self.clients.append(c)
        self.addCleanup(c.close)
        return c

    def played_samples(self):
        try:
            return os.path.getsize(self.daemon.playback_path) // 2
        except FileNotFoundError:
            return 0

    def played(self, start=0):
        x = np.fromfile(self.daemon.playback_path, dtype="<i2")[start:]
        return x.astype(np.float64) / 32768.0

    def talk_status(self):
        return self.daemon.get_json("/status")[1]["talk"]

    def test_tone_reaches_the_playback_device_within_200_ms(self):
        self.start_daemon()
        c = self.client("Anna")
        answer = c.talk(True)
        self.assertEqual(answer, {"granted": True, "holder": None})
        packets = tone_packets(1000, 2.0)
        start = self.played_samples()
        c.send(packets)
        time.sleep(0.3)
        x = self.played(start)
        blocks = x[:len(x) // 480 * 480].reshape(-1, 480)
        loud = np.nonzero(np.sqrt((blocks ** 2).mean(axis=1)) > 0.05)[0]
        self.assertGreater(len(loud), 0, "nothing was played")
        onset_ms = loud[0] * 10
        delay_ms = onset_ms + BUFFER_MS
        print(f"first mic frame to the playback device: {delay_ms} ms "
              f"(in the file after {onset_ms} ms, plus the {BUFFER_MS} ms device buffer)")
        self.assertLessEqual(delay_ms, 200)
        body = x[loud[0] * 480 + 4800:loud[0] * 480 + 4800 + RATE]
        hz, share = spectrum_peak(body)
        self.assertAlmostEqual(hz, 1000, delta=15)
        self.assertGreater(share, 0.8)
        status = self.talk_status()
        print("talk status:", json.dumps(status))
        self.assertEqual(status["mic_packets"], len(packets))
        self.assertLessEqual(status["mic_to_ring_ms"]["max"], 150)
        self.assertEqual(status["jitter"]["lost"], 0)

    def test_two_talkers_are_mixed_without_clipping(self):
        self.start_daemon()
        a, b = self.client("low"), self.client("high")
        self.assertTrue(a.talk(True)["granted"])
        self.assertTrue(b.talk(True)["granted"])
        # Each nearly full scale: their sum needs the limiter.
        low, high = tone_packets(500, 2.0, 0.8), tone_packets(1500, 2.0, 0.8)
        start = self.played_samples()
        threads = [threading.Thread(target=c.send, args=(p,)) for c, p in ((a, low), (b, high))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        time.sleep(0.3)
        x = self.played(start)
        loud = np.nonzero(np.abs(x) > 0.1)[0]
        body = x[loud[0] + 9600:loud[0] + 9600 + RATE]
        self.assertGreater(band_energy(body, 500), 0.25)
        self.assertGreater(band_energy(body, 1500), 0.25)
        peak = np.abs(x).max()
        print(f"two talkers at 0.8 each: peak {peak:.3f} of full scale")
        self.assertLess(peak, 0.9)  # the limiter's ceiling is -1 dBFS (0.891)
        wait_until(lambda: a.states and len(a.states[-1]["talkers"]) == 2, 3)
        self.assertEqual({t["name"] for t in a.states[-1]["talkers"]}, {"low", "high"})
        self.assertIsNone(a.states[-1]["floor"])

    def test_half_mode_gives_the_floor_to_one_talker(self):
        self.start_daemon("  mode: half\n")
        a, b, watcher = self.client("Anna"), self.client("Bo"), self.client()
        first = a.talk(True)
        self.assertTrue(first["granted"])
        self.assertEqual(first["holder"], {"id": a.sid, "name": "Anna"})
        refused = b.talk(True)
        self.assertFalse(refused["granted"])
        self.assertEqual(refused["holder"]["id"], a.sid)
        self.assertEqual(refused["reason"], "the floor is held by Anna")
        wait_until(lambda: watcher.states and watcher.states[-1]["floor"], 3)
        self.assertEqual(watcher.states[-1]["floor"], {"id": a.sid, "name": "Anna"})

        # Bo's packets while Anna holds the floor are counted and never played.
        start = self.played_samples()
        b.send(tone_packets(1500, 0.5))
        time.sleep(0.3)
        self.assertLess(np.abs(self.played(start)).max(), 0.01)
        self.assertGreaterEqual(self.talk_status()["mic_refused"], 24)

        self.assertEqual(a.talk(False), {"granted": False, "holder": None})
        self.assertTrue(b.talk(True)["granted"])
        self.assertFalse(a.talk(True)["granted"])
        b.close()
        wait_until(lambda: watcher.states and watcher.states[-1]["floor"] is None, 3)
        self.assertTrue(a.talk(True)["granted"])  # the floor is free once Bo left

    def test_silent_floor_holder_is_released(self):
        self.start_daemon("  mode: half\ntalk: {floor_silence_s: 1}\n")
        a, b = self.client("Anna"), self.client("Bo")
        self.assertTrue(a.talk(True)["granted"])
        started = time.monotonic()
        wait_until(lambda: a.states and a.states[-1]["floor"] is None, 4)
        self.assertGreater(time.monotonic() - started, 0.9)
        self.assertTrue(b.talk(True)["granted"])
        self.assertEqual(self.talk_status()["floor_timeouts"], 1)

    def test_listen_mode_refuses_talkers(self):
        self.start_daemon("  mode: listen\n")
        c = self.client()
        self.assertEqual(c.talk(True), {"granted": False, "holder": None,
                                        "reason": "this room is listen-only"})
        start = self.played_samples()
        c.send(tone_packets(1000, 0.4))
        time.sleep(0.2)
        self.assertLess(np.abs(self.played(start)).max(), 0.01)
        self.assertEqual(self.talk_status()["mic_refused"], 20)

    def test_lost_packets_are_concealed_without_gaps(self):
        # A deeper buffer than the default, so a busy test machine's late
        # packets are not mistaken for the loss under test.
        self.start_daemon("talk: {jitter_target_ms: 100}\n")
        c = self.client()
        self.assertTrue(c.talk(True)["granted"])
        packets = tone_packets(1000, 3.0, bursts=False)
        start = self.played_samples()
        c.send(packets, skip=lambda i: i % 10 == 9)
        time.sleep(0.3)
        x = self.played(start)
        loud = np.nonzero(np.abs(x) > 0.1)[0]
        tone = x[loud[0]:loud[-1]]
        self.assertGreater(len(tone), 2.5 * RATE)
        # No stretch of near silence longer than one 20 ms frame inside the tone.
        blocks = tone[:len(tone) // 240 * 240].reshape(-1, 240)  # 5 ms
        quiet = np.sqrt((blocks ** 2).mean(axis=1)) < 0.02
        longest, run = 0, 0
        for q in quiet:
            run = run + 1 if q else 0
            longest = max(longest, run)
        print(f"every 10th packet lost: longest quiet stretch {longest * 5} ms")
        self.assertLessEqual(longest * 5, 20)
        hz, _ = spectrum_peak(tone[:RATE])
        self.assertAlmostEqual(hz, 1000, delta=15)
        j = self.talk_status()["jitter"]
        print("jitter counters:", json.dumps(j))
        self.assertGreaterEqual(j["lost"], 14)
        self.assertEqual(j["lost"], j["fec_recovered"] + j["concealed"])
        self.assertGreater(j["fec_recovered"], 0)

    def test_bad_mic_packets_close_only_their_client(self):
        self.start_daemon()
        good = self.client("good")
        self.assertTrue(good.talk(True)["granted"])
        sender = threading.Thread(target=good.send, args=(tone_packets(1000, 4.0),))
        start = self.played_samples()
        sender.start()
        bad_inputs = [
            ("not Opus", ({"seq": 0}, b"\x03")),
            ("oversize", ({"seq": 0}, b"\xfc" + bytes(5000))),
            ("no packet", ({"seq": 0},)),
            ("bad seq", ({"seq": "x"}, tone_packets(1000, 0.02)[0])),
        ]
        for what, args in bad_inputs:
            bad = self.client(what)
            self.assertTrue(bad.talk(True)["granted"])
            bad.sio.emit("mic", args)
            self.assertTrue(bad.gone.wait(3), f"{what}: the client was not closed")
        # A flood: packets as fast as the client can send them (1,000 a second
        # asked for) of a loud 300 Hz tone, 20 ms each.
        flood = self.client("flood")
        self.assertTrue(flood.talk(True)["granted"])
        loud = tone_packets(300, 40.0, 0.9)
        flood.send(loud, interval=0.001)
        self.assertTrue(flood.gone.wait(3), "the flooding client was not closed")
        sender.join()
        time.sleep(0.3)
        self.assertFalse(good.gone.is_set())
        status = self.talk_status()
        print("after bad input:", json.dumps(status))
        self.assertEqual(self.daemon.get_json("/status")[1]["server"]["invalid_events"], 4)
        self.assertEqual(status["flood_disconnects"], 1)
        # The good talker is heard throughout, nothing clips, and the flood got
        # no more than its one second of real-time budget into the room.
        x = self.played(start)
        onset = np.nonzero(np.abs(x) > 0.1)[0][0]
        body = x[onset + 4800:onset + 4800 + 3 * RATE]
        blocks = body[:len(body) // 4800 * 4800].reshape(-1, 4800)  # 100 ms
        t = np.arange(4800) / RATE

        def amplitude(block, hz):
            return 2 * abs(np.dot(block, np.exp(-2j * np.pi * hz * t))) / len(block)

        good_tone = [amplitude(b, 1000) for b in blocks]
        flood_tone = [amplitude(b, 300) for b in blocks]
        print("1 kHz per 100 ms:", " ".join(f"{a:.2f}" for a in good_tone))
        print("300 Hz per 100 ms:", " ".join(f"{a:.2f}" for a in flood_tone))
        self.assertGreater(min(good_tone), 0.1)  # 0.3 sent; the limiter yields while the flood plays
        self.assertLessEqual(sum(a > 0.05 for a in flood_tone), 10)
        self.assertLess(np.abs(x).max(), 0.9)
        stderr = self.daemon.stderr()
        self.assertIn("closed: mic: not an Opus packet", stderr)
        self.assertIn("closed: mic: 5001 bytes, more than 4000", stderr)
        self.assertIn("closed: mic: sends audio far faster than real time", stderr)
        self.assertEqual(self.daemon.get("/health")[0], 200)

    def test_room_is_ducked_while_a_talker_is_loud(self):
        self.start_daemon("ducking:\n  room: {enabled: true, gain_db: -20}\n")
        listener = self.client()
        talker = self.client()
        self.assertTrue(talker.talk(True)["granted"])
        time.sleep(1.0)
        t0 = time.monotonic()
        talker.send(tone_packets(1000, 1.5, 0.5))
        t1 = time.monotonic()
        time.sleep(1.5)

        def level(packets):
            data = b"".join(struct.pack("<I", len(p)) + p for p in packets)
            out = subprocess.run([OPUS_TONE], input=data, capture_output=True, check=True)
            return json.loads(out.stdout)["rms_dbfs"]

        before = level([p for t, p in listener.audio if t < t0])
        during = level([p for t, p in listener.audio if t0 + 0.3 < t < t1])
        after = level([p for t, p in listener.audio if t > t1 + 1.0])
        print(f"room level to listeners: before {before:.1f} dBFS, while talking "
              f"{during:.1f}, after {after:.1f}")
        self.assertLess(during, before - 15)
        self.assertAlmostEqual(after, before, delta=2)

    def test_floor_holder_can_be_spared_the_room_audio(self):
        self.start_daemon("  mode: half\ntalk: {mute_floor_holder: true}\n")
        holder = self.client()
        wait_until(lambda: len(holder.audio) > 10, 3)
        self.assertTrue(holder.talk(True)["granted"])
        time.sleep(0.2)
        n = len(holder.audio)
        time.sleep(0.5)
        self.assertLessEqual(len(holder.audio) - n, 1)
        holder.talk(False)
        n = len(holder.audio)
        time.sleep(0.5)
        self.assertGreater(len(holder.audio) - n, 15)


if __name__ == "__main__":
    unittest.main(verbosity=2)
