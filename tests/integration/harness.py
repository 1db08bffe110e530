"""Shared pieces of the integration tests: a temporary config, the real
daemon as a child process, a real NOTIFY_SOCKET listener and HTTP helpers.
Standard library only, so Debian's /usr/bin/python3 runs it as it is."""

import http.client
import json
import os
import re
import signal
import socket
import struct
import subprocess
import tempfile
import time

CLUBVOICED = os.environ.get("CLUBVOICED", "build/daemon/clubvoiced")
SOURCE_ROOT = os.environ.get("CLUBVOICE_SOURCE_ROOT", os.getcwd())


# Lifts the per-address limits for tests that open many sessions from 127.0.0.1.
SERVER_LIMITS = "max_clients_per_ip: 100000, handshakes_per_ip_per_s: 100000"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sanitizer_report(stderr_text):
    """The first AddressSanitizer/UBSan report in a program's stderr, or None."""
    match = re.search(r"(==\d+==ERROR: \w+Sanitizer|.*runtime error:)", stderr_text)
    if not match:
        return None
    return "\n".join(stderr_text[match.start():].splitlines()[:60])


def rss_kib(pid):
    """Resident memory of a process, in KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def accepting(port, host="127.0.0.1"):
    """Whether something accepts TCP connections on host:port (a server the
    test started is up)."""
    try:
        socket.create_connection((host, port), timeout=0.5).close()
        return True
    except OSError:
        return False


def terminate(proc, timeout=5):
    """Ends a server the test started: SIGTERM, then SIGKILL after `timeout`."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def wait_until(predicate, timeout, interval=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


class NotifyListener:
    """A Unix datagram socket standing in for systemd's notification socket."""

    def __init__(self, directory):
        self.path = os.path.join(directory, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.05)
        self.messages = []  # each a dict of KEY -> value, in arrival order

    def poll(self):
        while True:
            try:
                data = self.sock.recv(4096)
            except (socket.timeout, BlockingIOError):
                return
            fields = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
            self.messages.append(fields)

    def wait_for(self, key, value=None, timeout=5.0, after=0):
        """The first message from index `after` on carrying key (=value)."""
        def find():
            self.poll()
            for i, m in enumerate(self.messages[after:], start=after):
                if key in m and (value is None or m[key] == value):
                    return i, m
            return None
        found = wait_until(find, timeout)
        if not found:
            raise AssertionError(f"no {key}={value} from the daemon; got {self.messages[after:]}")
        return found

    def close(self):
        self.sock.close()


def write_tone(path, hz=440, seconds=120, rate=48000, amplitude=0.5):
    """Raw S16LE mono samples of a sine. One second holds a whole number of
    cycles for integer frequencies, so it is computed once and repeated."""
    import array
    import math
    one = array.array("h", (int(amplitude * 32767 * math.sin(2 * math.pi * hz * i / rate))
                           for i in range(rate)))
    with open(path, "wb") as f:
        block = one.tobytes()
        for _ in range(seconds):
            f.write(block)


def asoundrc_text(capture_infile, playback_outfile):
    """Software PCMs standing in for a sound card: capture reads a raw file,
    playback writes one (the `file` plugin over `null`)."""
    return (f'pcm.clubvoice_capture {{\n  type file\n  slave.pcm {{ type null }}\n'
            f'  file "/dev/null"\n  infile "{capture_infile}"\n  format raw\n}}\n'
            f'pcm.clubvoice_playback {{\n  type file\n  slave.pcm {{ type null }}\n'
            f'  file "{playback_outfile}"\n  format raw\n}}\n')


