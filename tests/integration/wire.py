"""Pieces shared by the tests that feed clubvoiced hostile input: a raw
Engine.IO/Socket.IO client over python3-websocket (so a test controls every
byte), WebSocket frames written by hand on a plain socket, the daemon's
figures from /metrics and /proc, a /health poller, and a listener that
counts `audio` in a process of its own (so a busy test process cannot make
it miss frames). Run as a script, this file is that listener:

    wire.py listen PORT    prints "ready" once connected, then on "stop"
                           (stdin) one JSON line {"events": [[t, seq]...], ...}
"""

import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import tone_packets  # noqa: E402,F401  (the fuzz and soak tests take it from here)

SEP = "\x1e"
SANITIZED = os.environ.get("CLUBVOICE_SANITIZED") == "1"


class Daemon(harness.Daemon):
    """harness.Daemon whose log may hold bytes that are not UTF-8 (what a
    client sent, before the daemon cleans it): read with replacement."""

    def stderr(self):
        with open(self.stderr_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None


def quiet_socketio_decode_races():
    """python3-socketio 5.7's client handles each Engine.IO message in a
    thread of its own, so under load an `audio` event's binary attachment is
    now and then decoded before its header packet and the thread dies with
    a ValueError (the client loses that one event). The daemon sent it
    right: count these instead of printing each traceback."""
    races = {"count": 0}
    default = threading.excepthook

    def hook(args):
        tb = args.exc_traceback
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        where = tb.tb_frame.f_code.co_filename if tb else ""
        if args.exc_type is ValueError and where.endswith(os.path.join("socketio", "packet.py")):
            races["count"] += 1
            return
        default(args)

    threading.excepthook = hook
    return races


# ---------------------------------------------------------------- figures

def parse_metrics(text):
    """Prometheus text -> {name: value} (labels dropped)."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name, _, value = line.rpartition(" ")
        name = name.split("{", 1)[0]
        try:
            out[name] = float(value)
        except ValueError:
            pass
    return out


def metrics(daemon):
    status, _, body = daemon.get("/metrics")
    assert status == 200, f"/metrics answered {status}"
    return parse_metrics(body.decode())


def status(daemon):
    code, info = daemon.get_json("/status")
    assert code == 200, f"/status answered {code}"
    return info


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


class HealthPoller(threading.Thread):
    """Asks /health every `interval` s; keeps every answer that was not 200
    (or did not come within 5 s)."""

    def __init__(self, daemon, interval=0.25):
        super().__init__(daemon=True)
        self.d, self.interval = daemon, interval
        self.stop_event = threading.Event()
        self.polls, self.failures = 0, []
        self.slowest = 0.0

    def run(self):
        while not self.stop_event.is_set():
            started = time.monotonic()
            try:
                code = self.d.get("/health")[0]
            except OSError as e:
                code = repr(e)
            took = time.monotonic() - started
            self.slowest = max(self.slowest, took)
            self.polls += 1
            if code != 200:
                self.failures.append((round(time.monotonic(), 3), code))
            self.stop_event.wait(self.interval)

    def stop(self):
        self.stop_event.set()
        self.join(10)


# ------------------------------------------------ WebSocket frames by hand

UPGRADE = ("GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           "Upgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
           "Sec-WebSocket-Version: 13\r\n\r\n").encode()


def client_frame(opcode, payload, fin=True, mask=b"\x11\x22\x33\x44"):
    """A masked client frame (RFC 6455 5.2)."""
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack(">H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack(">Q", n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def frame_header(opcode, declared_length, mask=b"\x11\x22\x33\x44"):
    """Only the header of a masked client frame claiming `declared_length`."""
    return bytes([0x80 | opcode, 0x80 | 127]) + struct.pack(">Q", declared_length) + mask


def open_upgraded(port, rcvbuf=None, timeout=5):
    """A plain TCP socket after the WebSocket upgrade to /socket.io/, and the
    bytes that came after the 101 response."""
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout)
    s.connect(("127.0.0.1", port))
    s.sendall(UPGRADE)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            raise ConnectionError("closed during the upgrade")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 101"):
        raise ConnectionError(f"upgrade refused: {head[:80]!r}")
    return s, rest


def server_frames(buf):
    """Whole server frames at the front of buf: ([(opcode, payload)], rest)."""
    frames, at = [], 0
    while len(buf) - at >= 2:
        n = buf[at + 1] & 0x7F
        head = 2
        if n == 126:
            if len(buf) - at < 4:
                break
            n, head = struct.unpack_from(">H", buf, at + 2)[0], 4
        elif n == 127:
            if len(buf) - at < 10:
                break
            n, head = struct.unpack_from(">Q", buf, at + 2)[0], 10
        if len(buf) - at - head < n:
            break
        frames.append((buf[at] & 0x0F, bytes(buf[at + head:at + head + n])))
        at += head + n
    return frames, buf[at:]


def audio_seq(text_payload):
    """seq of an `audio` event's text frame, else None."""
    if not text_payload.startswith(b'451-["audio"'):
        return None
    at = text_payload.find(b'"seq":')
    if at < 0:
        return None
    end = at + 6
    while end < len(text_payload) and text_payload[end:end + 1].isdigit():
        end += 1
    return int(text_payload[at + 6:end])


# ------------------------------------ Engine.IO/Socket.IO over python3-websocket

class Closed(Exception):
    """The server closed the connection; `code` is the close code if a close
    frame came, else None."""

    def __init__(self, code=None):
        super().__init__(f"closed by the server (code {code})")
        self.code = code


class RawSio:
    """One WebSocket Engine.IO session spoken by hand. Pings are answered and
    `audio` events skipped while waiting for something else."""

    def __init__(self, port, timeout=5):
        import websocket  # python3-websocket
        self.websocket = websocket
        self.ws = websocket.create_connection(
            f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket",
            timeout=timeout, skip_utf8_validation=True, enable_multithread=True)
        first = self.ws.recv()
        if not first.startswith("0{"):
            raise AssertionError(f"no Engine.IO open packet: {first!r}")
        self.open_info = json.loads(first[1:])
        self.audio_seen = 0

    # sending
    def text(self, data):
        """A text frame; bytes go out as they are (invalid UTF-8 included)."""
        if isinstance(data, str):
            data = data.encode()
        self.ws.send(data, self.websocket.ABNF.OPCODE_TEXT)

    def binary(self, data):
        self.ws.send(data, self.websocket.ABNF.OPCODE_BINARY)

    def sio(self, packet):
        """A Socket.IO packet inside an Engine.IO message."""
        self.text(b"4" + (packet.encode() if isinstance(packet, str) else packet))

    def connect(self, auth_json=None, timeout=5):
        """CONNECT with auth given as JSON text (None: no payload); the
        server's answer, e.g. '0{"sid":...}' or '4{"message":...}'."""
        self.sio("0" + (auth_json or ""))
        return self.wait_text(lambda p: p[:1] in ("0", "4"), timeout)

    def emit(self, event, *args, ack=None):
        body = json.dumps([event, *args], separators=(",", ":"))
        self.sio(f"2{'' if ack is None else ack}{body}")

    def call(self, event, *args, ack=1, timeout=5):
        """emit with an ack id; the ack's arguments."""
        self.emit(event, *args, ack=ack)
        prefix = f"3{ack}["
        reply = self.wait_text(lambda p: p.startswith(prefix), timeout)
        return json.loads(reply[len(prefix) - 1:])

    # receiving
    def next_frame(self, timeout):
        """(opcode, data) of the next frame, answering pings and counting and
        skipping audio; None on timeout; Closed when the server closed."""
        ws = self.websocket
        self.ws.settimeout(timeout)
        try:
            opcode, data = self.ws.recv_data(control_frame=True)
        except ws.WebSocketTimeoutException:
            return None
        except (ws.WebSocketConnectionClosedException, ConnectionError, OSError) as e:
            if isinstance(e, socket.timeout):
                return None
            raise Closed() from e
        if opcode == ws.ABNF.OPCODE_CLOSE:
            code = struct.unpack(">H", data[:2])[0] if len(data) >= 2 else None
            raise Closed(code)
        if opcode == ws.ABNF.OPCODE_TEXT:
            if data == b"2":
                self.text("3")
                return self.next_frame(timeout)
            if data.startswith(b'451-["audio"'):
                self.audio_seen += 1
        return opcode, data

    def wait_text(self, want, timeout=5):
        """The first Engine.IO message (text, '4' stripped) for which want()
        is true; AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no matching packet within the timeout")
            frame = self.next_frame(left)
            if frame is None:
                continue
            opcode, data = frame
            if opcode == 1 and data.startswith(b"4"):
                text = data.decode("utf-8", errors="replace")[1:]
                if want(text):
                    return text

    def closed_within(self, timeout):
        """The close code (or True without one) if the server closes the
        session within timeout, else False."""
        deadline = time.monotonic() + timeout
        try:
            while (left := deadline - time.monotonic()) > 0:
                self.next_frame(min(left, 0.5))
        except Closed as e:
            return e.code if e.code is not None else True
        return False

    def gets_audio(self, count=3, timeout=5):
        start = self.audio_seen
        deadline = time.monotonic() + timeout
        while self.audio_seen - start < count and time.monotonic() < deadline:
            self.next_frame(0.5)
        return self.audio_seen - start >= count

    def close(self):
        try:
            self.ws.close(timeout=0.5)
        except Exception:
            pass


# -------------------------------------------- a listener in its own process

class AudioWatch:
    """A listener in a child process (a raw WebSocket Socket.IO client, as
    light as a client can be, so the test's own load cannot make it late),
    recording the arrival time (CLOCK_MONOTONIC, shared with this process)
    and seq of every `audio` event."""

    def __init__(self, port):
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "listen",
                                      str(port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)
        line = self.proc.stdout.readline().strip()
        if line != "ready":
            self.proc.kill()
            raise AssertionError(f"the listener did not connect: {line!r}")

    def stop(self):
        """{"events": [[t, seq]...], "disconnected": t or None, "sid" and
        "eio_sid": its Socket.IO and Engine.IO ids, "close_frame": the close
        frame's payload in hex, if one came}"""
        out, _ = self.proc.communicate("stop\n", timeout=30)
        return json.loads(out.strip().splitlines()[-1])


def seq_figures(events, t_from=None, t_to=None):
    """Received, expected (seq span), missing and the longest arrival gap of
    the audio events that arrived within [t_from, t_to]."""
    chosen = [(t, s) for t, s in events
              if (t_from is None or t >= t_from) and (t_to is None or t <= t_to)]
    if len(chosen) < 2:
        return {"received": len(chosen), "expected": None, "missing": None,
                "max_gap_ms": None, "ratio": 0.0}
    seqs = sorted({s for _, s in chosen})
    expected = seqs[-1] - seqs[0] + 1
    times = [t for t, _ in chosen]
    gaps = sorted(((b - a, a) for a, b in zip(times, times[1:])), reverse=True)
    return {"received": len(seqs), "expected": expected, "missing": expected - len(seqs),
            "max_gap_ms": round(gaps[0][0] * 1000, 1), "ratio": len(seqs) / expected,
            "first_seq": seqs[0], "last_seq": seqs[-1],
            # the longest gaps: [ms, seconds from the start of the window]
            "worst_gaps": [[round(g * 1000, 1), round(a - (t_from or times[0]), 1)]
                           for g, a in gaps[:5]]}


def _listen_main(port):
    import select
    try:  # the measuring instrument should not be the one that is late
        os.nice(-10)
    except PermissionError:
        pass
    events, gone = [], None
    try:
        s, rest = open_upgraded(port)
        s.sendall(client_frame(1, b"40"))
    except OSError as e:
        print(f"connect failed: {e!r}", flush=True)
        return 1
    buf = bytearray(rest)
    joined, sid, eio_sid, close = False, None, None, None
    while True:
        watch = ([s] if gone is None else []) + ([sys.stdin] if joined else [])
        ready, _, _ = select.select(watch, [], [], 5)
        if not ready and not joined:
            print("no CONNECT answer", flush=True)
            return 1
        if sys.stdin in ready:
            break
        if s in ready:
            try:
                chunk = s.recv(1 << 16)
            except OSError:
                chunk = b""
            now = time.monotonic()
            if not chunk:
                gone = now
                continue
            buf += chunk
            frames, buf = server_frames(buf)
            for opcode, payload in frames:
                if opcode == 8:
                    gone, close = now, payload.hex()
                elif opcode == 9:  # a WebSocket ping (lws checks idle connections)
                    s.sendall(client_frame(10, payload))
                elif opcode == 1:
                    seq = audio_seq(payload)
                    if seq is not None:
                        events.append((now, seq))
                    elif payload == b"2":
                        s.sendall(client_frame(1, b"3"))
                    elif payload.startswith(b"0{"):
                        eio_sid = json.loads(payload[1:]).get("sid")
                    elif payload.startswith(b"40") and not joined:
                        joined = True
                        sid = json.loads(payload[2:]).get("sid")
                        print("ready", flush=True)
    sys.stdin.readline()
    s.close()
    print(json.dumps({"events": events, "disconnected": gone, "sid": sid, "eio_sid": eio_sid,
                      "close_frame": close}), flush=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "listen":
        sys.exit(_listen_main(int(sys.argv[2])))
    print(__doc__)
    sys.exit(2)

