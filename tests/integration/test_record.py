"""record.*: the room recorded to Ogg Opus files, read back with real tools.
With a 2 s segment_s, 6 s of recording and SIGTERM give back-to-back files
named by their UTC start time; each one ffprobe reads as Opus at 48 kHz and
ffmpeg decodes to the room's 440 Hz, each is a complete Ogg stream (pages
from 0, correct CRCs, the end-of-stream flag on its last page), and together
they last the recorded time within 1.5 s. keep_days deletes an old recording
and leaves other files alone. A SIGKILL'ed daemon leaves a file ffmpeg still
decodes. A directory that cannot be made, and a disk that is full (file names
that lead to /dev/full), stop recording with one error line and a /health
detail while listeners keep their stream; a reload after the fix records
again. A reload turns recording on and off, the last file complete."""

import os
import re
import signal
import struct
import subprocess
import sys
import time
import unittest
from datetime import datetime, timedelta, timezone

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from harness import Daemon, wait_until  # noqa: E402
from test_http_stream import dominant, ogg_pages, read_stream  # noqa: E402
from wire import parse_metrics  # noqa: E402

RATE = 48000
NAME = re.compile(r"^\d{8}T\d{6}Z\.opus$")
BOS, EOS = 0x02, 0x04


def recordings(path):
    return sorted(n for n in os.listdir(path) if NAME.match(n))


def probe(path):
    p = subprocess.run(["ffprobe", "-v", "error", "-show_entries",
                        "stream=codec_name,sample_rate,channels", "-of", "csv=p=0", path],
                       capture_output=True, text=True, timeout=20)
    return p.returncode, p.stdout.strip(), p.stderr


def decode(path):
    p = subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-i", path,
                        "-f", "s16le", "-ac", "1", "-ar", str(RATE), "-"],
                       capture_output=True, timeout=20)
    return np.frombuffer(p.stdout, dtype="<i2"), p.stderr.decode(errors="replace")


def read_pages(path):
    with open(path, "rb") as f:
        data = f.read()
    return ogg_pages(data), len(data)


def played_seconds(pages):
    """The audio a complete or cut Ogg Opus stream holds: last granule less
    the pre-skip (OpusHead bytes 10-11)."""
    pre_skip = struct.unpack_from("<H", pages[0][4], 10)[0]
    return (pages[-1][1] - pre_skip) / RATE


