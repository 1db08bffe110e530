"""Music ducking with real parts: a real `mpv --idle --ao=null
--input-ipc-server=SOCKET` holds the music's volume; the room input (the
ALSA `file` plugin) plays speech made by espeak-ng between stretches of
silence. The test reads mpv's `volume` over mpv's own IPC and sees it go to
the ducked volume while the room speaks and back after the release time; a
room of music alone (a 220 Hz tone) or noise never ducks; mpv killed and
started again gets its volume back, with one log line for the outage; and
the daemon gives mpv its normal volume back when it stops."""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import wave

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from harness import Daemon, wait_until  # noqa: E402

RATE = 48000
SENTENCES = ["Good evening everyone, and welcome to the club.",
             "Tonight we have three bands and a raffle at nine.",
             "Please keep the aisles clear and enjoy the music."]


def speech(directory, text):
    """espeak-ng's voice for `text`, as float samples at 48 kHz."""
    path = os.path.join(directory, "speech.wav")
    subprocess.run(["espeak-ng", "-w", path, text], check=True, capture_output=True)
    with wave.open(path) as w:
        rate = w.getframerate()
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64) / 32768
    t = np.arange(int(len(x) * RATE / rate)) / RATE
    y = np.interp(t, np.arange(len(x)) / rate, x)
    return 0.5 * y / max(np.abs(y).max(), 1e-9)


def write_raw(path, x):
    (np.clip(x, -1, 1) * 32767).astype("<i2").tofile(path)


