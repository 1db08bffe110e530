"""Cluster benchmark: one origin and two edges (docs/scaling.md) on this
machine, with listeners on both edges and on the origin in the same run. For
each node it gives the CPU per delivered `audio` packet, and for the edges
the latency the hop origin -> Redis -> edge adds against a listener on the
origin. Prints markdown tables; not a test.

  /usr/bin/python3 tests/bench/cluster_bench.py [--build build-bench]
      [--clients 500] [--origin-clients 500] [--seconds 20]

Set-up, as tests/integration/test_cluster.py has it: Debian's redis-server
on a loopback port, an origin whose software ALSA capture plays a 440 Hz tone
(harness.Daemon), two edges (`cluster.role: edge`, no sound device), all at
the defaults (20 ms frames: 50 `audio` events a second per listener) and log
level warning.

Load: one fanout-loadgen per node (one epoll thread, raw WebSocket clients
counting `audio` events, seq gaps and arrival - `t`), --clients on each edge
and --origin-clients on the origin. Per run: the edges serve, 1 s, the idle
CPU of every node is measured for 3 s (origin: capture, encoding and
publishing; edge: taking the frames from Redis), the listeners connect, 2 s
settle, then --seconds measured.

CPU per delivered packet: user+sys of the daemon process (/proc/PID/stat,
all threads) over the measured window, divided by the `audio` events its
listeners received (fanout-loadgen's count plus the probe's). "net" leaves
out the idle CPU. "lis/core" is what one core would carry at that cost:
(1 - idle share of a core) / (50 packets/s x net µs per packet).

Added latency: a probe (this script run with --probe, a process of its own,
niced to -10 when allowed) holds one raw Socket.IO WebSocket listener on the
origin and one on each edge and reads all three in one select() loop. Each
`audio` event is stamped with the kernel's receive time of its bytes
(SO_TIMESTAMPNS, CLOCK_REALTIME; the probe's own scheduling delay does not
count) and kept with its `seq` and `t` (the capture time, CLOCK_REALTIME ms;
docs/protocol.md). "added" is, per seq received on both, the edge's receive
time minus the origin's: p50/p99 over the window. "probe arr-t" is receive
time - t on each node. When one read returns several events they all carry
the stamp of the last segment read (counted as "batched" in the JSON on
stderr)."""

import argparse
import json
import os
import resource
import select
import socket
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
os.environ.setdefault("CLUBVOICE_SOURCE_ROOT", ROOT)  # the daemons' web root
import wire  # noqa: E402  (raw WebSocket frames, /metrics; imports harness)

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux
FRAMES_PER_S = 50  # audio.frame_ms 20, the default


# ------------------------------------------------------------------ the probe

def probe_main(ports):
    """One raw listener per port, read in one loop. stdin: "start" clears
    the records, "stop" prints them as one JSON line
    {port: [[seq, t_ms, kernel_ns, user_ns], ...], "batched": {port: n}},
    "quit" exits. Prints "ready" once every listener has joined."""
    try:
        os.nice(-10)
    except PermissionError:
        pass
    conns = {}
    for port in ports:
        s, rest = wire.open_upgraded(port)
        s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        s.sendall(wire.client_frame(1, b"40"))
        conns[s] = {"port": port, "buf": bytearray(rest), "joined": False, "events": [],
                    "batched": 0, "unstamped": 0, "closed": False}
    announced = False
    while True:
        ready, _, _ = select.select([sys.stdin] + [s for s in conns if not conns[s]["closed"]],
                                    [], [], 5)
        for s in ready:
            if s is sys.stdin:
                line = sys.stdin.readline()
                if not line or "quit" in line:
                    return 0
                if "start" in line:
                    for c in conns.values():
                        c["events"], c["batched"], c["unstamped"] = [], 0, 0
                elif "stop" in line:
                    out = {str(c["port"]): c["events"] for c in conns.values()}
                    out["batched"] = {str(c["port"]): c["batched"] for c in conns.values()}
                    out["unstamped"] = {str(c["port"]): c["unstamped"] for c in conns.values()}
                    out["closed"] = [c["port"] for c in conns.values() if c["closed"]]
                    print(json.dumps(out), flush=True)
                continue
            c = conns[s]
            data, ancillary, _, _ = s.recvmsg(1 << 16, socket.CMSG_SPACE(16))
            user_ns = time.time_ns()
            kernel_ns = None
            for level, kind, value in ancillary:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                    sec, nsec = struct.unpack("qq", value[:16])
                    kernel_ns = sec * 1_000_000_000 + nsec
            if not data:
                c["closed"] = True
                continue
            if kernel_ns is None:  # no stamp came: the probe's own clock
                kernel_ns = user_ns
                c["unstamped"] += 1
            c["buf"] += data
            frames, c["buf"] = wire.server_frames(c["buf"])
            audio = 0
            for opcode, payload in frames:
                if opcode == 9:  # a WebSocket ping
                    s.sendall(wire.client_frame(10, payload))
                elif opcode != 1:
                    continue
                elif payload.startswith(b'451-["audio"'):
                    meta = json.loads(payload[4:])[1]
                    c["events"].append([meta["seq"], meta["t"], kernel_ns, user_ns])
                    audio += 1
                elif payload == b"2":
                    s.sendall(wire.client_frame(1, b"3"))
                elif payload.startswith(b"40"):
                    c["joined"] = True
            c["batched"] += max(0, audio - 1)
        if not announced and all(c["joined"] for c in conns.values()):
            announced = True
            print("ready", flush=True)


