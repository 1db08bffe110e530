"""GET /stream.opus with real players' parts: ffprobe reads it as Opus at
48 kHz, ffmpeg decodes 3 s of it to the room's 440 Hz, and so does a second
reader joining 2 s later; each reader's bytes are a valid Ogg stream on
their own (pages numbered from 0 without a gap, correct CRCs, granule
positions that grow by the packets' samples). A reader that stops reading
loses whole pages and is cut, while another keeps getting its pages in real
time. HEAD answers the headers alone. With access.listen: token a player needs its token (?token= or
Authorization: Bearer), a reload that removes the token closes the reader,
and the per-address limit counts stream readers and Socket.IO sessions
together."""

import http.client
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time
import unittest

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from harness import CLUBVOICED, Daemon, wait_until  # noqa: E402
from wire import parse_metrics  # noqa: E402

RATE = 48000


def new_token(role, name):
    """A fresh token and its access.tokens entry, from the daemon's own helper."""
    out = subprocess.run([CLUBVOICED, "--new-token", role, name], check=True,
                         capture_output=True, text=True).stdout.splitlines()
    return out[0], out[1].strip()[2:]


def _crc_table():
    table = []
    for i in range(256):
        r = i << 24
        for _ in range(8):
            r = ((r << 1) ^ 0x04C11DB7) if r & 0x80000000 else r << 1
        table.append(r & 0xFFFFFFFF)
    return table


CRC_TABLE = _crc_table()


def ogg_crc(data):
    crc = 0
    for b in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ CRC_TABLE[((crc >> 24) & 0xFF) ^ b]
    return crc


def ogg_pages(data):
    """Whole pages at the start of `data`: (flags, granule, serial, sequence,
    segments' packets' ends, body); raises on a bad capture pattern or CRC."""
    pages, at = [], 0
    while at + 27 <= len(data):
        assert data[at:at + 4] == b"OggS", f"no capture pattern at {at}"
        flags, granule, serial, sequence, crc, count = struct.unpack_from("<BqIIIB", data, at + 5)
        lacing = data[at + 27:at + 27 + count]
        body_len = sum(lacing)
        end = at + 27 + count + body_len
        if end > len(data):
            break
        page = bytearray(data[at:end])
        page[22:26] = b"\0\0\0\0"
        assert ogg_crc(page) == crc, f"bad CRC on page {sequence}"
        pages.append((flags, granule, serial, sequence, data[at + 27 + count:end]))
        at = end
    return pages


