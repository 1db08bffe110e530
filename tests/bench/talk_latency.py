"""Talk-path latency: how long after a talker's first `mic` packet its sound
reaches the playback device, at the default settings and at the low-latency
ones. A python3-socketio client takes the floor and sends 1 s of a 1 kHz tone
in real time (tests/tools/opus_packets); the ALSA `file` playback device
writes what is played, and the tone's onset in that file, plus the device
buffer (audio.buffer_ms) that is written ahead of the clock, is the delay.
Also prints the daemon's own figure: mic packet arrival to playback ring.
Prints a table; not a test.

  /usr/bin/python3 tests/bench/talk_latency.py [--build build] [--runs 3]"""

import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

SETTINGS = {  # name: (config lines, audio.buffer_ms)
    "default (20 ms frames, 10 ms period, 40 ms buffer, jitter 40 ms)": ("", 40),
    "low latency (10 ms frames, 5 ms period, 20 ms buffer, jitter 20 ms)": (
        "  frame_ms: 10\n  period_ms: 5\n  buffer_ms: 20\ntalk: {jitter_target_ms: 20}\n", 20),
}


def measure(harness, talk, extra, buffer_ms):
    d = harness.Daemon()
    try:
        d.write_config(d.default_config(extra=extra))
        d.start()
        harness.wait_until(lambda: os.path.exists(d.playback_path)
                           and os.path.getsize(d.playback_path) > 20000, 5)
        c = talk.Client(d.port)
        c.talk(True)
        packets = talk.tone_packets(1000, 1.0)
        start = os.path.getsize(d.playback_path) // 2
        c.send(packets)
        time.sleep(0.3)
        c.close()
        x = np.fromfile(d.playback_path, dtype="<i2")[start:] / 32768.0
        blocks = x[:len(x) // 240 * 240].reshape(-1, 240)  # 5 ms
        onset_ms = np.nonzero(np.sqrt((blocks ** 2).mean(axis=1)) > 0.05)[0][0] * 5
        ring = d.get_json("/status")[1]["talk"]["mic_to_ring_ms"]["avg"]
        return onset_ms + buffer_ms, ring
    finally:
        d.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    os.environ.setdefault("CLUBVOICED", os.path.join(args.build, "daemon", "clubvoiced"))
    os.environ.setdefault("OPUS_PACKETS", os.path.join(args.build, "tests", "opus-packets"))
    import harness
    import test_talk as talk
    print(f"{'settings':70} {'to device ms':>14} {'mic->ring ms':>13}")
    for name, (extra, buffer_ms) in SETTINGS.items():
        runs = [measure(harness, talk, extra, buffer_ms) for _ in range(args.runs)]
        device = " / ".join(f"{r[0]:.0f}" for r in runs)
        ring = sum(r[1] for r in runs) / len(runs)
        print(f"{name:70} {device:>14} {ring:13.1f}")


if __name__ == "__main__":
    main()
