"""icecast.*: the daemon feeds a real icecast2 (Debian) on a loopback port as
a source. ffprobe reads the mount as Opus at 48 kHz and ffmpeg, reading it
from Icecast, decodes the room's 440 Hz. When Icecast stops, /health says so
(degraded, with the reason) and the daemon keeps serving its own listeners;
when Icecast comes back on the same port, the mount is back within 15 s
without restarting the daemon. A wrong password, set by a reload, is a clear
"Login failed" in /health, and the right one brings the mount back."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from harness import Daemon, accepting, free_port, terminate, wait_until  # noqa: E402
from test_http_stream import dominant  # noqa: E402
from wire import parse_metrics  # noqa: E402

RATE = 48000
PASSWORD = "room-source-secret"
ICECAST = shutil.which("icecast2")


def icecast_xml(port, directory, password=PASSWORD):
    # As root Icecast refuses to run unless it drops to another user.
    security = ""
    if os.geteuid() == 0:
        security = ("<security><chroot>0</chroot><changeowner><user>nobody</user>"
                    "<group>nogroup</group></changeowner></security>")
    return f"""<icecast>
  <location>test</location><admin>test@localhost</admin>
  <limits><clients>20</clients><sources>4</sources><queue-size>524288</queue-size>
    <client-timeout>30</client-timeout><header-timeout>15</header-timeout>
    <source-timeout>10</source-timeout><burst-size>16384</burst-size></limits>
  <authentication><source-password>{password}</source-password>
    <admin-user>admin</admin-user><admin-password>admin-{password}</admin-password></authentication>
  <hostname>127.0.0.1</hostname>
  <listen-socket><port>{port}</port><bind-address>127.0.0.1</bind-address></listen-socket>
  <fileserve>1</fileserve>
  <paths><basedir>/usr/share/icecast2</basedir><logdir>{directory}</logdir>
    <webroot>/usr/share/icecast2/web</webroot><adminroot>/usr/share/icecast2/admin</adminroot>
  </paths>
  <logging><accesslog>access.log</accesslog><errorlog>error.log</errorlog>
    <loglevel>3</loglevel></logging>
  {security}
</icecast>
"""


class Icecast:
    """A real icecast2 on a loopback port, started and stopped by the test."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="clubvoice-icecast-")
        os.chmod(self.dir, 0o777)  # its logs, written after it changes owner
        self.port = free_port()
        self.config = os.path.join(self.dir, "icecast.xml")
        with open(self.config, "w") as f:
            f.write(icecast_xml(self.port, self.dir))
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([ICECAST, "-c", self.config], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_until(self._accepting, 10):
            raise AssertionError(f"icecast2 did not listen on {self.port}: {self.error_log()}")

    def _accepting(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"icecast2 exited with {self.proc.returncode}: "
                                 f"{self.error_log()}")
        return accepting(self.port)

    def stop(self):
        terminate(self.proc, timeout=10)

    def error_log(self):
        try:
            with open(os.path.join(self.dir, "error.log"), errors="replace") as f:
                return f.read()[-2000:]
        except OSError:
            return "(no error.log)"

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def mount_url(self):
        return f"http://127.0.0.1:{self.port}/room.opus"


def decode(url, seconds=3):
    """`seconds` of the mount, decoded by ffmpeg to 48 kHz mono; (pcm, stderr)."""
    p = subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-i", url,
                        "-t", str(seconds), "-f", "s16le", "-ac", "1", "-ar", str(RATE), "-"],
                       capture_output=True, timeout=30)
    return np.frombuffer(p.stdout, dtype="<i2"), p.stderr.decode(errors="replace")


