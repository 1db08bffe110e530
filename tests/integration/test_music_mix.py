"""The music input with real parts. The room (a 440 Hz tone, or espeak-ng's
speech) and the music (a 220 Hz tone) come in through two ALSA `file` PCMs.
A stock python-socketio listener decodes both tones at their levels; the
room's playback file holds the 220 Hz at audio.music.room_gain_db and no
440 Hz; /status, /metrics and /health carry the music input's state; and
with no mpv to turn down, the mixer ducks the music for the room's speech by
the configured amount (mpv's cubic volume curve: (30/50)^3 = -13.3 dB) and
brings it back after the release."""

import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

import numpy as np
import socketio

sys.path.insert(0, os.path.dirname(__file__))
from harness import Daemon, asoundrc_text, wait_until  # noqa: E402
from test_music_ducking import speech, write_raw  # noqa: E402

RATE = 48000
OPUS_TONE = os.environ.get("OPUS_TONE", "build/tests/opus-tone")
DUCK_DB = 20 * np.log10((30 / 50) ** 3)


def sine(hz, seconds, amplitude):
    return amplitude * np.sin(2 * np.pi * hz * np.arange(int(seconds * RATE)) / RATE)


def amplitude_at(x, hz):
    """The amplitude of the `hz` sine in `x` (a projection; exact for a whole window of it)."""
    if len(x) == 0:
        return 0.0
    n = np.arange(len(x))
    return 2 * abs(np.dot(x, np.exp(-2j * np.pi * hz * n / RATE))) / len(x)