# ------------------------------------------------------------------ the run

def percentile(values, q):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def send(proc, line):
    proc.stdin.write(line + "\n")
    proc.stdin.flush()


def start_node(harness, role, redis_port, cluster_config):
    d = harness.Daemon(with_devices=(role == "origin"))
    d.write_config(d.default_config(log_level="warning",
                                    extra=cluster_config(role, redis_port)))
    d.start()
    return d


def run(opts):
    import fanout_bench  # cpu_seconds
    import harness
    from test_cluster import Redis, cluster_config
    harness.CLUBVOICED = os.path.join(opts.build, "daemon", "clubvoiced")
    cpu = fanout_bench.cpu_seconds
    loadgen = os.path.join(opts.build, "tests", "fanout-loadgen")

    redis = Redis()
    nodes, gens, probe = [], {}, None
    try:
        redis.start()
        origin = start_node(harness, "origin", redis.port, cluster_config)
        nodes.append(("origin", origin, opts.origin_clients))
        for name in ("edge A", "edge B"):
            nodes.append((name, start_node(harness, "edge", redis.port, cluster_config),
                          opts.clients))
        for name, d, _ in nodes:
            if not harness.wait_until(lambda d=d: d.get("/health")[0] == 200, 10):
                raise AssertionError(f"{name} is not serving: {d.get('/health')}\n{d.stderr()}")
        time.sleep(1.0)

        procs = {name: d.proc.pid for name, d, _ in nodes}
        procs["redis"] = redis.proc.pid
        idle0, it0 = {k: cpu(p) for k, p in procs.items()}, time.monotonic()
        time.sleep(3.0)
        idle_rate = {k: (cpu(p) - idle0[k]) / (time.monotonic() - it0) for k, p in procs.items()}

        for name, d, n in nodes:
            if n:
                gens[name] = subprocess.Popen([loadgen, "--port", str(d.port), "--clients",
                                               str(n)], stdin=subprocess.PIPE,
                                              stdout=subprocess.PIPE, text=True)
        connected = {}
        for name, gen in gens.items():
            line = gen.stdout.readline().split()
            connected[name] = int(line[1]) if len(line) == 2 else 0
        probe = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--probe",
                                  ",".join(str(d.port) for _, d, _ in nodes)],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        if probe.stdout.readline().strip() != "ready":
            raise AssertionError("the probe did not join all three nodes")
        time.sleep(2.0)

        before = {name: wire.metrics(d) for name, d, _ in nodes}
        all_pids = dict(procs, probe=probe.pid, **{f"gen {k}": g.pid for k, g in gens.items()})
        cpu0, t0 = {k: cpu(p) for k, p in all_pids.items()}, time.monotonic()
        for proc in [probe, *gens.values()]:
            send(proc, "start")
        time.sleep(opts.seconds)
        for proc in [probe, *gens.values()]:
            send(proc, "stop")
        cpu1, wall = {k: cpu(p) for k, p in all_pids.items()}, time.monotonic() - t0
        after = {name: wire.metrics(d) for name, d, _ in nodes}
        stats = {name: json.loads(gen.stdout.readline()) for name, gen in gens.items()}
        heard = json.loads(probe.stdout.readline())
        for proc in [probe, *gens.values()]:
            send(proc, "quit")
            proc.wait(timeout=10)
        logs = {}
        for name, d, _ in nodes:
            d.stop(timeout=20)
            logs[name] = d.stderr()
    finally:
        for proc in [probe, *gens.values()]:
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
        for _, d, _ in nodes:
            d.close()
        redis.close()

    origin_port = str(nodes[0][1].port)
    origin_rx = {seq: k for seq, _, k, _ in heard[origin_port]}
    origin_user = {seq: u for seq, _, _, u in heard[origin_port]}  # the probe's own clock
    rows = []
    for name, d, n in nodes:
        mine = heard[str(d.port)]
        s = stats.get(name, {"events": 0, "gaps": 0, "alive": 0, "seconds": wall,
                             "disconnects": 0, "delay_p50_us": 0, "delay_p99_us": 0})
        delivered = s["events"] + len(mine)
        used = cpu1[name] - cpu0[name]
        net = used - idle_rate[name] * wall
        # With no loadgen on a node its probe's 50 packets/s say nothing per packet.
        delivered_ok = delivered if n else 0
        net_us = 1e6 * net / delivered_ok if delivered_ok else None
        added = [(k - origin_rx[seq]) / 1e6 for seq, _, k, _ in mine if seq in origin_rx]
        rows.append({
            "node": name, "listeners": n, "alive": s["alive"], "connected": connected.get(name),
            "idle_pct": 100 * idle_rate[name], "cpu_pct": 100 * used / wall,
            "us_per_pkt": 1e6 * used / delivered_ok if delivered_ok else None,
            "net_us_per_pkt": net_us,
            "listeners_per_core": (1 - idle_rate[name]) / (FRAMES_PER_S * net_us * 1e-6)
            if net_us and net_us > 0 else None,
            "delivered": delivered, "delivered_per_s": delivered / wall,
            "expected_per_s": (n + 1) * FRAMES_PER_S,
            "gaps": s["gaps"], "disconnects": s["disconnects"],
            "gen_delay_p50_ms": s["delay_p50_us"] / 1000 if n else None,
            "gen_delay_p99_ms": s["delay_p99_us"] / 1000 if n else None,
            "probe_events": len(mine), "probe_batched": heard["batched"][str(d.port)],
            "probe_unstamped": heard["unstamped"][str(d.port)],
            "probe_delay_p50_ms": percentile([k / 1e6 - t for _, t, k, _ in mine], 0.5),
            "probe_delay_p99_ms": percentile([k / 1e6 - t for _, t, k, _ in mine], 0.99),
            "added_p50_ms": percentile(added, 0.5) if name != "origin" else None,
            "added_p99_ms": percentile(added, 0.99) if name != "origin" else None,
            "added_max_ms": max(added) if added and name != "origin" else None,
            "added_user_p50_ms": percentile(
                [(u - origin_user[seq]) / 1e6 for seq, _, _, u in mine if seq in origin_user],
                0.5) if name != "origin" else None,
            "common_seqs": len(added),
            "gen_cpu_pct": 100 * (cpu1[f"gen {name}"] - cpu0[f"gen {name}"]) / wall
            if name in gens else None,
            "metrics": {k.replace("clubvoice_cluster_", ""): after[name][k] - before[name][k]
                        for k in after[name] if k.startswith("clubvoice_cluster_")
                        and k.endswith("_total")},
            "log_lines": [line for line in logs[name].splitlines() if line.strip()][:20],
        })
    published = rows[0]["metrics"].get("frames_published_total", 0)
    redis_row = {"node": "redis", "idle_pct": 100 * idle_rate["redis"],
                 "cpu_pct": 100 * (cpu1["redis"] - cpu0["redis"]) / wall,
                 "frames_published": published,
                 "us_per_frame": 1e6 * (cpu1["redis"] - cpu0["redis"]) / published
                 if published else float("nan")}
    return {"wall_s": wall, "rows": rows, "redis": redis_row,
            "probe_cpu_pct": 100 * (cpu1["probe"] - cpu0["probe"]) / wall,
            "closed": heard["closed"]}


