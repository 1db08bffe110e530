"""Talking through edges: a real redis-server (Debian) on a loopback port, an
origin with the software ALSA devices and edges with no sound card. A stock
python-socketio talker on an edge is heard in the origin's ALSA playback
file, and every node's clients see the room's talk_state. In `half` mode the
floor is the whole cluster's: a talker on edge A holds it and one on edge B
is refused, releasing on A lets B in, and killing edge A while it holds the
floor releases it. Messages on the room's list that fail their shape check
are counted and dropped, the origin serving on."""

import os
import subprocess
import sys
import time
import unittest

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from harness import Daemon, tone_packets, wait_until  # noqa: E402
from test_cluster import REDIS, ROOM, Redis, cluster_config  # noqa: E402
from test_talk import RATE, Client, spectrum_peak  # noqa: E402
from wire import quiet_socketio_decode_races  # noqa: E402


@unittest.skipUnless(REDIS, "redis-server is not installed (scripts/install-deps installs it)")
class ClusterTalk(unittest.TestCase):
    def setUp(self):
        quiet_socketio_decode_races()
        self.redis = Redis()
        self.addCleanup(self.redis.close)
        self.redis.start()

    def daemon(self, role, mode="full"):
        d = Daemon(with_devices=(role != "edge"))
        d.write_config(d.default_config(
            extra=f"  mode: {mode}\n" + cluster_config(role, self.redis.port)))
        d.start()
        self.addCleanup(d.close)
        if role == "edge":
            self.assertTrue(wait_until(lambda: d.get_json("/health")[0] == 200, 10),
                            d.get_json("/health"))
        return d

    def client(self, d, name=None):
        c = Client(d.port, name)
        self.addCleanup(c.close)
        return c

    def played(self, origin, start=0):
        x = np.fromfile(origin.playback_path, dtype="<i2")[start:]
        return x.astype(np.float64) / 32768.0

    def played_samples(self, origin):
        return os.path.getsize(origin.playback_path) // 2

    def talk_figures(self, d):
        return d.get_json("/status")[1]["cluster_talk"]

    def test_a_talker_on_an_edge_is_heard_in_the_origins_playback(self):
        origin = self.daemon("origin")
        edge = self.daemon("edge")
        here, there = self.client(origin), self.client(edge)
        talker = self.client(edge, "Edda")
        self.assertEqual(talker.talk(True), {"granted": True, "holder": None})
        packets = tone_packets(1000, 2.0)
        start = self.played_samples(origin)
        talker.send(packets)
        time.sleep(0.4)
        x = self.played(origin, start)
        blocks = x[:len(x) // 480 * 480].reshape(-1, 480)
        loud = np.nonzero(np.sqrt((blocks ** 2).mean(axis=1)) > 0.05)[0]
        self.assertGreater(len(loud), 0, "nothing from the edge was played at the origin")
        body = x[loud[0] * 480 + 4800:loud[0] * 480 + 4800 + RATE]
        hz, share = spectrum_peak(body)
        print(f"edge talker at the origin: {hz:.0f} Hz, {share:.2f} of the energy, "
              f"heard {loud[0] * 10} ms into the file")
        self.assertAlmostEqual(hz, 1000, delta=15)
        self.assertGreater(share, 0.8)
        # Nothing lost on the way: the edge relayed them all, the origin took them all.
        self.assertEqual(self.talk_figures(edge)["mic_packets"], len(packets))
        self.assertTrue(wait_until(lambda: origin.get_json("/status")[1]["talk"]["mic_packets"]
                                   == len(packets), 3), origin.get_json("/status")[1]["talk"])
        self.assertEqual(origin.get_json("/status")[1]["talk"]["jitter"]["lost"], 0)

        # talk_state is the room's on every node.
        who = {"id": talker.sid, "name": "Edda"}
        for c in (here, there):
            self.assertTrue(wait_until(lambda c=c: c.states and who in c.states[-1]["talkers"],
                                       3), c.states)
        self.assertEqual(talker.talk(False), {"granted": False, "holder": None})
        for c in (here, there):
            self.assertTrue(wait_until(lambda c=c: c.states and not c.states[-1]["talkers"], 3),
                            c.states)
        self.assertEqual(self.talk_figures(origin)["requests"], 2)
        # The origin forgets a talker that let go (its edge sends no departure for it).
        self.assertTrue(wait_until(lambda: self.talk_figures(origin)["talkers"] == 0, 3),
                        self.talk_figures(origin))
        self.assertEqual(self.talk_figures(edge)["talkers"], 0)

    def test_half_mode_floor_is_one_for_the_whole_cluster(self):
        origin = self.daemon("origin", "half")
        edge_a, edge_b = self.daemon("edge", "half"), self.daemon("edge", "half")
        watcher = self.client(origin)
        a, b = self.client(edge_a, "Anna"), self.client(edge_b, "Bo")
        local = self.client(origin, "Cy")
        first = a.talk(True)
        self.assertTrue(first["granted"], first)
        self.assertEqual(first["holder"], {"id": a.sid, "name": "Anna"})
        for c in (b, local):
            refused = c.talk(True)
            self.assertFalse(refused["granted"])
            self.assertEqual(refused["holder"]["id"], a.sid)
            self.assertEqual(refused["reason"], "the floor is held by Anna")
        self.assertTrue(wait_until(lambda: b.states and b.states[-1]["floor"] and
                                   b.states[-1]["floor"]["id"] == a.sid, 3), b.states)

        # Released on A: B gets it, and A is refused.
        self.assertEqual(a.talk(False), {"granted": False, "holder": None})
        self.assertTrue(b.talk(True)["granted"])
        self.assertFalse(a.talk(True)["granted"])
        self.assertFalse(local.talk(True)["granted"])
        self.assertEqual(b.talk(False), {"granted": False, "holder": None})

        # Edge A dies holding the floor: the origin lets it go within 3 s.
        self.assertTrue(a.talk(True)["granted"])
        edge_a.proc.kill()
        edge_a.proc.wait()
        killed = time.monotonic()
        self.assertTrue(wait_until(lambda: watcher.states and watcher.states[-1]["floor"] is None,
                                   6), watcher.states)
        released_s = time.monotonic() - killed
        print(f"the floor of a killed edge was released after {released_s:.1f} s")
        self.assertTrue(b.talk(True)["granted"])
        self.assertEqual(self.talk_figures(origin)["edges_lost"], 1)

    def test_bad_messages_on_the_rooms_list_are_counted_and_dropped(self):
        origin = self.daemon("origin")
        edge = self.daemon("edge")
        talker = self.client(edge, "Edda")
        self.assertTrue(talker.talk(True)["granted"])
        key = f"clubvoice:{ROOM}:mic"
        junk = ["", "X", "J{", 'J{"kind":"talk"}', 'J[1,2]', "M\x05abc", "M\x02n1\x02c1\x01",
                'J{"kind":"leave","node":"n","id":"' + "x" * 100 + '"}']
        # A packet for the edge's talker from another node: not that node's to send.
        junk.append("M\x05other" + chr(len(talker.sid)) + talker.sid + "\x01" * 9 +
                    "\x08\xff\xfe")
        for message in junk:
            subprocess.run([b"redis-cli", b"-p", str(self.redis.port).encode(), b"RPUSH",
                            key.encode(), message.encode("latin-1")],
                           check=True, capture_output=True)
        self.assertTrue(wait_until(lambda: self.talk_figures(origin)["invalid"] == len(junk), 5),
                        self.talk_figures(origin))
        self.assertEqual(origin.get_json("/health")[1]["status"], "ok")
        # The talker is still heard.
        start = self.played_samples(origin)
        talker.send(tone_packets(1000, 1.0))
        time.sleep(0.4)
        x = self.played(origin, start)
        self.assertGreater(np.abs(x).max(), 0.1, "the talker was not heard after the junk")
        self.assertNotIn("exception", origin.stderr().lower())


if __name__ == "__main__":
    unittest.main()