def mean_amplitude_at(x, hz, window=RATE // 10):
    """The mean of amplitude_at over short windows: the drift correction moves a
    tone's frequency by a few hundred ppm, which a long projection would smear."""
    return float(np.mean([amplitude_at(x[i:i + window], hz)
                          for i in range(0, len(x) - window + 1, window)]))


def db(a, b):
    return 20 * np.log10(max(a, 1e-9) / max(b, 1e-9))


class Listener:
    """A python3-socketio client keeping the `audio` events' Opus packets by seq."""

    def __init__(self, port):
        self.packets = {}
        self.client = socketio.Client(reconnection=False)
        self.client.on("audio", lambda meta, payload: self.packets.__setitem__(meta["seq"],
                                                                                payload))
        self.client.connect(f"http://127.0.0.1:{port}", transports=["websocket"],
                            wait_timeout=5)

    def sound(self):
        """What the listener heard, decoded by libopus (tests/tools/opus_tone --pcm)."""
        seqs = sorted(self.packets)
        data = b"".join(len(self.packets[s]).to_bytes(4, "little") + self.packets[s]
                        for s in seqs)
        out = subprocess.run([OPUS_TONE, "--pcm"], input=data, capture_output=True,
                             check=True).stdout
        return np.frombuffer(out, dtype="<f4").astype(np.float64)

    def close(self):
        self.client.disconnect()


def playback(d):
    return np.fromfile(d.playback_path, dtype="<i2").astype(np.float64) / 32768


class MusicMix(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="clubvoice-mix-")
        self.addCleanup(self.tmp.cleanup)

    def start_daemon(self, room, music, music_keys="", extra=""):
        d = Daemon()
        self.addCleanup(d.close)
        write_raw(d.tone_path, room)
        music_path = os.path.join(d.dir.name, "music.raw")
        write_raw(music_path, music)
        d.write_asoundrc(asoundrc_text(d.tone_path, d.playback_path) +
                         f'pcm.clubvoice_music {{\n  type file\n  slave.pcm {{ type null }}\n'
                         f'  file "/dev/null"\n  infile "{music_path}"\n  format raw\n}}\n')
        d.write_config(d.default_config(
            extra=f"  music: {{device: clubvoice_music{music_keys}}}\n{extra}"))
        d.start()
        return d

    def test_listeners_hear_room_and_music_and_the_room_hears_the_music(self):
        # A steady tone in the voice band is voice to WebRTC's detector: no ducking here.
        d = self.start_daemon(sine(440, 60, 0.25), sine(220, 60, 0.25),
                              ", gain_db: -6, room_gain_db: -10.5",
                              "ducking:\n  music: {enabled: false}\n")
        listener = Listener(d.port)
        time.sleep(3)
        listener.close()
        heard = listener.sound()[RATE // 2:]  # past the codec's and the bridge's start
        self.assertGreater(len(heard), 2 * RATE)
        room, music = mean_amplitude_at(heard, 440), mean_amplitude_at(heard, 220)
        print(f"listener: 440 Hz at {room:.3f}, 220 Hz at {music:.3f}")

        self.assertAlmostEqual(db(room, 0.25), 0, delta=1.0)
        self.assertAlmostEqual(db(music, 0.25), -6, delta=1.0)

        played = playback(d)[-RATE:]
        self.assertEqual(len(played), RATE)
        print(f"room playback: 220 Hz at {mean_amplitude_at(played, 220):.4f}, "
              f"440 Hz at {mean_amplitude_at(played, 440):.5f}")
        self.assertAlmostEqual(db(mean_amplitude_at(played, 220), 0.25), -10.5, delta=1.0)
        self.assertLess(mean_amplitude_at(played, 440), 0.001)  # the room is not played back

        music_status = d.get_json("/status")[1]["audio"]["music"]
        print("audio.music:", music_status)
        self.assertEqual(music_status["state"], "up")
        self.assertAlmostEqual(music_status["level_dbfs"], 20 * np.log10(0.25 / np.sqrt(2)),
                               delta=1.0)
        self.assertEqual(music_status["listeners"]["underruns_total"], 0)
        self.assertEqual(music_status["room"]["underruns_total"], 0)
        metrics = d.get("/metrics")[2].decode()
        self.assertIn("clubvoice_music_input_up 1", metrics)
        self.assertEqual(d.get_json("/health")[1]["music"], "up")

    @unittest.skipUnless(shutil.which("espeak-ng"), "needs espeak-ng (scripts/install-deps)")
    def test_without_mpv_the_mixer_ducks_the_music_for_the_rooms_voice(self):
        voice = speech(self.tmp.name, "Good evening everyone, and welcome to the club.")
        room = np.concatenate([np.zeros(3 * RATE), voice, np.zeros(30 * RATE)])
        d = self.start_daemon(room, sine(220, 60, 0.25), extra=(
            "ducking:\n  music: {min_duration_ms: 100, release_ms: 2000, "
            "transition_ms: 100, ducked_volume: 30, normal_volume: 50}\n"))
        listener = Listener(d.port)
        seconds = 3 + len(voice) / RATE + 5
        time.sleep(seconds)
        listener.close()
        heard = listener.sound()
        # Find the speech in what the listener heard: energy above 500 Hz (the music has none).
        win = RATE // 20
        spectrum = [np.fft.rfft(heard[i:i + win]) for i in range(0, len(heard) - win, win)]
        band = np.array([np.sum(np.abs(s[25:400]) ** 2) for s in spectrum])  # 500..8000 Hz
        band[:10] = 0  # the music's first samples start with a step
        loud = np.nonzero(band > 100 * np.median(band) + 1e-6)[0]
        self.assertGreater(len(loud), 10, "no speech heard")
        start, end = loud[0] * win, (loud[-1] + 1) * win
        print(f"speech heard from {start / RATE:.2f} s to {end / RATE:.2f} s")

        self.assertGreater(start, 2 * RATE)
        before = mean_amplitude_at(heard[start - int(1.5 * RATE):start - RATE // 2], 220)
        # The release holds the music down for 2 s after the last word; the room is silent.
        ducked = mean_amplitude_at(heard[end + int(0.4 * RATE):end + int(1.4 * RATE)], 220)
        after = mean_amplitude_at(heard[end + int(3.0 * RATE):end + int(4.0 * RATE)], 220)
        print(f"220 Hz: {before:.4f} before, {ducked:.4f} ducked, {after:.4f} after "
              f"({db(ducked, before):.1f} dB, configured {DUCK_DB:.1f} dB)")
        self.assertAlmostEqual(db(before, 0.25), 0, delta=1.0)
        self.assertAlmostEqual(db(ducked, before), DUCK_DB, delta=1.5)
        self.assertAlmostEqual(db(after, before), 0, delta=1.0)

        # The room's playback follows the same envelope.
        played = playback(d)
        levels = [amplitude_at(played[i:i + RATE // 5], 220)
                  for i in range(RATE, len(played) - RATE // 5, RATE // 5)]
        self.assertAlmostEqual(db(min(levels), max(levels)), DUCK_DB, delta=1.5)
        self.assertGreaterEqual(d.get_json("/status")[1]["music"]["ducks"], 1)

    def test_a_missing_music_device_degrades_health_and_is_found_later(self):
        d = Daemon()
        self.addCleanup(d.close)
        d.write_config(d.default_config(extra="  music: {device: clubvoice_music}\n"))
        d.start()
        status, health = d.get_json("/health")
        self.assertEqual((status, health["status"]), (200, "degraded"), health)
        self.assertIn("clubvoice_music", health["music"])
        music_path = os.path.join(d.dir.name, "music.raw")
        write_raw(music_path, sine(220, 60, 0.25))
        d.write_asoundrc(asoundrc_text(d.tone_path, d.playback_path) +
                         f'pcm.clubvoice_music {{\n  type file\n  slave.pcm {{ type null }}\n'
                         f'  file "/dev/null"\n  infile "{music_path}"\n  format raw\n}}\n')
        self.assertTrue(wait_until(lambda: d.get_json("/health")[1].get("music") == "up", 8),
                        d.get_json("/health")[1])
        self.assertEqual(d.get_json("/health")[1]["status"], "ok")
        self.assertEqual(d.stderr().count("music device down"), 1, d.stderr())


if __name__ == "__main__":
    unittest.main(verbosity=2)