@unittest.skipUnless(ICECAST, "icecast2 is not installed (scripts/install-deps installs it)")
class IcecastSource(unittest.TestCase):
    def setUp(self):
        self.icecast = Icecast()
        self.addCleanup(self.icecast.close)
        self.icecast.start()
        d = Daemon()
        self.icecast_config = (f"icecast: {{url: \"{self.icecast.mount_url()}\", user: source, "
                               f"password: {PASSWORD}}}\n")
        d.write_config(d.default_config(extra=self.icecast_config))
        d.start()
        self.addCleanup(d.close)
        self.d = d

    def health(self):
        return self.d.get_json("/health")[1]

    def metrics(self):
        status, _, body = self.d.get("/metrics")
        self.assertEqual(status, 200)
        return parse_metrics(body.decode())

    def assert_mount_plays_the_room(self, what):
        pcm, stderr = decode(self.icecast.mount_url())
        self.assertEqual(len(pcm), 3 * RATE, f"{what}: {stderr}")
        hz, rms_db = dominant(pcm[RATE // 10:])
        self.assertAlmostEqual(hz, 440, delta=2, msg=what)
        self.assertGreater(rms_db, -20, what)

    def test_icecast_serves_the_room_and_comes_back_after_a_restart(self):
        self.assertTrue(wait_until(lambda: self.health().get("icecast") == "up", 10),
                        f"{self.health()}\n{self.d.stderr()}")
        self.assertEqual(self.health()["status"], "ok")
        probe = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-of", "json",
                                self.icecast.mount_url()],
                               capture_output=True, text=True, timeout=20)
        self.assertEqual(probe.returncode, 0, probe.stderr)
        stream = json.loads(probe.stdout)["streams"][0]
        self.assertEqual(stream["codec_name"], "opus")
        self.assertEqual(stream["sample_rate"], "48000")
        self.assert_mount_plays_the_room("first connection")
        status = self.d.get_json("/status")[1]["icecast"]
        self.assertEqual(status["state"], "up")
        self.assertEqual(status["url"], self.icecast.mount_url())
        self.assertNotIn(PASSWORD, json.dumps(self.d.get_json("/status")[1]))
        self.assertIn(f"icecast: connected to {self.icecast.mount_url()}", self.d.stderr())

        # Icecast goes away: the daemon says so and keeps serving its own.
        self.icecast.stop()
        self.assertTrue(wait_until(lambda: self.health().get("icecast", "").startswith("down"),
                                   5), self.health())
        self.assertEqual(self.health()["status"], "degraded")
        self.assertEqual(self.d.get("/stream.opus", method="HEAD")[0], 200)
        self.assertTrue(wait_until(lambda: "icecast: " in self.d.stderr() and
                                   " down: " in self.d.stderr(), 5), self.d.stderr())

        # It comes back on the same port: the mount is back within 15 s.
        down_for = time.monotonic()
        time.sleep(3)  # a few failed attempts, so the back-off has grown
        restarted = time.monotonic()
        self.icecast.start()
        self.assertTrue(wait_until(lambda: self.health().get("icecast") == "up", 15),
                        f"{self.health()}\n{self.d.stderr()}")
        back_after = time.monotonic() - restarted
        print(f"mount back {back_after:.1f} s after Icecast restarted "
              f"(down for {restarted - down_for:.1f} s)")
        self.assert_mount_plays_the_room("after Icecast restarted")
        self.assertLess(time.monotonic() - restarted, 15 + 5)
        m = self.metrics()
        self.assertEqual(m["clubvoice_icecast_up"], 1)
        self.assertEqual(m["clubvoice_icecast_connects_total"], 2)
        self.assertGreaterEqual(m["clubvoice_icecast_failures_total"], 1)
        self.assertGreater(m["clubvoice_icecast_pages_total"], 50)
        self.assertEqual(m["clubvoice_icecast_packets_dropped_total"], 0)
        self.assertIn("again", self.d.stderr())

    def test_a_wrong_password_is_named_and_a_reload_fixes_it(self):
        self.assertTrue(wait_until(lambda: self.health().get("icecast") == "up", 10))
        wrong = self.icecast_config.replace(PASSWORD, "not-the-password")
        self.d.write_config(self.d.default_config(extra=wrong))
        self.d.signal(signal.SIGHUP)
        self.assertTrue(wait_until(lambda: "Login failed" in self.health().get("icecast", ""),
                                   10), self.health())
        self.assertEqual(self.health()["status"], "degraded")
        self.assertNotIn("not-the-password", self.d.stderr())
        self.d.write_config(self.d.default_config(extra=self.icecast_config))
        self.d.signal(signal.SIGHUP)
        self.assertTrue(wait_until(lambda: self.health().get("icecast") == "up", 10),
                        self.health())
        self.assert_mount_plays_the_room("after the reload")
        # Turning it off is a reload too: no icecast entry, healthy.
        self.d.write_config(self.d.default_config())
        self.d.signal(signal.SIGHUP)
        self.assertTrue(wait_until(lambda: "icecast" not in self.health(), 5), self.health())
        self.assertEqual(self.health()["status"], "ok")
        self.assertEqual(self.d.get_json("/status")[1]["icecast"]["state"], "off")


if __name__ == "__main__":
    unittest.main()