class Daemon:
    """The built clubvoiced with a config of its own, in a temporary directory,
    with a private ALSA configuration (ALSA_CONFIG_PATH): the capture device
    `clubvoice_capture` plays a tone, `clubvoice_playback` writes a file."""

    def __init__(self, config_text=None, extra_env=None, notify=True, port=None, tone_hz=440,
                 with_devices=True):
        self.dir = tempfile.TemporaryDirectory(prefix="clubvoice-test-")
        self.port = port or free_port()
        self.asoundrc = os.path.join(self.dir.name, "asoundrc")
        self.tone_path = os.path.join(self.dir.name, "tone.raw")
        self.playback_path = os.path.join(self.dir.name, "playback.raw")
        if with_devices:
            write_tone(self.tone_path, tone_hz)
            self.write_asoundrc(asoundrc_text(self.tone_path, self.playback_path))
        else:
            self.write_asoundrc("# no devices yet\n")
        self.config_path = os.path.join(self.dir.name, "clubvoice.yaml")
        if config_text is None:
            config_text = self.default_config()
        self.write_config(config_text)
        self.notify = NotifyListener(self.dir.name) if notify else None
        self.stderr_path = os.path.join(self.dir.name, "stderr.log")
        self.extra_env = extra_env or {}
        self.proc = None

    def default_config(self, server="", access="{talk: open}", extra="", **overrides):
        """The test config: `server` adds keys to the server mapping (", key: value"),
        `access` is the access mapping (talking open unless a test asks for
        tokens), `extra` adds lines after audio.*. Tests open many sessions from
        127.0.0.1, so the per-address limits are lifted; tests of the limits
        set them through `server`."""
        web_root = overrides.get("web_root", os.path.join(SOURCE_ROOT, "web", "dist"))
        limits = ", ".join(item for item in SERVER_LIMITS.split(", ")
                           if item.split(":")[0] + ":" not in server)
        return (f"server: {{host: 127.0.0.1, port: {self.port}, {limits}{server}}}\n"
                f"web: {{root: {web_root}}}\n"
                f"log: {{level: {overrides.get('log_level', 'info')}}}\n"
                f"access: {access}\n"
                "audio:\n  capture: {device: clubvoice_capture}\n"
                "  playback: {device: clubvoice_playback}\n"
                f"{extra}")

    def write_asoundrc(self, text):
        with open(self.asoundrc, "w") as f:
            f.write(text)

    def write_config(self, text):
        with open(self.config_path, "w") as f:
            f.write(text)

    def start(self, args=(), wait_ready=True):
        env = dict(os.environ)
        env.pop("NOTIFY_SOCKET", None)
        env.pop("JOURNAL_STREAM", None)
        env["ALSA_CONFIG_PATH"] = self.asoundrc
        if self.notify:
            env["NOTIFY_SOCKET"] = self.notify.path
        env.update(self.extra_env)
        self.stderr_file = open(self.stderr_path, "w")
        self.proc = subprocess.Popen([CLUBVOICED, "-c", self.config_path, *args],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=self.stderr_file, env=env)
        if wait_ready:
            # A daemon that exits (a port taken meanwhile, a bad config) is
            # reported at once, with what it said, instead of after the timeout.
            ready = wait_until(lambda: self.proc.poll() is not None or self._ready(), 10)
            if self.proc.poll() is not None:
                raise AssertionError(f"clubvoiced exited with {self.proc.returncode} before "
                                     f"READY=1:\n{self.stderr()}")
            if not ready:
                self.notify.wait_for("READY", "1", timeout=0)  # raises, naming what came
        return self

    def _ready(self):
        try:
            self.notify.wait_for("READY", "1", timeout=0)
            return True
        except AssertionError:
            return False

    def stderr(self):
        with open(self.stderr_path) as f:
            return f.read()

    def get(self, path, method="GET"):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            conn.request(method, path)
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()

    def get_json(self, path):
        status, _, body = self.get(path)
        return status, json.loads(body)

    def signal(self, signum):
        self.proc.send_signal(signum)

    def stop(self, timeout=5):
        """SIGTERM, then the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def close(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc:
            self.stderr_file.close()
            # Under the ASan+UBSan build a report fails the test that ran the daemon.
            report = sanitizer_report(self.stderr())
            if report:
                raise AssertionError(f"sanitizer report from clubvoiced:\n{report}")
        if self.notify:
            self.notify.close()
        self.dir.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def run_daemon_once(args, config_text=None, timeout=10):
    """Runs clubvoiced to completion (for --check-config, --version, bad
    configs); returns (exit status, stdout, stderr, config path)."""
    with Daemon(config_text, notify=False) as d:
        cmd = [CLUBVOICED, *(a.replace("{config}", d.config_path) for a in args)]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL)
        return p.returncode, p.stdout, p.stderr, d.config_path


class ConformanceServer:
    """The built sio-conformance-server on a free port (pingInterval 300 ms,
    pingTimeout 200 ms, Engine.IO echo at /engine.io/, Socket.IO at /socket.io/)."""

    def __init__(self):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [os.environ["SIO_CONFORMANCE_SERVER"], "--port", str(self.port)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        def up():
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return True
            except OSError:
                return False
        if not wait_until(up, 10):
            raise AssertionError("sio-conformance-server did not start")

    def rss_kib(self):
        return rss_kib(self.proc.pid)

    def request(self, method, path, body=None, headers=None, timeout=5):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        code = self.proc.wait(timeout=5)
        err = self.proc.stderr.read().decode(errors="replace")
        self.proc.stderr.close()
        report = sanitizer_report(err)
        if report:
            raise AssertionError(f"sanitizer report from sio-conformance-server:\n{report}")
        return code


OPUS_PACKETS = os.environ.get("OPUS_PACKETS", "build/tests/opus-packets")


def tone_packets(hz, seconds, amplitude=0.3, bursts=False, frame_ms=20):
    """Opus packets of a tone as a browser microphone sends them
    (tests/tools/opus_packets); bursts: 200 ms on, 100 ms off."""
    args = [OPUS_PACKETS, str(hz), str(seconds), "--amplitude", str(amplitude),
            "--frame-ms", str(frame_ms)]
    if bursts:
        args.append("--bursts")
    data = subprocess.run(args, capture_output=True, check=True).stdout
    packets, at = [], 0
    while at < len(data):
        (n,) = struct.unpack_from("<I", data, at)
        packets.append(data[at + 4:at + 4 + n])
        at += 4 + n
    return packets
