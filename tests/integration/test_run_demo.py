"""scripts/run-demo for real, with the daemon already built (CLUBVOICE_NO_BUILD):
it prints a listen link and a talk link carrying a fresh talker token; anyone
may listen, only a client with that token may talk. The room's test signal
never runs out: it comes from a generator process through a FIFO (no finite
file whose end the ALSA `file` plugin would turn into a steady buzz), keeps
its character (440 Hz, then 660 Hz, each for a second, at the tone's level)
while frames flow in real time, and survives the daemon closing and reopening
the capture device. Ctrl-C (SIGINT) or SIGTERM stops the daemon and the
generator and removes the FIFO."""

import http.client
import json
import os
import re
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import socketio

sys.path.insert(0, os.path.dirname(__file__))
from harness import (CLUBVOICED, SOURCE_ROOT, free_port, sanitizer_report,  # noqa: E402
                     wait_until)

OPUS_TONE = os.environ.get("OPUS_TONE", "build/tests/opus-tone")
RUN_DEMO = os.path.join(SOURCE_ROOT, "scripts", "run-demo")
# The demo's signal: a sine of amplitude 0.3, whose RMS level is 20*log10(0.3/sqrt(2)).
TONE_DBFS = -13.5
RATE = 48000


def children(pid):
    """(pid, command name) of each child process of pid."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read()
        except OSError:
            continue
        name = fields[fields.index("(") + 1:fields.rindex(")")]
        ppid = int(fields[fields.rindex(")") + 2:].split()[1])
        if ppid == pid:
            found.append((int(entry), name))
    return found


def open_mode(pid, path):
    """O_RDONLY/O_WRONLY/O_RDWR of pid's descriptor on path, or None."""
    fd_dir = f"/proc/{pid}/fd"
    for fd in os.listdir(fd_dir):
        try:
            if os.readlink(os.path.join(fd_dir, fd)) != path:
                continue
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                flags = int(re.search(r"flags:\s+(\d+)", f.read()).group(1), 8)
            return flags & os.O_ACCMODE
        except OSError:
            continue
    return None


def bytes_written(pid):
    with open(f"/proc/{pid}/io") as f:
        return int(re.search(r"wchar:\s+(\d+)", f.read()).group(1))


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def dominant_tone(packets):
    data = b"".join(struct.pack("<I", len(p)) + p for p in packets)
    out = subprocess.run([OPUS_TONE], input=data, capture_output=True, check=True).stdout
    return json.loads(out)


def connect(port, auth=None):
    """A python3-socketio client; returns it with its first `config` and the
    `audio` events it collects as (seq, packet)."""
    client = socketio.Client(reconnection=False)
    got_config = threading.Event()
    configs, audio = [], []

    @client.on("config")
    def on_config(data):
        configs.append(data)
        got_config.set()

    @client.on("audio")
    def on_audio(meta, payload):
        audio.append((meta["seq"], payload))

    client.connect(f"http://127.0.0.1:{port}", auth=auth, transports=["websocket"],
                   wait_timeout=5)
    if not got_config.wait(5):
        client.disconnect()
        raise AssertionError("no config event")
    return client, configs[0], audio


