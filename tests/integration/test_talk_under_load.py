"""A talker heard without a gap while the loop feeds a full house: 1,000 raw
WebSocket listeners (tests/bench/fanout-loadgen) take every `audio` frame
while a stock python3-socketio talker sends 8 s of a 1 kHz tone in `full`
mode. The tone must reach the playback file with no gap longer than 5 ms (one
5 ms block),
every listener must get every frame, and the daemon must count no playback
period it had to fill with silence while the talker played. Label `load`:
run by the README's test command, not in the sanitizer pass (the load is
the point). TALK_LOAD_LISTENERS overrides the audience (e.g. 2000)."""

import json
import os
import subprocess
import sys
import time
import unittest

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from harness import Daemon, wait_until  # noqa: E402
from test_talk import OPUS_PACKETS, RATE, Client, tone_packets  # noqa: E402

LOADGEN = os.path.join(os.path.dirname(os.path.abspath(OPUS_PACKETS)), "fanout-loadgen")
LISTENERS = int(os.environ.get("TALK_LOAD_LISTENERS", "1000"))
SECONDS = 8.0


def gaps(x, amplitude):
    """(total, longest) milliseconds of 5 ms blocks, between the tone's onset
    and its end, whose level is under 5 % of the tone's."""
    blocks = x[:len(x) // 240 * 240].reshape(-1, 240)
    quiet = np.sqrt((blocks ** 2).mean(axis=1)) < 0.05 * amplitude / np.sqrt(2)
    loud = np.nonzero(~quiet)[0]
    if len(loud) == 0:
        return None, None
    inside = quiet[loud[0]:loud[-1] + 1]
    longest = run = 0
    for q in inside:
        run = run + 1 if q else 0
        longest = max(longest, run)
    return int(inside.sum()) * 5, longest * 5


class TalkUnderLoad(unittest.TestCase):
    def test_talker_is_heard_without_gaps_while_1000_listeners_are_fed(self):
        with Daemon() as d:
            d.write_config(d.default_config(log_level="warning", extra="  mode: full\n"))
            d.start()
            wait_until(lambda: os.path.exists(d.playback_path), 5)
            gen = subprocess.Popen([LOADGEN, "--port", str(d.port), "--clients", str(LISTENERS)],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            try:
                line = gen.stdout.readline().split()
                self.assertEqual(line, ["connected", str(LISTENERS)])
                time.sleep(2.0)  # the joins settle
                gen.stdin.write("start\n")
                gen.stdin.flush()
                talker = Client(d.port, "load")
                self.assertTrue(talker.talk(True)["granted"])
                packets = tone_packets(1000, SECONDS, 0.3)
                start = os.path.getsize(d.playback_path) // 2
                talker.send(packets)
                time.sleep(0.5)
                talker.close()
                gen.stdin.write("stop\n")
                gen.stdin.flush()
                listeners = json.loads(gen.stdout.readline())
                gen.stdin.write("quit\n")
                gen.stdin.flush()
                gen.wait(timeout=20)
            finally:
                if gen.poll() is None:
                    gen.kill()
                    gen.wait()
            status = d.get_json("/status")[1]
            x = np.fromfile(d.playback_path, dtype="<i2")[start:].astype(np.float64) / 32768.0
            total_gap, longest_gap = gaps(x, 0.3)
            figures = {
                "listeners": LISTENERS, "alive": listeners["alive"],
                "events": listeners["events"], "seq_gaps": listeners["gaps"],
                "tone_gap_ms": total_gap, "longest_gap_ms": longest_gap,
                "talk_gaps": status["audio"]["playback"]["talk_gaps_total"],
                "capture_overruns": status["audio"]["capture"]["overruns_total"],
                "stream_drops": status["server"]["stream_drops"],
                "mixer": status["talk"]["mixer"], "jitter": status["talk"]["jitter"],
                "loop": status.get("loop"),
            }
            print("talk under load:", json.dumps(figures))
            self.assertEqual(listeners["alive"], LISTENERS)
            self.assertEqual(listeners["gaps"], 0, "listeners missed frames")
            self.assertEqual(status["audio"]["capture"]["overruns_total"], 0)
            self.assertIsNotNone(longest_gap, "the tone never reached the playback device")
            self.assertLessEqual(longest_gap, 5, "the talker's tone had a gap over 5 ms")
            self.assertEqual(status["audio"]["playback"]["talk_gaps_total"], 0)
            # The tone lasted as long as it was sent.
            self.assertGreater(len(x) / RATE, SECONDS)


if __name__ == "__main__":
    unittest.main(verbosity=2)