def fmt(v, spec=".1f"):
    return "–" if v is None else format(v, spec)


def print_tables(result):
    print("| node | listeners | conn | idle % | CPU % | µs/pkt | net µs/pkt | lis/core "
          "| pkt/s (expected) | gaps | loadgen arr−t p50 / p99 ms "
          "| probe arr−t p50 / p99 ms | added vs origin p50 / p99 ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in result["rows"]:
        added = ("–" if r["added_p50_ms"] is None
                 else f"{r['added_p50_ms']:.2f} / {r['added_p99_ms']:.2f}")
        print(f"| {r['node']} | {r['listeners']} + 1 | {r['alive']} | {r['idle_pct']:.1f} "
              f"| {r['cpu_pct']:.1f} | {fmt(r['us_per_pkt'], '.2f')} "
              f"| {fmt(r['net_us_per_pkt'], '.2f')} | {fmt(r['listeners_per_core'], '.0f')} "
              f"| {r['delivered_per_s']:.0f} ({r['expected_per_s']}) | {r['gaps']} "
              f"| {fmt(r['gen_delay_p50_ms'])} / {fmt(r['gen_delay_p99_ms'])} "
              f"| {r['probe_delay_p50_ms']:.1f} / {r['probe_delay_p99_ms']:.1f} | {added} |")
    red = result["redis"]
    print(f"| redis-server | – | – | {red['idle_pct']:.1f} | {red['cpu_pct']:.1f} "
          + "| – " * 8 + "|")
    print()
    print(f"redis-server: {red['us_per_frame']:.1f} µs of CPU per frame published "
          f"({int(red['frames_published'])} frames, each to two edges), its idle work included.")
    gens = ", ".join(f"{r['node']} {fmt(r['gen_cpu_pct'])} %" for r in result["rows"])
    print(f"Measured {result['wall_s']:.1f} s; loadgen CPU: {gens}; "
          f"probe CPU {result['probe_cpu_pct']:.1f} %.")
    for r in result["rows"]:
        m = r["metrics"]
        interesting = {k: int(v) for k, v in m.items() if v and k not in (
            "frames_published_total", "frames_received_total")}
        print(f"- {r['node']}: probe {r['probe_events']} events ({r['probe_batched']} read "
              f"with another, {r['probe_unstamped']} without a kernel stamp), "
              f"seqs shared with the origin's probe {r['common_seqs']}, "
              f"added max {fmt(r['added_max_ms'], '.2f')} ms, added p50 by user-space clock "
              f"{fmt(r['added_user_p50_ms'], '.2f')} ms; published "
              f"{int(m.get('frames_published_total', 0))}, received "
              f"{int(m.get('frames_received_total', 0))}, other cluster counters "
              f"{interesting or 'none'}; disconnects {r['disconnects']}; "
              f"daemon log lines: {len(r['log_lines'])}")
        for line in r["log_lines"][:5]:
            print(f"    {line[:160]}")
    if result["closed"]:
        print(f"probe connections closed by a node: {result['closed']}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build-bench"))
    ap.add_argument("--clients", type=int, default=500, help="listeners on each edge")
    ap.add_argument("--origin-clients", type=int, default=None,
                    help="listeners on the origin (default: --clients; 0: only the probe)")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--probe", help=argparse.SUPPRESS)
    opts = ap.parse_args()
    if opts.probe:
        return probe_main([int(p) for p in opts.probe.split(",")])
    if opts.origin_clients is None:
        opts.origin_clients = opts.clients
    opts.build = os.path.abspath(opts.build)
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 1 << 20), hard))
    with open("/proc/loadavg") as f:
        print(f"load average before: {' '.join(f.read().split()[:3])}, "
              f"{os.cpu_count()} cores", flush=True)
    result = run(opts)
    print_tables(result)
    with open("/proc/loadavg") as f:
        print(f"load average after: {' '.join(f.read().split()[:3])}")
    print(json.dumps(result), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