def read_stream(port, seconds, path="/stream.opus", headers=None):
    """The raw bytes of `seconds` of the stream."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", path, headers=headers or {})
    r = conn.getresponse()
    assert r.status == 200, r.status
    data = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        data += r.read1(65536)
    conn.close()
    return data


def dominant(pcm):
    x = pcm.astype(np.float64) / 32768.0
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    hz = np.fft.rfftfreq(len(x), 1 / RATE)[np.argmax(spectrum)]
    rms_db = 20 * np.log10(max(np.sqrt(np.mean(x ** 2)), 1e-9))
    return hz, rms_db


class Decoder(threading.Thread):
    """ffmpeg decoding `seconds` of the stream to 48 kHz mono samples."""

    def __init__(self, url, seconds=3):
        super().__init__()
        self.cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-i", url,
                    "-t", str(seconds), "-f", "s16le", "-ac", "1", "-ar", str(RATE), "-"]
        self.pcm = None
        self.stderr = ""

    def run(self):
        p = subprocess.run(self.cmd, capture_output=True, timeout=20)
        self.pcm = np.frombuffer(p.stdout, dtype="<i2")
        self.stderr = p.stderr.decode(errors="replace")


class HttpStream(unittest.TestCase):
    def start(self, access="{talk: open}", server=""):
        d = Daemon()
        d.write_config(d.default_config(access=access, server=server))
        d.start()
        self.addCleanup(d.close)
        return d

    def metrics(self, d):
        status, _, body = d.get("/metrics")
        self.assertEqual(status, 200)
        return parse_metrics(body.decode())

    def test_players_decode_the_room_and_joiners_too(self):
        d = self.start()
        url = f"http://127.0.0.1:{d.port}/stream.opus"
        probe = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-of", "json", url],
                               capture_output=True, text=True, timeout=20)
        self.assertEqual(probe.returncode, 0, probe.stderr)
        stream = json.loads(probe.stdout)["streams"][0]
        self.assertEqual(stream["codec_name"], "opus")
        self.assertEqual(stream["sample_rate"], "48000")
        self.assertEqual(stream["channels"], 1)

        first = Decoder(url)
        first.start()
        time.sleep(2)
        second = Decoder(url)
        second.start()
        time.sleep(0.5)
        listeners = d.get_json("/status")[1]["stream"]["listeners"]
        first.join()
        second.join()
        self.assertEqual(listeners, 2)
        for name, decoder in (("first", first), ("joining 2 s later", second)):
            self.assertEqual(decoder.stderr, "", name)
            self.assertEqual(len(decoder.pcm), 3 * RATE, name)
            hz, rms_db = dominant(decoder.pcm[RATE // 10:])
            self.assertAlmostEqual(hz, 440, delta=2, msg=name)
            self.assertGreater(rms_db, -20, name)

        m = self.metrics(d)
        self.assertGreater(m["clubvoice_stream_pages_total"], 50)
        self.assertGreater(m["clubvoice_stream_bytes_total"], 5000)
        self.assertGreaterEqual(m["clubvoice_stream_listeners_opened_total"], 3)
        self.assertEqual(m["clubvoice_stream_pages_dropped_total"], 0)
        self.assertTrue(wait_until(lambda: self.metrics(d)["clubvoice_stream_listeners"] == 0, 3))

    def test_each_reader_gets_a_valid_ogg_stream(self):
        d = self.start()
        results = {}

        def read(name, delay):
            time.sleep(delay)
            results[name] = read_stream(d.port, 1.5)

        readers = [threading.Thread(target=read, args=("early", 0)),
                   threading.Thread(target=read, args=("late", 1.0))]
        for t in readers:
            t.start()
        for t in readers:
            t.join()
        serials = set()
        first_granule = {}
        for name, data in results.items():
            pages = ogg_pages(data)
            self.assertGreater(len(pages), 20, name)
            self.assertEqual([p[3] for p in pages], list(range(len(pages))),
                             f"{name}: page numbers from 0 without a gap")
            self.assertEqual(pages[0][0], 2, f"{name}: the first page begins the stream")
            self.assertTrue(all(p[0] == 0 for p in pages[1:]), name)
            self.assertEqual(pages[0][4][:8], b"OpusHead")
            self.assertEqual(pages[0][4][9], 1, "mono")
            self.assertEqual(struct.unpack_from("<H", pages[0][4], 10)[0], 312, "pre-skip")
            self.assertEqual(pages[1][4][:8], b"OpusTags")
            self.assertEqual([p[1] for p in pages[:2]], [0, 0])
            granules = [p[1] for p in pages[2:]]
            steps = {b - a for a, b in zip(granules, granules[1:])}
            self.assertEqual(steps, {1920}, f"{name}: 40 ms a page")
            serials.update(p[2] for p in pages)
            first_granule[name] = granules[0]
        self.assertEqual(len(serials), 1, "one logical stream")
        self.assertGreater(first_granule["late"], first_granule["early"] + 20 * 1920,
                           "a later reader's stream starts later")

    def test_head_answers_the_headers_alone(self):
        d = self.start()
        status, headers, body = d.get("/stream.opus", method="HEAD")
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "audio/ogg")
        self.assertEqual(body, b"")
        self.assertNotIn("content-length", headers)
        status, headers, _ = d.get("/stream.opus", method="POST")
        self.assertEqual(status, 405)
        self.assertEqual(headers["allow"], "GET, HEAD")

    def test_listening_can_need_a_token(self):
        radio, radio_entry = new_token("listener", "radio")
        desk, desk_entry = new_token("talker", "desk")
        d = self.start(access=f"{{listen: token, talk: token, tokens: [{radio_entry}, "
                              f"{desk_entry}]}}")
        for method in ("GET", "HEAD"):
            status, headers, body = d.get("/stream.opus", method=method)
            self.assertEqual(status, 401, method)
            self.assertIn("Bearer", headers["www-authenticate"])
        self.assertEqual(json.loads(d.get("/stream.opus")[2]),
                         {"error": "a token is needed to listen"})
        self.assertEqual(json.loads(d.get(f"/stream.opus?token={radio}x")[2]),
                         {"error": "invalid token"})
        status, _, body = d.get("/stream.opus?token=")
        self.assertEqual(status, 400)
        self.assertIn("empty", json.loads(body)["error"])
        self.assertEqual(d.get(f"/stream.opus?token={radio}&token={radio}")[0], 400)

        # A player's link, a program's header, and a talker (roles nest).
        probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name",
                                "-of", "csv=p=0",
                                f"http://127.0.0.1:{d.port}/stream.opus?token={radio}"],
                               capture_output=True, text=True, timeout=20)
        self.assertEqual(probe.stdout.strip(), "opus", probe.stderr)
        data = read_stream(d.port, 0.5, headers={"Authorization": f"Bearer {desk}"})
        self.assertEqual(data[:4], b"OggS")
        self.assertEqual(d.get(f"/stream.opus?token={desk}", method="HEAD")[0], 200)
        m = self.metrics(d)
        self.assertEqual(m["clubvoice_stream_token_refused_total"], 4)
        self.assertEqual(m["clubvoice_stream_invalid_queries_total"], 2)

    def test_a_reload_that_removes_the_token_closes_the_reader(self):
        radio, radio_entry = new_token("listener", "radio")
        d = self.start(access=f"{{listen: token, tokens: [{radio_entry}]}}")
        reader = socket.create_connection(("127.0.0.1", d.port), timeout=5)
        self.addCleanup(reader.close)
        reader.sendall(f"GET /stream.opus?token={radio} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        self.assertTrue(reader.recv(65536).startswith(b"HTTP/1.1 200"))
        d.write_config(d.default_config(access="{listen: token, tokens: []}"))
        mark = len(d.notify.messages)
        d.signal(1)  # SIGHUP
        d.notify.wait_for("READY", "1", after=mark)
        deadline = time.monotonic() + 5
        closed = False
        while time.monotonic() < deadline and not closed:
            closed = reader.recv(65536) == b""
        self.assertTrue(closed, "the reader of a removed token stayed")
        self.assertEqual(self.metrics(d)["clubvoice_stream_revoked_total"], 1)

    def test_a_stalled_reader_loses_pages_and_is_cut(self):
        d = self.start()
        # A reader with a tiny receive buffer that never reads after its request.
        stalled = socket.socket()
        self.addCleanup(stalled.close)
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
        stalled.connect(("127.0.0.1", d.port))
        stalled.sendall(b"GET /stream.opus HTTP/1.1\r\nHost: x\r\n\r\n")
        started = time.monotonic()
        # Meanwhile a reader that keeps up gets its pages in real time.
        healthy = read_stream(d.port, 6)
        pages = ogg_pages(healthy)
        audio_s = (pages[-1][1] - pages[2][1]) / RATE
        self.assertGreater(audio_s, 5.0)
        self.assertEqual([p[3] for p in pages], list(range(len(pages))))
        self.assertTrue(wait_until(
            lambda: d.get_json("/status")[1]["stream"]["readers_cut"] == 1, 20, 0.2))
        cut_after = time.monotonic() - started
        stream = d.get_json("/status")[1]["stream"]
        self.assertEqual(stream["listeners"], 0)
        self.assertGreater(stream["pages_dropped"], 100)
        self.assertLess(cut_after, 16, "a stalled reader is cut after about 12 s")
        self.assertIn("took no audio for", d.stderr())

    def test_stream_readers_count_in_the_client_limits(self):
        d = self.start(server=", max_clients_per_ip: 2")
        readers = []
        for _ in range(2):
            r = socket.create_connection(("127.0.0.1", d.port), timeout=5)
            self.addCleanup(r.close)
            r.sendall(b"GET /stream.opus HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertTrue(r.recv(65536).startswith(b"HTTP/1.1 200"))
            readers.append(r)
        status, headers, body = d.get("/stream.opus")
        self.assertEqual(status, 429)
        self.assertIn("server.max_clients_per_ip", json.loads(body)["error"])
        self.assertEqual(headers["retry-after"], "1")
        self.assertEqual(d.get("/socket.io/?EIO=4&transport=polling")[0], 429,
                         "a Socket.IO session counts the stream readers too")
        readers[0].close()
        self.assertTrue(wait_until(lambda: d.get("/stream.opus", method="HEAD")[0] == 200, 3))
        self.assertGreaterEqual(self.metrics(d)["clubvoice_stream_limit_refused_total"], 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