class RunDemo(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory(prefix="clubvoice-demo-test-")
        cls.demo_dir = os.path.realpath(cls.dir.name)
        cls.port = free_port()
        cls.stderr_path = os.path.join(cls.demo_dir, "run-demo.log")
        env = dict(os.environ)
        for name in ("NOTIFY_SOCKET", "JOURNAL_STREAM", "ALSA_CONFIG_PATH"):
            env.pop(name, None)
        env.update({
            "CLUBVOICE_PORT": str(cls.port),
            # The daemon under test: CLUBVOICED is BUILD_DIR/daemon/clubvoiced.
            "CLUBVOICE_BUILD_DIR": os.path.dirname(os.path.dirname(os.path.abspath(CLUBVOICED))),
            "CLUBVOICE_NO_BUILD": "1",
            "CLUBVOICE_DEMO_DIR": cls.demo_dir,
        })
        cls.stderr_file = open(cls.stderr_path, "w")
        cls.proc = subprocess.Popen([RUN_DEMO], stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=cls.stderr_file,
                                    env=env, start_new_session=True,
                                    # as from a shell: SIGINT not ignored, so the script can trap it
                                    preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        cls.daemon_pid = cls.generator_pid = None
        try:
            links = wait_until(cls.links, 15, interval=0.05)
            assert links, f"run-demo printed no talk link:\n{cls.stderr()}"
            cls.listen_link, cls.talk_link, cls.token = links
            assert wait_until(cls.healthy, 10, interval=0.1), f"/health never ok:\n{cls.stderr()}"
            for pid, name in children(cls.proc.pid):
                if name == "clubvoiced":
                    cls.daemon_pid = pid
                elif name.startswith("python"):
                    cls.generator_pid = pid
        except BaseException:
            cls.force_stop()
            raise

    @classmethod
    def stderr(cls):
        with open(cls.stderr_path) as f:
            return f.read()

    @classmethod
    def links(cls):
        text = cls.stderr()
        listen = re.search(r"listen: (http://localhost:(\d+)/)\s", text)
        talk = re.search(r"talk: +(http://localhost:(\d+)/talk\?token=([A-Za-z0-9_-]+))\s", text)
        if not (listen and talk):
            return None
        return listen.group(1), talk.group(1), talk.group(3)

    @classmethod
    def healthy(cls):
        conn = http.client.HTTPConnection("127.0.0.1", cls.port, timeout=2)
        try:
            conn.request("GET", "/health")
            r = conn.getresponse()
            return r.status == 200 and json.loads(r.read()).get("status") == "ok"
        except OSError:
            return False
        finally:
            conn.close()

    @classmethod
    def get_json(cls, path):
        conn = http.client.HTTPConnection("127.0.0.1", cls.port, timeout=5)
        try:
            conn.request("GET", path)
            r = conn.getresponse()
            return r.status, json.loads(r.read())
        finally:
            conn.close()

    @classmethod
    def force_stop(cls):
        """Whatever is left: the script's group, the daemon's own group."""
        for pid in (cls.proc.pid, cls.daemon_pid):
            if pid:
                try:
                    os.killpg(pid, signal.SIGKILL)
                except OSError:
                    pass
        cls.proc.wait()
        cls.stderr_file.close()
        cls.dir.cleanup()

    @classmethod
    def tearDownClass(cls):
        # Ctrl-C in a terminal reaches the script; the script stops the rest.
        cls.proc.send_signal(signal.SIGINT)
        try:
            code = cls.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            code = None
        leftovers = [pid for pid in (cls.daemon_pid, cls.generator_pid) if pid and alive(pid)]
        fifo_left = os.path.exists(os.path.join(cls.demo_dir, "test-signal.fifo"))
        log = cls.stderr()
        cls.force_stop()
        report = sanitizer_report(log)
        assert report is None, f"sanitizer report from clubvoiced:\n{report}"
        assert code == 0, f"run-demo exited with {code} after SIGINT:\n{log}"
        assert not leftovers, f"still running after the demo stopped: {leftovers}"
        assert not fifo_left, "the FIFO is left behind"
        assert "notice: stopped" in log, log

    def test_1_links_and_health(self):
        self.assertEqual(self.listen_link, f"http://localhost:{self.port}/")
        self.assertEqual(self.talk_link, f"http://localhost:{self.port}/talk?token={self.token}")
        self.assertGreaterEqual(len(self.token), 22)  # at least 128 bits in base64url
        self.assertIsNotNone(self.daemon_pid, children(self.proc.pid))
        self.assertIsNotNone(self.generator_pid, children(self.proc.pid))
        status, health = self.get_json("/health")
        self.assertEqual((status, health["status"]), (200, "ok"))
        # Only the token's hash is kept in the configuration.
        with open(os.path.join(self.demo_dir, "clubvoice.yaml")) as f:
            config = f.read()
        self.assertNotIn(self.token, config)
        self.assertRegex(config, r"role: talker, hash: \"sha256\$")

    def test_2_talk_needs_the_talker_token(self):
        talker, config, _ = connect(self.port, {"token": self.token})
        try:
            self.assertTrue(config["canTalk"], config)
            self.assertTrue(talker.call("talk", {"on": True}, timeout=5)["granted"])
            talker.call("talk", {"on": False}, timeout=5)
        finally:
            talker.disconnect()
        listener, config, _ = connect(self.port)
        try:
            self.assertFalse(config["canTalk"], config)
            self.assertFalse(listener.call("talk", {"on": True}, timeout=5)["granted"])
        finally:
            listener.disconnect()

    def test_3_signal_comes_from_an_endless_generator(self):
        # The capture device reads a FIFO: the daemon reads it, the generator
        # (the script's other child) holds it open to write. No finite file.
        with open(os.path.join(self.demo_dir, "asoundrc")) as f:
            infile = re.search(r'infile "([^"]+)"', f.read()).group(1)
        self.assertTrue(stat.S_ISFIFO(os.stat(infile).st_mode), infile)
        self.assertEqual(open_mode(self.daemon_pid, infile), os.O_RDONLY)
        self.assertIn(open_mode(self.generator_pid, infile), (os.O_WRONLY, os.O_RDWR))
        self.assertFalse(os.path.exists(os.path.join(self.demo_dir, "test-signal.raw")))

        # ~5 s: frames flow in real time, all of them written by the generator
        # as the daemon reads, at the tone's level, stepping 440 <-> 660 Hz.
        client, _, audio = connect(self.port)
        try:
            written0, t0 = bytes_written(self.generator_pid), time.monotonic()
            frames0 = self.get_json("/status")[1]["audio"]["capture"]["frames_total"]
            levels = []
            while time.monotonic() - t0 < 5:
                time.sleep(0.5)
                levels.append(self.get_json("/status")[1]["audio"]["capture"]["level_dbfs"])
            seconds = time.monotonic() - t0
            frames = self.get_json("/status")[1]["audio"]["capture"]["frames_total"] - frames0
            written = bytes_written(self.generator_pid) - written0
        finally:
            client.disconnect()
        self.assertAlmostEqual(frames / seconds, RATE, delta=RATE * 0.1)
        self.assertAlmostEqual(written / seconds, RATE * 2, delta=RATE * 2 * 0.15)
        for level in levels:
            self.assertAlmostEqual(level, TONE_DBFS, delta=2.0, msg=levels)
        seqs = [seq for seq, _ in audio]
        self.assertGreater(len(seqs), 200)
        self.assertEqual(seqs, list(range(seqs[0], seqs[0] + len(seqs))), "seq has gaps")
        tones = [dominant_tone([p for _, p in audio[i:i + 25]])["dominant_hz"]
                 for i in range(0, len(audio) - 24, 25)]  # half-second windows
        self.assertTrue(set(tones) <= {440, 660}, tones)
        self.assertGreaterEqual(min(tones.count(440), tones.count(660)), 2, tones)

    def test_4_capture_reopens_on_the_fifo(self):
        # A reload with a new ALSA period makes the daemon close the capture
        # device and open it again; the signal carries on.
        config_path = os.path.join(self.demo_dir, "clubvoice.yaml")
        with open(config_path) as f:
            config = f.read()
        self.assertIn("\n  mode: full\n", config)
        with open(config_path, "w") as f:
            f.write(config.replace("\n  mode: full\n", "\n  mode: full\n  period_ms: 5\n"))
        opened = self.stderr().count('capture "clubvoice_capture" opened')
        os.kill(self.daemon_pid, signal.SIGHUP)
        self.assertTrue(wait_until(
            lambda: self.stderr().count('capture "clubvoice_capture" opened') > opened, 5),
            self.stderr())

        def period_ms():
            return self.get_json("/status")[1]["audio"]["capture"]["granted"]["period_ms"]
        self.assertTrue(wait_until(lambda: period_ms() == 5.0, 5))
        frames0 = self.get_json("/status")[1]["audio"]["capture"]["frames_total"]
        t0 = time.monotonic()
        time.sleep(1.5)
        capture = self.get_json("/status")[1]["audio"]["capture"]
        seconds = time.monotonic() - t0
        self.assertAlmostEqual((capture["frames_total"] - frames0) / seconds, RATE,
                               delta=RATE * 0.15)
        self.assertAlmostEqual(capture["level_dbfs"], TONE_DBFS, delta=2.0, msg=capture)
        self.assertEqual(self.get_json("/health")[1]["status"], "ok")


if __name__ == "__main__":
    unittest.main(verbosity=2)
