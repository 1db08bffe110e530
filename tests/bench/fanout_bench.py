"""Fan-out benchmark: the server CPU each delivered `audio` packet costs, for
clubvoiced, the stock Node socket.io server doing the same work, and a bare
send() loop (the kernel's floor); and beside them clubvoiced's other fan-out,
GET /stream.opus, whose readers get an Ogg page (two 20 ms packets at the
defaults) every 40 ms. Prints a table; not a test.

  /usr/bin/python3 tests/bench/fanout_bench.py [--build build-bench]
      [--clients 100,1000,2000] [--seconds 15] [--servers bare,clubvoiced,stream,node]

"stream" rows give their figures per packet-equivalent (a page's cost over
the Opus packets it carries) in the packet columns, so that they line up with
the Socket.IO rows, and per page in the last two columns, where the Socket.IO
rows show what the same 40 ms of audio costs them (two `audio` events).

Every figure is measured on this one machine with the clients (fanout-loadgen,
one epoll thread) competing for the same cores. "net µs" leaves out what a
server burns with no listener (clubvoiced: capture and Opus encoding),
measured for 3 s before the clients join. --strace runs clubvoiced alone
under `strace -f -c` and prints the send syscalls per delivered event."""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import harness  # noqa: E402  (the daemon's temporary asoundrc and config)

TICK = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


