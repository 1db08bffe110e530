"""A structured fuzzer against the real daemon: several raw Engine.IO
sessions over WebSocket (python3-websocket, so every byte is the test's)
send every event name with wrong shapes, nesting around the decoder's depth
limit, huge, empty and multibyte strings, text cut inside a character
(invalid UTF-8), attachment counts that lie, ack ids at and past the limits,
odd CONNECT auth, packets for namespaces never joined and random bytes,
reconnecting whenever the server closes them. Meanwhile a stock
python3-socketio listener in a process of its own counts `audio` by seq and
/health is polled. Passes when the listener got >= 99 % of the frames of the
run, /health answered 200 throughout, the daemon is alive, and /metrics
shows invalid events counted and no internal error.

EVENT_FUZZ_SECONDS (default 40) bounds the run; EVENT_FUZZ_SEED repeats one
(the seed is always printed). A worker is this file run with --worker."""

import collections
import json
import os
import random
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from wire import (SANITIZED, AudioWatch, Daemon, HealthPoller, metrics,  # noqa: E402
                  seq_figures, status, tone_packets)

SECONDS = float(os.environ.get("EVENT_FUZZ_SECONDS", "40"))
WORKERS = 3
MAX_PAYLOAD = 1000000  # server.max_payload_bytes at its default
MAX_DEPTH = 32  # the Socket.IO decoder's nesting limit

EVENTS = ["talk", "levels", "get_config", "mic"]
UNKNOWN = ["nope", "TALK", "talk ", " levels", "get_config\u0000", "mic\n", "é", "🎤", "config",
           "audio", "talk_state", "clients", "connect", "disconnect", "__proto__", "constructor",
           "a" * 300]
KEYS = ["on", "seq", "name", "token", "_placeholder", "num", "", "é", "__proto__", "ON",
        "on\u0000"]
ACK_IDS = ["0", "1", "2147483647", "2147483648", "4294967295", "4294967296",
           "9007199254740991", "9007199254740992", "18446744073709551615",
           "18446744073709551616", "-1", "007", "00", "9" * 100, "1" * 5000, "1e3", "0x10"]
MULTIBYTE = ["é", "€", "😀", "陈", "\u2028", "\U0010ffff", "\ufeff"]
SCALARS = [None, True, False, 0, -1, 1, 1.5, -0.0, 2 ** 31, 2 ** 53, 2 ** 64, -2 ** 63, 1e308,
           -1e-308, "", "x", "yes", "true", "null", "é", "😀" * 3, "\u0000", "\ud800", "\x7f"]