class Record(unittest.TestCase):
    def health(self, d):
        status, body = d.get_json("/health")
        return status, body

    def check_complete(self, path, name):
        pages, size = read_pages(path)
        self.assertGreater(len(pages), 2, name)
        consumed = sum(27 + len(p[4]) for p in pages)
        self.assertEqual([p[3] for p in pages], list(range(len(pages))), name)
        self.assertEqual(pages[0][0] & BOS, BOS, name)
        self.assertEqual(pages[0][4][:8], b"OpusHead", name)
        self.assertEqual(pages[1][4][:8], b"OpusTags", name)
        self.assertEqual(pages[-1][0] & EOS, EOS, f"{name}: no end-of-stream page")
        self.assertTrue(all(p[0] & EOS == 0 for p in pages[:-1]), name)
        self.assertEqual(len({p[2] for p in pages}), 1, name)
        granules = [p[1] for p in pages[2:]]
        self.assertEqual(granules, sorted(granules), name)
        self.assertLessEqual(consumed, size)
        code, out, err = probe(path)
        self.assertEqual(code, 0, err)
        self.assertEqual(out, "opus,48000,1", name)
        pcm, err = decode(path)
        self.assertGreater(len(pcm), RATE // 2, err)
        hz, rms_db = dominant(pcm[RATE // 10:])
        self.assertAlmostEqual(hz, 440, delta=2, msg=name)
        self.assertGreater(rms_db, -30, name)
        return played_seconds(pages)

    def test_segments_after_sigterm_are_complete_back_to_back_and_old_ones_go(self):
        d = Daemon()
        self.addCleanup(d.close)
        rec = os.path.join(d.dir.name, "rec")
        os.makedirs(rec)
        old = os.path.join(rec, "20200101T000000Z.opus")
        mine = os.path.join(rec, "notes.opus")
        for path in (old, mine):
            with open(path, "wb") as f:
                f.write(b"not a recording")
        os.utime(old, (1577836800, 1577836800))
        d.write_config(d.default_config(
            extra=f"record: {{enabled: true, dir: {rec}, segment_s: 2, keep_days: 30}}\n"))
        d.start()
        began = time.monotonic()
        self.assertTrue(wait_until(lambda: recordings(rec), 3), os.listdir(rec))
        status = d.get_json("/status")[1]["record"]
        self.assertEqual(status["enabled"], True)
        self.assertEqual(status["state"], "recording")
        self.assertRegex(status["file"], NAME)
        self.assertEqual(self.health(d)[1]["record"], "up")
        time.sleep(max(0.0, 6 - (time.monotonic() - began)))
        status = d.get_json("/status")[1]["record"]
        self.assertGreater(status["pages"], 10)
        self.assertGreater(status["bytes"], 1000)
        self.assertEqual(status["dropped"], 0)
        self.assertEqual(status["errors"], 0)
        self.assertEqual(status["deleted"], 1)
        stopped = time.monotonic()
        self.assertEqual(d.stop(), 0, d.stderr())
        recorded = stopped - began

        self.assertFalse(os.path.exists(old), "keep_days left a 2020 recording")
        self.assertTrue(os.path.exists(mine), "retention deleted a file it did not name")
        names = recordings(rec)
        self.assertGreaterEqual(len(names), 3, names)
        starts = [datetime.strptime(n, "%Y%m%dT%H%M%SZ.opus").replace(tzinfo=timezone.utc)
                  for n in names]
        now = datetime.now(timezone.utc)
        self.assertLess(abs(starts[0] - (now - timedelta(seconds=recorded))),
                        timedelta(seconds=3), names)
        for a, b in zip(starts, starts[1:]):
            self.assertLessEqual(abs((b - a).total_seconds() - 2), 1, names)
        seconds = [self.check_complete(os.path.join(rec, n), n) for n in names]
        for n, s in zip(names[:-1], seconds[:-1]):  # full segments, back to back
            self.assertAlmostEqual(s, 2.0, delta=0.03, msg=n)
        self.assertAlmostEqual(sum(seconds), recorded, delta=1.5, msg=seconds)

    def test_a_killed_daemon_leaves_a_playable_file(self):
        d = Daemon()
        self.addCleanup(d.close)
        rec = os.path.join(d.dir.name, "rec", "room")  # both made by the daemon
        d.write_config(d.default_config(extra=f"record: {{enabled: true, dir: {rec}}}\n"))
        d.start()
        time.sleep(3.5)
        d.proc.kill()
        d.proc.wait()
        self.assertEqual(oct(os.stat(rec).st_mode & 0o777), oct(0o750))
        self.assertEqual(oct(os.stat(os.path.dirname(rec)).st_mode & 0o777), oct(0o750))
        names = recordings(rec)
        self.assertEqual(len(names), 1, names)
        path = os.path.join(rec, names[0])
        pages, _ = read_pages(path)
        self.assertFalse(pages[-1][0] & EOS)
        self.assertGreater(played_seconds(pages), 1.5)
        code, out, err = probe(path)
        self.assertEqual((code, out), (0, "opus,48000,1"), err)
        pcm, err = decode(path)
        self.assertGreater(len(pcm), RATE * 3 // 2, err)
        self.assertAlmostEqual(dominant(pcm[RATE // 10:])[0], 440, delta=2)

    def test_a_reload_starts_and_stops_recording(self):
        d = Daemon()
        self.addCleanup(d.close)
        rec = os.path.join(d.dir.name, "rec")
        d.write_config(d.default_config(extra=f"record: {{enabled: false, dir: {rec}}}\n"))
        d.start()
        self.assertNotIn("record", self.health(d)[1])
        self.assertEqual(d.get_json("/status")[1]["record"]["state"], "off")
        d.write_config(d.default_config(extra=f"record: {{enabled: true, dir: {rec}}}\n"))
        d.signal(signal.SIGHUP)
        self.assertTrue(wait_until(lambda: os.path.isdir(rec) and recordings(rec), 5))
        self.assertEqual(self.health(d)[1]["record"], "up")
        time.sleep(2)
        d.write_config(d.default_config(extra=f"record: {{enabled: false, dir: {rec}}}\n"))
        d.signal(signal.SIGHUP)
        self.assertTrue(wait_until(
            lambda: d.get_json("/status")[1]["record"]["state"] == "off", 5))
        time.sleep(0.5)  # the writer closes the file
        names = recordings(rec)
        self.assertEqual(len(names), 1, names)
        seconds = self.check_complete(os.path.join(rec, names[0]), names[0])
        self.assertAlmostEqual(seconds, 2, delta=1)
        self.assertEqual(d.stop(), 0)
        self.assertEqual(recordings(rec), names)

    def assert_down_but_serving(self, d, problem):
        self.assertTrue(wait_until(lambda: "recording stopped" in d.stderr(), 5), d.stderr())
        status, health = self.health(d)
        self.assertEqual(status, 200, health)
        self.assertEqual(health["status"], "degraded", health)
        self.assertTrue(health["record"].startswith("down: "), health)
        self.assertIn(problem, health["record"])
        record = d.get_json("/status")[1]["record"]
        self.assertEqual(record["state"], "down")
        self.assertGreaterEqual(record["errors"], 1)
        metrics = parse_metrics(d.get("/metrics")[2].decode())
        self.assertEqual(metrics["clubvoice_record_up"], 0)
        # Listeners are not held up: the stream goes on in real time.
        stream = read_stream(d.port, 1.0)
        self.assertGreater(len(ogg_pages(stream)), 10)
        time.sleep(1)
        lines = [line for line in d.stderr().splitlines() if "recording stopped" in line]
        self.assertEqual(len(lines), 1, d.stderr())
        self.assertIn(problem, lines[0])

    def test_a_directory_that_cannot_be_made_is_one_error_line_and_a_health_detail(self):
        d = Daemon()
        self.addCleanup(d.close)
        blocker = os.path.join(d.dir.name, "blocker")
        with open(blocker, "w") as f:
            f.write("a file where the directory should be\n")
        rec = os.path.join(blocker, "rec")
        d.write_config(d.default_config(extra=f"record: {{enabled: true, dir: {rec}}}\n"))
        d.start()
        self.assert_down_but_serving(d, "Not a directory")
        # The operator makes room and reloads: recording works again at once.
        os.unlink(blocker)
        d.signal(signal.SIGHUP)
        self.assertTrue(wait_until(lambda: "recording again" in d.stderr(), 5), d.stderr())
        self.assertEqual(self.health(d)[1]["record"], "up")
        self.assertEqual(self.health(d)[1]["status"], "ok")
        self.assertEqual(len(recordings(rec)), 1)
        time.sleep(1.5)
        self.assertEqual(d.stop(), 0)
        self.check_complete(os.path.join(rec, recordings(rec)[0]), "after the fix")

    def test_a_full_disk_is_one_error_line_and_a_health_detail(self):
        d = Daemon()
        self.addCleanup(d.close)
        rec = os.path.join(d.dir.name, "full")
        os.makedirs(rec)
        # Every name the next files may take leads to /dev/full: writes fail
        # with ENOSPC, as on a full disk, for root too.
        now = datetime.now(timezone.utc).replace(microsecond=0)
        for s in range(-2, 40):
            name = (now + timedelta(seconds=s)).strftime("%Y%m%dT%H%M%SZ.opus")
            os.symlink("/dev/full", os.path.join(rec, name))
        d.write_config(d.default_config(extra=f"record: {{enabled: true, dir: {rec}}}\n"))
        d.start()
        self.assert_down_but_serving(d, "No space left on device")
        self.assertEqual(d.stop(), 0, d.stderr())
        self.assertTrue(all(os.path.islink(os.path.join(rec, n)) for n in os.listdir(rec)))


if __name__ == "__main__":
    unittest.main(verbosity=2)