def cpu_seconds(pid):
    """user+sys of a process (all its threads), from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_kib(pid):
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * PAGE_KIB


class Server:
    def __init__(self, kind, build):
        self.kind = kind
        self.daemon = None
        self.port = harness.free_port()
        if kind in ("clubvoiced", "stream"):
            os.environ["CLUBVOICED"] = os.path.join(build, "daemon", "clubvoiced")
            harness.CLUBVOICED = os.environ["CLUBVOICED"]
            self.daemon = harness.Daemon(port=self.port)
            self.daemon.write_config(self.daemon.default_config(log_level="warning"))
            self.daemon.start()
            self.proc = self.daemon.proc
        elif kind == "node":
            self.proc = subprocess.Popen(
                ["node", os.path.join(HERE, "node_reference_server.mjs"), str(self.port)],
                stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
            self.proc.stdout.readline()  # "listening PORT"
        else:
            self.proc = subprocess.Popen(
                [os.path.join(build, "tests", "bare-send"), "--port", str(self.port)],
                stdin=subprocess.DEVNULL)
            time.sleep(0.3)

    def close(self):
        if self.daemon:
            self.daemon.stop(timeout=20)
            self.daemon.close()
        else:
            self.proc.terminate()
            self.proc.wait(timeout=10)


def run_one(kind, n, seconds, build):
    server = Server(kind, build)
    try:
        time.sleep(1.0)
        # What the server burns with nobody listening (clubvoiced: capture and
        # Opus encoding), so the per-packet figure can leave it out.
        idle0, it0 = cpu_seconds(server.proc.pid), time.monotonic()
        time.sleep(3.0)
        idle_rate = (cpu_seconds(server.proc.pid) - idle0) / (time.monotonic() - it0)
        rss0 = rss_kib(server.proc.pid)
        args = [os.path.join(build, "tests", "fanout-loadgen"), "--port", str(server.port),
                "--clients", str(n)]
        if kind == "bare":
            args.append("--raw")
        elif kind == "stream":
            args += ["--http", "/stream.opus"]
        gen = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            line = gen.stdout.readline().split()
            connected = int(line[1]) if len(line) == 2 else 0
            time.sleep(2.0)  # let the joins settle before measuring
            cpu0, gcpu0 = cpu_seconds(server.proc.pid), cpu_seconds(gen.pid)
            t0 = time.monotonic()
            gen.stdin.write("start\n")
            gen.stdin.flush()
            time.sleep(seconds)
            gen.stdin.write("stop\n")
            gen.stdin.flush()
            cpu1, gcpu1 = cpu_seconds(server.proc.pid), cpu_seconds(gen.pid)
            wall = time.monotonic() - t0
            stats = json.loads(gen.stdout.readline())
            rss1 = rss_kib(server.proc.pid)
            gen.stdin.write("quit\n")
            gen.stdin.flush()
            gen.wait(timeout=10)
        finally:
            if gen.poll() is None:
                gen.kill()
                gen.wait()
    finally:
        server.close()
    delivered = stats["events"]
    # The units of the packet columns: a stream page counts for the packets in it.
    packets = stats["packets"] if kind == "stream" else delivered
    per_page = stats["packets"] / delivered if kind == "stream" and delivered else 2.0
    cpu = cpu1 - cpu0
    net = cpu - idle_rate * wall
    return {
        "server": kind, "n": n, "connected": connected, "alive": stats["alive"],
        "cpu_pct": 100 * (cpu1 - cpu0) / wall,
        "us_per_pkt": 1e6 * cpu / packets if packets else float("nan"),
        "net_us_per_pkt": 1e6 * net / packets if packets else float("nan"),
        # Per page for "stream"; per two `audio` events (the same 40 ms) otherwise.
        "us_per_page": 1e6 * cpu * per_page / packets if packets else float("nan"),
        "net_us_per_page": 1e6 * net * per_page / packets if packets else float("nan"),
        "pages": delivered if kind == "stream" else None,
        "idle_cpu_pct": 100 * idle_rate,
        "pkts_per_s": packets / stats["seconds"],
        "expected": n * 50,
        # "stream": pages missing in the readers' page numbers, as packets.
        "gaps": round(stats["gaps"] * per_page) if kind == "stream" else stats["gaps"],
        "binaries": stats["binaries"], "resyncs": stats.get("resyncs", 0),
        "rss_per_listener_kib": (rss1 - rss0) / n,
        "delay_p50_ms": stats["delay_p50_us"] / 1000, "delay_p99_ms": stats["delay_p99_us"] / 1000,
        "gen_cpu_pct": 100 * (gcpu1 - gcpu0) / wall,
    }


def strace_check(n, seconds, build):
    """clubvoiced with N clients, traced (`strace -f -p`) for a few seconds:
    its sendto/write/writev calls, and how many distinct (socket, seq) audio
    events those calls carried. One send per event: the two numbers match."""
    import re
    from collections import Counter
    with harness.Daemon() as d:
        harness.CLUBVOICED = os.path.join(build, "daemon", "clubvoiced")
        d.write_config(d.default_config(log_level="warning"))
        d.start()
        gen = subprocess.Popen([os.path.join(build, "tests", "fanout-loadgen"), "--port",
                                str(d.port), "--clients", str(n)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        gen.stdout.readline()
        time.sleep(1.0)
        out = os.path.join(d.dir.name, "strace.txt")
        tracer = subprocess.Popen(["strace", "-f", "-s", "64", "-o", out, "-e",
                                   "trace=sendto,sendmsg,write,writev", "-p", str(d.proc.pid)],
                                  stderr=subprocess.DEVNULL)
        time.sleep(seconds)
        tracer.send_signal(2)
        tracer.wait(timeout=10)
        gen.stdin.write("stop\nquit\n")
        gen.stdin.flush()
        gen.wait(timeout=10)
        with open(out) as f:
            lines = f.read().splitlines()
        d.stop()
    calls = Counter(m.group(1) for line in lines if (m := re.search(r"\b(sendto|sendmsg|writev|write)\(", line)))
    events = set()
    sizes = Counter()
    for line in lines:
        m = re.search(r'sendto\((\d+), ".*?seq\\":(\d+)', line)
        if m:
            events.add((m.group(1), m.group(2)))
            sizes[line.rsplit("= ", 1)[-1] if line[-1].isdigit() else "unfinished"] += 1
    print(f"N={n}, {seconds} s traced: syscalls {dict(calls)}")
    print(f"distinct (socket, seq) audio events in those sendto calls: {len(events)}; "
          f"sendto calls carrying an audio event: {sum(sizes.values())}; "
          f"their return values (bytes): {dict(sizes)}")
    print("(write calls are the audio thread's, to the ALSA file plugin and the loop's eventfd)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build-bench"))
    ap.add_argument("--clients", default="100,1000,2000")
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--servers", default="bare,clubvoiced,stream,node")
    ap.add_argument("--strace", action="store_true")
    opts = ap.parse_args()
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 1 << 20), hard))

    with open("/proc/loadavg") as f:
        print(f"load average before: {' '.join(f.read().split()[:3])}, {os.cpu_count()} cores")
    header = (f"{'server':<11}{'N':>6}{'conn':>6}{'idle%':>6}{'CPU%':>7}{'µs/pkt':>8}{'net µs':>8}{'pkt/s':>9}"
              f"{'expect':>8}{'gaps':>8}{'KiB/lis':>8}{'p50 ms':>8}{'p99 ms':>8}{'gen CPU%':>9}"
              f"{'µs/page':>9}{'net/page':>9}")
    if opts.strace:
        strace_check(int(opts.clients.split(",")[0]), opts.seconds, opts.build)
        return
    print(header, flush=True)
    rows = []
    for n in (int(x) for x in opts.clients.split(",")):
        for kind in opts.servers.split(","):
            r = run_one(kind, n, opts.seconds, opts.build)
            rows.append(r)
            delay = (f"{r['delay_p50_ms']:>8.1f}{r['delay_p99_ms']:>8.1f}" if kind == "clubvoiced"
                     else f"{'-':>8}{'-':>8}")
            print(f"{kind:<11}{n:>6}{r['alive']:>6}{r['idle_cpu_pct']:>6.1f}{r['cpu_pct']:>7.1f}"
                  f"{r['us_per_pkt']:>8.2f}{r['net_us_per_pkt']:>8.2f}"
                  f"{r['pkts_per_s']:>9.0f}{r['expected']:>8}{r['gaps']:>8}"
                  f"{r['rss_per_listener_kib']:>8.1f}{delay}{r['gen_cpu_pct']:>9.1f}"
                  f"{r['us_per_page']:>9.2f}{r['net_us_per_page']:>9.2f}", flush=True)
    with open("/proc/loadavg") as f:
        print(f"load average after: {' '.join(f.read().split()[:3])}")
    print(json.dumps(rows), file=sys.stderr)


if __name__ == "__main__":
    main()