class Mpv:
    """A real mpv that plays nothing, with its JSON IPC socket."""

    def __init__(self, path):
        self.path = path
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            ["mpv", "--idle=yes", "--ao=null", "--no-config", "--volume=100",
             f"--input-ipc-server={self.path}"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert wait_until(lambda: os.path.exists(self.path), 10), "mpv made no IPC socket"

    def volume(self):
        """mpv's volume property, read over its IPC; None while mpv cannot answer."""
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(2)
                s.connect(self.path)
                s.sendall(b'{"command": ["get_property", "volume"], "request_id": 7}\n')
                data = b""
                while True:
                    data += s.recv(4096)
                    for line in data.split(b"\n"):
                        if b'"request_id":7' in line.replace(b" ", b""):
                            return json.loads(line).get("data")
        except OSError:
            return None

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if os.path.exists(self.path):
            os.unlink(self.path)


@unittest.skipUnless(shutil.which("mpv") and shutil.which("espeak-ng"),
                     "needs mpv and espeak-ng (scripts/install-deps)")
class MusicDucking(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="clubvoice-music-")
        self.addCleanup(self.tmp.cleanup)
        self.mpv = Mpv(os.path.join(self.tmp.name, "mpv.sock"))
        self.addCleanup(self.mpv.kill)

    def start_daemon(self, room, extra=""):
        """The daemon with `room` (float samples) as its room input and mpv's socket."""
        d = Daemon()
        self.addCleanup(d.close)
        write_raw(d.tone_path, room)
        d.write_config(d.default_config(
            extra=f"ducking:\n  music: {{min_duration_ms: 100, release_ms: 1000, "
                  f"transition_ms: 100, ducked_volume: 30, normal_volume: 50}}\n"
                  f"mpv: {{ipc_socket: {self.mpv.path}}}\n{extra}"))
        d.start()
        return d

    def timeline(self, seconds):
        """mpv's volume every 50 ms for `seconds`: [(s since start, volume)]."""
        start = time.monotonic()
        out = []
        while time.monotonic() - start < seconds:
            out.append((time.monotonic() - start, self.mpv.volume()))
            time.sleep(0.05)
        return out

    def test_speech_ducks_and_the_music_comes_back_after_the_release(self):
        self.mpv.start()
        gap = np.zeros(3 * RATE)
        voices = [speech(self.tmp.name, s) for s in SENTENCES]
        room = np.concatenate([gap] + [np.concatenate([v, gap]) for v in voices] + [gap] * 10)
        d = self.start_daemon(room)
        # The daemon takes mpv's volume to normal at once.
        self.assertTrue(wait_until(lambda: self.mpv.volume() == 50, 3), self.mpv.volume())
        lines = self.timeline(3 + sum(len(v) / RATE + 3 for v in voices) + 1)
        values = [v for _, v in lines]
        self.assertIn(30, values, f"never ducked: {sorted(set(values))}")
        # Each sentence ducks once, and the music comes back after each.
        ducks = sum(1 for a, b in zip(values, values[1:]) if a != 30 and b == 30)
        self.assertEqual(ducks, len(SENTENCES), values)
        self.assertEqual(values[-1], 50)
        # Ducked for a while each time: at least the release time (1 s of silence
        # after the sentence) on top of the sentence itself.
        ducked_from = [t for (t, v), (_, w) in zip(lines, lines[1:]) if v != 30 and w == 30]
        ducked_to = [t for (t, v), (_, w) in zip(lines, lines[1:]) if v == 30 and w != 30]
        self.assertEqual(len(ducked_to), len(SENTENCES))
        for start, end, voice in zip(ducked_from, ducked_to, voices):
            held = end - start
            print(f"ducked {start:.2f}-{end:.2f} s ({held:.2f} s for {len(voice) / RATE:.2f} s "
                  "of speech)")
            self.assertGreater(held, 1.0)
            self.assertLess(held, len(voice) / RATE + 1.6)
        music = d.get_json("/status")[1]["music"]
        print("music status:", json.dumps(music))
        self.assertEqual(music["ducks"], len(SENTENCES))
        self.assertTrue(music["mpv"]["connected"])

    def test_music_and_noise_in_the_room_never_duck(self):
        self.mpv.start()
        t = np.arange(20 * RATE) / RATE
        rng = np.random.default_rng(5)
        tone = 0.25 * np.sin(2 * np.pi * 220 * t)
        noise = 0.03 * rng.standard_normal(len(t))
        d = self.start_daemon(np.concatenate([tone, noise, tone + noise]))
        self.assertTrue(wait_until(lambda: self.mpv.volume() == 50, 3))
        values = {v for _, v in self.timeline(8)}
        self.assertEqual(values, {50}, "music or noise ducked the music")
        music = d.get_json("/status")[1]["music"]
        self.assertEqual(music["ducks"], 0)
        self.assertGreater(music["room_blocks"], 500)

    def test_mpv_restarted_gets_its_volume_back_with_one_log_line(self):
        self.mpv.start()
        d = self.start_daemon(np.zeros(60 * RATE))
        self.assertTrue(wait_until(lambda: self.mpv.volume() == 50, 3))
        self.assertEqual(d.get_json("/health")[1]["mpv"], "up")
        self.mpv.kill()
        time.sleep(3)  # the daemon retries with a back-off meanwhile
        status, health = d.get_json("/health")
        self.assertEqual((status, health["status"]), (200, "degraded"))
        self.assertTrue(health["mpv"].startswith("down"), health)
        self.mpv.start()  # a new mpv starts at volume 100
        self.assertTrue(wait_until(lambda: self.mpv.volume() == 50, 8),
                        f"control did not come back: {self.mpv.volume()}")
        log = d.stderr()
        self.assertEqual(log.count("mpv: lost the connection"), 1, log)
        self.assertEqual(log.count("mpv: cannot connect"), 0, log)
        metrics = d.get("/metrics")[2].decode()
        self.assertIn("clubvoice_mpv_connects_total 2", metrics)
        self.assertEqual(d.get_json("/health")[1], {"status": "ok", "capture": "up",
                                                   "playback": "up", "mpv": "up"})

    def test_mpv_absent_at_start_is_one_line_and_it_is_found_later(self):
        d = self.start_daemon(np.zeros(60 * RATE))
        time.sleep(2)
        self.mpv.start()
        self.assertTrue(wait_until(lambda: self.mpv.volume() == 50, 8))
        self.assertEqual(d.stderr().count("mpv: cannot connect"), 1, d.stderr())
        self.assertEqual(d.get_json("/health")[1]["status"], "ok")

    def test_stopping_gives_mpv_its_normal_volume_back(self):
        self.mpv.start()
        voice = speech(self.tmp.name, " ".join(SENTENCES))
        d = self.start_daemon(np.concatenate([np.zeros(RATE), voice, np.zeros(30 * RATE)]))
        self.assertTrue(wait_until(lambda: self.mpv.volume() == 30, 6), "never ducked")
        self.assertEqual(d.stop(), 0)
        self.assertTrue(wait_until(lambda: self.mpv.volume() == 50, 2),
                        f"mpv left at {self.mpv.volume()}")


if __name__ == "__main__":
    unittest.main(verbosity=2)
