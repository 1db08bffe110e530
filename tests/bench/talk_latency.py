"""Talk-path latency with an audience: how long after a talker sends a burst
of tone its sound reaches the playback device, and how much of it goes
missing, with 0, 1,000 and 2,000 listeners taking every frame
(tests/bench/fanout-loadgen), at the default settings and at the low-latency
ones, side by side in one run.

A python3-socketio client takes the floor and sends 8 s of a 1 kHz tone in
bursts (200 ms on, 100 ms off; tests/tools/opus_packets) in real time. The
ALSA `file` playback device writes what is played; each burst's onset there,
plus the device buffer (audio.buffer_ms) written ahead of the clock, minus
when the burst was sent, is one latency sample. A gap is a 5 ms block inside
a burst under 5 % of the tone's level. The listeners' side over the same
8 s: the `audio` events they got against what they should have (every frame
to every listener), the gaps in their seqs, their p99 arrival - `t`, and the
frames the capture ring lost to a late loop. Prints a table; not a test.

  /usr/bin/python3 tests/bench/talk_latency.py [--build build] [--listeners 0,1000,2000]
      [--settings "default,low latency"]"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

SETTINGS = {  # name: (config lines, audio.buffer_ms)
    "default": ("", 40),
    "low latency": (
        "  frame_ms: 10\n  period_ms: 5\n  buffer_ms: 20\ntalk: {jitter_target_ms: 20}\n", 20),
}
BURST_MS, CYCLE_MS = 200, 300
SECONDS = 8.0
AMPLITUDE = 0.3


def analyse(x, sent_at_sample, buffer_ms):
    """Latency of each burst (ms) and gap ms inside bursts. A burst's onset is
    the start of the first loud run of at least 20 ms after it was sent (a
    burst's decaying tail can leave a single loud block behind it); a gap is
    a quiet 5 ms block within the burst's 200 ms from that onset."""
    blocks = x[:len(x) // 240 * 240].reshape(-1, 240)  # 5 ms
    loud = np.sqrt((blocks ** 2).mean(axis=1)) > 0.05 * AMPLITUDE / np.sqrt(2)
    edges = np.flatnonzero(np.diff(np.r_[0, loud.astype(np.int8), 0]))
    starts, ends = edges[::2], edges[1::2]
    onsets = starts[(ends - starts) >= 4]
    latencies, gaps = [], 0
    for k in range(int(SECONDS * 1000) // CYCLE_MS):
        expected = (sent_at_sample // 240) + k * CYCLE_MS // 5
        found = onsets[(onsets >= expected) & (onsets < expected + CYCLE_MS // 5)]
        if len(found) == 0:
            gaps += BURST_MS  # the whole burst is missing
            continue
        onset = int(found[0])
        latencies.append((onset - expected) * 5 + buffer_ms)
        body = loud[onset:onset + BURST_MS // 5 - 1]  # the last block may straddle the end
        gaps += int((~body).sum()) * 5
    return latencies, gaps


def measure(harness, talk, build, extra, buffer_ms, listeners):
    d = harness.Daemon()
    gen = None
    try:
        d.write_config(d.default_config(log_level="warning", extra="  mode: full\n" + extra))
        d.start()
        harness.wait_until(lambda: os.path.exists(d.playback_path)
                           and os.path.getsize(d.playback_path) > 20000, 5)
        if listeners:
            gen = subprocess.Popen([os.path.join(build, "tests", "fanout-loadgen"), "--port",
                                    str(d.port), "--clients", str(listeners)],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            gen.stdout.readline()
            time.sleep(2.0)
        c = talk.Client(d.port)
        c.talk(True)
        packets = talk.tone_packets(1000, SECONDS, AMPLITUDE, bursts=True)
        start = os.path.getsize(d.playback_path) // 2
        if gen is not None:
            gen.stdin.write("start\n")
            gen.stdin.flush()
        c.send(packets)
        heard = None
        if gen is not None:
            gen.stdin.write("stop\n")
            gen.stdin.flush()
            heard = json.loads(gen.stdout.readline())
        time.sleep(0.5)
        c.close()
        x = np.fromfile(d.playback_path, dtype="<i2")[start:] / 32768.0
        latencies, gaps = analyse(x, 0, buffer_ms)
        status = d.get_json("/status")[1]
        return latencies, gaps, status, heard
    finally:
        if gen is not None:
            gen.kill()
            gen.wait()
        d.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--listeners", default="0,1000,2000")
    ap.add_argument("--settings", default=",".join(SETTINGS), help="names from: " + ", ".join(SETTINGS))
    args = ap.parse_args()
    os.environ.setdefault("CLUBVOICED", os.path.join(args.build, "daemon", "clubvoiced"))
    os.environ.setdefault("OPUS_PACKETS", os.path.join(args.build, "tests", "opus-packets"))
    import harness
    import test_talk as talk
    with open("/proc/loadavg") as f:
        print("load average before:", " ".join(f.read().split()[:3]))
    print(f"{'settings':12} {'listeners':>9} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} "
          f"{'gaps ms':>8} {'talk_gaps':>9} {'loop max ms':>11} {'events (expected)':>19} "
          f"{'seq gaps':>8} {'arr-t p99':>9} {'overruns':>8}")
    for name in args.settings.split(","):
        extra, buffer_ms = SETTINGS[name]
        for n in [int(v) for v in args.listeners.split(",")]:
            lat, gaps, status, heard = measure(harness, talk, args.build, extra, buffer_ms, n)
            p50, p99 = np.percentile(lat, [50, 99]) if lat else (float("nan"),) * 2
            frame_ms = status["audio"]["encoder"]["frame_ms"]
            if heard:
                expected = round(n * heard["seconds"] * 1000 / frame_ms)
                listeners = (f"{heard['events']:>10d} ({expected:>6d}) {heard['gaps']:8d} "
                             f"{heard['delay_p99_us'] / 1000:9.1f}")
            else:
                listeners = f"{'-':>19} {'-':>8} {'-':>9}"
            print(f"{name:12} {n:9d} {p50:7.0f} {p99:7.0f} {max(lat or [0]):7.0f} {gaps:8d} "
                  f"{status['audio']['playback']['talk_gaps_total']:9d} "
                  f"{status['loop']['longest_pass_ms']:11.1f} {listeners} "
                  f"{status['audio']['capture']['overruns_total']:8d}")
            sys.stdout.flush()
    print(json.dumps({"note": "latency = burst onset in the playback file + audio.buffer_ms"}))


if __name__ == "__main__":
    main()