class Gen:
    """Fuzz cases, each (category, [(opcode, bytes)...]), from one seeded
    random source: a seed gives the same sequence of messages."""

    def __init__(self, rng, opus):
        self.rng = rng
        self.opus = opus  # real Opus packets, for mic events that are nearly right
        self.sweep = 0  # position in the sweep over cut points
        self.cuts = self.cut_templates()
        self.categories = [
            (self.wrong_types, 20), (self.near_shape, 14), (self.deep_nesting, 6),
            (self.huge_string, 1), (self.empty_strings, 4), (self.multibyte, 5),
            (self.cut_character, 8), (self.binary_lies, 10), (self.ack_ids, 8),
            (self.connect_odd, 5), (self.other_namespace, 5), (self.random_bytes, 6),
            (self.packet_types, 5), (self.valid, 8),
        ]
        self.weights = [w for _, w in self.categories]

    def next(self):
        make = self.rng.choices([c for c, _ in self.categories], self.weights)[0]
        return make.__name__, make()

    # helpers
    def value(self, depth=0):
        r = self.rng.random()
        if depth < 3 and r < 0.15:
            return [self.value(depth + 1) for _ in range(self.rng.randrange(4))]
        if depth < 3 and r < 0.35:
            return {self.rng.choice(KEYS): self.value(depth + 1)
                    for _ in range(self.rng.randrange(4))}
        return self.rng.choice(SCALARS)

    def dumps(self, value):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=self.rng.random() < 0.5)

    def name(self):
        return self.rng.choice(EVENTS if self.rng.random() < 0.75 else UNKNOWN)

    @staticmethod
    def text(s):
        # surrogatepass: a lone surrogate goes out as the bytes UTF-8 forbids
        return (1, s.encode("utf-8", "surrogatepass") if isinstance(s, str) else s)

    def msg(self, sio_packet):
        """An Engine.IO message carrying a Socket.IO packet."""
        return self.text("4" + sio_packet if isinstance(sio_packet, str) else b"4" + sio_packet)

    def ack(self):
        r = self.rng.random()
        return "" if r < 0.4 else str(self.rng.randrange(1, 1000)) if r < 0.8 else \
            self.rng.choice(ACK_IDS)

    def placeholder(self, num=0):
        return {"_placeholder": True, "num": num}

    # categories
    def wrong_types(self):
        args = [self.value() for _ in range(self.rng.randrange(4))]
        return [self.msg("2" + self.ack() + self.dumps([self.name(), *args]))]

    def near_shape(self):
        event = self.rng.choice(EVENTS)
        on = self.rng.choice(SCALARS + [[True], {"on": True}])
        seq = self.rng.choice(SCALARS + [[1], {"seq": 1}, 2 ** 64 - 1])
        opus = self.rng.choice(self.opus)
        choices = {
            "talk": [[{"on": on}], [{"on": True}, self.value()], [{"on": True, "x": self.value()}]],
            "levels": [[{"on": on}], [{"on": False}, self.value()], [{}]],
            "get_config": [[self.value()], [None], []],
            "mic": [[{"seq": seq}, self.placeholder()], [self.placeholder()],
                    [self.placeholder(), {"seq": 1}], [{"seq": 1}, self.placeholder(), "x"]],
        }
        args = self.rng.choice(choices[event])
        body = self.dumps([event, *args])
        if "_placeholder" not in body:
            return [self.msg("2" + self.ack() + body)]
        binary = self.rng.choice([opus, opus[:1], opus + b"\x00" * 4000, b"", b"\xfc\xff\xff",
                                  bytes([(opus[0] & 0xFC) | 3, 63]) + opus[1:]])
        return [self.msg("51-" + self.ack() + body), (2, binary)]

    def deep_nesting(self):
        depth = self.rng.choice([MAX_DEPTH - 2, MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1,
                                 MAX_DEPTH + 2, 40, 100, 1000, 100000])
        inner = depth - 1  # the packet's own array is one level
        kind = self.rng.random()
        if kind < 0.4:
            nested = "[" * inner + "]" * inner
        elif kind < 0.8:
            nested = '{"on":' * inner + "true" + "}" * inner
        else:
            opens = [self.rng.choice(("[", '{"a":')) for _ in range(inner)]
            nested = "".join(opens) + "1" + "".join("]" if o == "[" else "}"
                                                     for o in reversed(opens))
        if self.rng.random() < 0.2:
            nested = nested[:self.rng.randrange(len(nested))]  # unterminated
        return [self.msg("2" + self.ack() + '["' + self.name() + '",' + nested + "]")]

    def huge_string(self):
        overhead = 40
        size = self.rng.choice([65536, 262144, MAX_PAYLOAD - overhead - 100,
                                MAX_PAYLOAD - overhead, MAX_PAYLOAD + 10])
        unit = self.rng.choice(["a", "é", "😀", "\\u0000", "\\\""])
        s = unit * (size // len(unit.encode()))
        where = self.rng.random()
        if where < 0.3:
            return [self.msg('2["' + s + '"]')]  # the event name
        if where < 0.6:
            return [self.msg('2["' + self.name() + '","' + s + '"]')]
        if where < 0.8:
            return [self.msg('2["talk",{"on":true,"name":"' + s + '"}]')]
        return [self.msg('0{"name":"' + s + '"}')]

    def empty_strings(self):
        return [self.msg(self.rng.choice([
            '2[""]', '2["",""]', '2["talk",""]', '2["levels",{"on":""}]', '2["get_config",""]',
            '2["mic",""]', '2[{"":""}]', '2["talk",{"":""}]', '0{"name":""}', '0{"token":""}',
            '0""', "2", "", '2["mic",{"seq":""},""]']))]

    def multibyte(self):
        mb = "".join(self.rng.choice(MULTIBYTE) for _ in range(self.rng.randrange(1, 8)))
        return [self.msg(self.rng.choice([
            '2["' + mb + '"]', '2["talk' + mb + '",{"on":true}]',
            '21["talk",{"on":true,"' + mb + '":"' + mb + '"}]',
            '2["levels",{"on":"' + mb + '"}]', '0{"name":"' + mb * 30 + '"}',
            '2["' + self.name() + '","' + mb + '"]']))]

    @staticmethod
    def cut_templates():
        templates = []
        for mb in ["é", "€", "😀"]:
            templates += [
                '42["talk",{"on":true,"name":"' + mb + '"}]',
                '42["' + "mic" + mb + '"]',
                '42["levels",{"on":"' + mb + '"}]',
                '40{"name":"Ann' + mb + '"}',
                '421["get_config","' + mb + '"]',
                '42/' + mb + ',["talk",{"on":true}]',
            ]
        out = []
        for t in templates:
            raw = t.encode()
            for cut in range(1, len(raw)):
                out.append(raw[:cut])  # truncated, and inside a character where it falls there
            mb_at = next(i for i, b in enumerate(raw) if b >= 0x80)
            mb_end = mb_at + 1
            while mb_end < len(raw) and raw[mb_end] & 0xC0 == 0x80:
                mb_end += 1
            for keep in range(1, mb_end - mb_at):  # part of the character, then the rest
                out.append(raw[:mb_at + keep] + raw[mb_end:])
        return out

    def cut_character(self):
        data = self.cuts[self.sweep % len(self.cuts)]
        self.sweep += 1
        return [(1, data)]

    def binary_lies(self):
        announced = self.rng.choice(["0", "1", "2", "3", "5", "2147483648", "18446744073709551616",
                                     "-1", "", "x"])
        num = self.rng.choice([0, 0, 1, 2, 4, 7, -1, "0", 1.5, None, 2 ** 64, True])
        event = self.rng.choice(EVENTS + ["nope"])
        ph = {"_placeholder": self.rng.choice([True, True, "true", 1]), "num": num}
        args = self.rng.choice([[{"seq": 1}, ph], [ph], [{"on": ph}], [ph, ph], [[ph]]])
        kind = self.rng.choice(["5", "5", "6"])  # binary event, binary ack
        frames = [self.msg(kind + announced + "-" + self.ack() + self.dumps([event, *args]))]
        for _ in range(self.rng.choice([0, 1, 1, 3, 5])):
            frames.append((2, self.rng.choice(self.opus)))
        return frames

    def ack_ids(self):
        ack = self.rng.choice(ACK_IDS)
        return [self.msg(self.rng.choice([
            "2" + ack + '["talk",{"on":true}]', "2" + ack + '["get_config"]',
            "2" + ack + '["talk",{"on":"yes"}]', "3" + ack + "[]", "3" + ack + '["x"]',
            "61-" + ack + '[{"_placeholder":true,"num":0}]', "2" + ack + '["levels",{"on":true}]',
            "2" + ack]))]

    def connect_odd(self):
        auth = self.rng.choice([
            "", "null", "{}", "5", '"Ann"', "[1]", "true", '{"name":5}', '{"token":[1]}',
            '{"name":"\\u0000\\u001b[31m"}', '{"name":"' + "é" * 100 + '"}',
            '{"name":null,"token":null}', '{"name":"a","name":"b"}', "{", '{"name":"\\ud800"}',
            self.dumps(self.value())])
        nsp = self.rng.choice(["", "", "/", "/admin,", "/nope,", "/é,", "//,",
                               "/" + "x" * 300 + ","])
        return [self.msg("0" + nsp + auth)]

    def other_namespace(self):
        nsp = self.rng.choice(["/admin", "/nope", "/é", "/a,b", "/" + "x" * 200, "", "/"])
        return [self.msg(self.rng.choice([
            "2" + nsp + ',["talk",{"on":true}]', "2" + nsp + ',1["get_config"]',
            "1" + nsp + ",", "4" + nsp + ',{"message":"x"}', "3" + nsp + ",1[]",
            "51-" + nsp + ',["mic",{"_placeholder":true,"num":0}]', "2" + nsp + '["talk"]']))]

    def random_bytes(self):
        n = self.rng.choice([0, 1, 2, 10, 100, 1000])
        data = bytes(self.rng.getrandbits(8) for _ in range(n))
        r = self.rng.random()
        if r < 0.3:
            return [(1, data)]
        if r < 0.5:
            return [(2, data)]
        if r < 0.8:
            return [(1, b"4" + data)]
        return [(1, self.rng.choice([b"", b"1", b"3", b"5", b"6", b"7", b"9", b"2probe", b"3probe",
                                     b"b", b"bAAAA", b"0", b"4\x1e4"]))]

    def packet_types(self):
        kind = self.rng.choice("0123456789x")
        return [self.msg(kind + self.rng.choice(["", "[]", '["talk"]', "{}", "1[]", "-",
                                                  '1-["mic"]', "/,", "nan", "[NaN]",
                                                  '["talk",{"on":true}'] ))]

    def valid(self):
        return self.rng.choice([
            [self.msg('2' + str(self.rng.randrange(1000)) + '["talk",{"on":true}]')],
            [self.msg('2' + str(self.rng.randrange(1000)) + '["talk",{"on":false}]')],
            [self.msg('2["levels",{"on":true}]')], [self.msg('2["levels",{"on":false}]')],
            [self.msg('2' + str(self.rng.randrange(1000)) + '["get_config"]')],
            [self.msg('51-["mic",{"seq":' + str(self.rng.randrange(100000)) + '},'
                      '{"_placeholder":true,"num":0}]'), (2, self.rng.choice(self.opus))],
            [self.msg('51-["mic",{"_placeholder":true,"num":0}]'), (2, self.rng.choice(self.opus))],
        ])


def short(frames, limit=160):
    out = []
    for opcode, data in frames:
        text = repr(data[:limit]) + (f"...({len(data)} bytes)" if len(data) > limit else "")
        out.append(f"{'text' if opcode == 1 else 'binary'} {text}")
    return " + ".join(out)


def worker(port, seed, index, seconds):
    """One fuzzing session, reconnecting when closed; prints its figures as
    one JSON line."""
    import websocket
    gen = Gen(random.Random(f"{seed}:{index}"), tone_packets(1000, 1.0))
    gen.sweep = index * len(gen.cuts) // WORKERS  # together the workers cover every cut soon
    rng = random.Random(f"{seed}:{index}:sessions")  # apart, so closes leave gen's sequence
    stats = collections.Counter()
    tail = collections.deque(maxlen=25)
    deadline = time.monotonic() + seconds
    ws = None

    def drain():
        """Reads what is waiting: answers pings; False when the server closed."""
        ws.settimeout(0.0005)
        while True:
            try:
                opcode, data = ws.recv_data(control_frame=True)
            except websocket.WebSocketTimeoutException:
                return True
            except (websocket.WebSocketException, OSError):
                return False
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                stats[f"close_{int.from_bytes(data[:2], 'big') if len(data) >= 2 else 'none'}"] += 1
                return False
            if opcode == websocket.ABNF.OPCODE_TEXT and data == b"2":
                ws.send("3")

    while time.monotonic() < deadline:
        if ws is None:
            try:
                ws = websocket.create_connection(
                    f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket",
                    timeout=5, skip_utf8_validation=True)
                ws.recv()  # the open packet
                stats["sessions"] += 1
                if rng.random() < 0.8:
                    ws.send("40" if rng.random() < 0.5 else '40{"name":"fuzz"}')
            except (websocket.WebSocketException, OSError) as e:
                stats["connect_failures"] += 1
                tail.append(f"connect failed: {e!r}")
                ws = None
                time.sleep(0.05)
                continue
        category, frames = gen.next()
        stats[category] += 1
        tail.append(f"{category}: {short(frames)}")
        try:
            for opcode, data in frames:
                ws.send(data, opcode)
            alive = drain()
        except (websocket.WebSocketException, OSError):
            alive = False
        leave = rng.random() < 0.01  # now and then a fresh session and CONNECT
        if not alive or leave:
            stats["closed_by_server" if not alive else "closed_by_us"] += 1
            try:
                ws.close(timeout=0.2)
            except (websocket.WebSocketException, OSError):
                pass
            ws = None
        time.sleep(rng.uniform(0, 0.004))
    if ws is not None:
        ws.close(timeout=0.2)
    print(json.dumps({"index": index, "stats": stats, "tail": list(tail)}), flush=True)


class EventFuzz(unittest.TestCase):
    def test_fuzzed_events_harm_nobody(self):
        seed = int(os.environ.get("EVENT_FUZZ_SEED") or random.randrange(2 ** 32))
        print(f"event fuzz: seed {seed} (EVENT_FUZZ_SEED={seed} repeats it), "
              f"{SECONDS:.0f} s, {WORKERS} sessions", flush=True)
        d = Daemon()
        d.write_config(d.default_config(extra="  mode: full\n"))
        d.start()
        self.addCleanup(d.close)
        listener = AudioWatch(d.port)
        health = HealthPoller(d)
        health.start()
        time.sleep(1)
        before = status(d)["audio"]["encoder"]["frames_total"]
        started = time.monotonic()
        # The fuzzers stand for clients on other machines: a little nicer
        # than the daemon, which must still read every byte they send.
        workers = [subprocess.Popen(
            ["nice", "-n", "5", sys.executable, os.path.abspath(__file__), "--worker",
             str(d.port), str(seed), str(i), str(SECONDS)],
            stdout=subprocess.PIPE, text=True) for i in range(WORKERS)]
        reports = []
        for w in workers:
            out, _ = w.communicate(timeout=SECONDS + 60)
            reports.append(json.loads(out.strip().splitlines()[-1]) if out.strip() else
                           {"stats": {}, "tail": [f"worker exited {w.returncode}"]})
        ended = time.monotonic()
        time.sleep(0.5)
        alive = d.alive()
        info = status(d) if alive else {}
        after = info["audio"]["encoder"]["frames_total"] if alive else None
        health.stop()
        heard = listener.stop()
        figures = seq_figures(heard["events"], started, ended)
        totals = collections.Counter()
        for r in reports:
            totals.update(r["stats"])
        m = metrics(d) if alive else {}
        summary = {
            "seed": seed, "seconds": round(ended - started, 1), "sanitized": SANITIZED,
            "sent": sum(v for k, v in totals.items() if not k.startswith(("sessions", "closed",
                                                                        "close_", "connect"))),
            "workers": dict(totals),
            "invalid_events": m.get("clubvoice_invalid_events_total"),
            "unknown_events": m.get("clubvoice_unknown_events_total"),
            "protocol_errors": m.get("clubvoice_protocol_errors_total"),
            "internal_errors": m.get("clubvoice_internal_errors_total"),
            "frames_encoded": None if after is None else after - before,
            "listener": figures, "listener_disconnected": heard["disconnected"] is not None,
            "health_polls": health.polls, "health_failures": health.failures[:10],
            "health_slowest_s": round(health.slowest, 3),
            "loop": info.get("loop"),  # the daemon's own event-loop figures, where it has them
        }
        print(json.dumps(summary), flush=True)

        def explain(what):
            lines = [f"{what} (seed {seed}; EVENT_FUZZ_SEED={seed} repeats the messages)"]
            for r in reports:
                lines.append(f"worker {r.get('index')}: last messages:")
                lines += ["  " + t for t in r["tail"]]
            log = d.stderr().splitlines()
            lines.append("daemon log on internal errors:")
            lines += ["  " + t for t in log if "internal" in t or "exception" in t][:20]
            lines.append("daemon log ends:")
            lines += ["  " + t for t in log[-25:]]
            return "\n".join(lines)

        self.assertTrue(alive, explain(f"clubvoiced died (exit status {d.proc.returncode})"))
        self.assertEqual(health.failures, [], explain("/health did not answer 200 throughout"))
        self.assertIn("clubvoice_internal_errors_total", m, "/metrics has no internal errors count")
        self.assertEqual(m["clubvoice_internal_errors_total"], 0,
                         explain("an exception reached a C callback: a check is missing"))
        self.assertIn("clubvoice_invalid_events_total", m, "/metrics has no invalid events count")
        self.assertGreater(m["clubvoice_invalid_events_total"], 0)
        self.assertGreater(totals["closed_by_server"], 0, "the server never closed a session")
        if SECONDS >= 10:
            sent = Gen(random.Random(0), [b"\x78\x00"]).categories
            self.assertEqual([c.__name__ for c, _ in sent if not totals[c.__name__]], [],
                             "categories never sent")
        self.assertIsNone(heard["disconnected"], "the good listener was disconnected")
        self.assertIsNotNone(figures["expected"], "the good listener got no audio")
        self.assertGreaterEqual(figures["expected"], (ended - started) * 50 * 0.9,
                                "the listener's seqs do not span the run")
        self.assertGreaterEqual(figures["ratio"], 0.99,
                                explain(f"the good listener missed frames: {figures}"))
        self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--worker":
        worker(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]))
    else:
        unittest.main(verbosity=2)
