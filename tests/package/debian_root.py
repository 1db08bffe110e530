"""A throw-away Debian 12 root for the boot test.

The minbase root (with systemd) is made by debootstrap once and kept as a
tarball under /var/cache/clubvoice-test, named by the day it was made and
reused for a week; downloaded packages are kept there too, so a warm run
needs no network. Each run unpacks a fresh copy, boots it with
`systemd-nspawn --register=no --keep-unit --boot` (this machine's PID 1 is not
systemd, so nspawn cannot register with machined) and drives it from outside
with nsenter, which reaches the container's own systemctl and journalctl."""

import datetime
import fcntl
import glob
import hashlib
import os
import shutil
import stat
import subprocess
import tempfile
import time

CACHE = os.environ.get("CLUBVOICE_TEST_CACHE", "/var/cache/clubvoice-test")
MIRROR = os.environ.get("CLUBVOICE_TEST_MIRROR", "http://deb.debian.org/debian")
SUITE = "bookworm"
MAX_AGE_DAYS = 7
TOOLS = ["debootstrap", "systemd-nspawn", "nsenter", "curl", "tar"]


def missing_tools():
    return [t for t in TOOLS if shutil.which(t) is None]


def _run(cmd, timeout=900, **kw):
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({result.returncode}):\n"
                             f"{result.stdout[-3000:]}{result.stderr[-3000:]}")
    return result


class _CacheLock:
    """Serialises runs that create the base or share the package cache."""

    def __enter__(self):
        os.makedirs(CACHE, exist_ok=True)
        self.file = open(os.path.join(CACHE, "lock"), "w")
        fcntl.flock(self.file, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        self.file.close()


def _run_in_root(root, *cmd, timeout=900):
    """Runs one command in the root without booting it, with the host's
    network and the shared package cache."""
    archives = os.path.join(CACHE, "apt-archives")
    os.makedirs(os.path.join(archives, "partial"), exist_ok=True)
    return _run(["systemd-nspawn", "--quiet", "--register=no", "--keep-unit", "-D", root,
                 f"--bind={archives}:/var/cache/apt/archives",
                 "-E", "DEBIAN_FRONTEND=noninteractive", *cmd], timeout=timeout)


def base_tarball():
    """The newest cached base root, made now if none is younger than a week."""
    with _CacheLock():
        today = datetime.date.today()
        tars = sorted(glob.glob(os.path.join(CACHE, f"{SUITE}-minbase-*.tar")))
        fresh = [t for t in tars if (today - datetime.datetime.strptime(
            t.rsplit("-", 1)[1][:8], "%Y%m%d").date()).days < MAX_AGE_DAYS]
        if fresh:
            return fresh[-1], False
        target = os.path.join(CACHE, f"{SUITE}-minbase-{today:%Y%m%d}.tar")
        work = tempfile.mkdtemp(prefix="base-", dir=CACHE)
        try:
            root = os.path.join(work, "root")
            _run(["debootstrap", "--variant=minbase", "--include=systemd,dbus", SUITE, root,
                  MIRROR], timeout=1800)
            with open(os.path.join(root, "etc/apt/sources.list"), "w") as f:
                f.write(f"deb {MIRROR} {SUITE} main\ndeb {MIRROR} {SUITE}-updates main\n"
                        f"deb http://deb.debian.org/debian-security {SUITE}-security main\n")
            _run_in_root(root, "apt-get", "update", "-q")
            _run(["tar", "--numeric-owner", "-C", root, "-cf", target + ".part", "."])
            os.rename(target + ".part", target)
            # Older roots, and packages their lists pointed at, are done with.
            for old in tars + glob.glob(os.path.join(CACHE, "apt-archives", "*.deb")):
                os.unlink(old)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return target, True


class Container:
    """One unpacked root; boot() starts systemd in it, sh() runs a shell
    command inside (as root, in all of its namespaces)."""

    def __init__(self, parent_dir):
        self.root = os.path.join(parent_dir, "root")
        self.console_log = os.path.join(parent_dir, "console.log")
        self.nspawn = None
        self.leader = None

    def unpack(self, tarball):
        os.makedirs(self.root)
        _run(["tar", "--numeric-owner", "-C", self.root, "-xf", tarball])

    def apt_get(self, *args):
        """apt-get in the root before it boots (with the host's network);
        stale package lists get one update."""
        cmd = ["apt-get", "-y", "-q", "--no-install-recommends", *args]
        with _CacheLock():
            try:
                return _run_in_root(self.root, *cmd)
            except AssertionError:
                _run_in_root(self.root, "apt-get", "update", "-q")
                return _run_in_root(self.root, *cmd)

    def boot(self, timeout=90):
        # No network but loopback. The container's systemd cannot raise hard
        # limits (nspawn withholds CAP_SYS_RESOURCE), so nspawn is asked for
        # ones high enough for the unit's LimitRTPRIO=/LimitMEMLOCK=; it can
        # grant them only where it holds CAP_SYS_RESOURCE itself. Without
        # CAP_IPC_LOCK, nspawn's own seccomp filter would refuse mlock calls
        # to everything in the container, limits or not.
        with open(self.console_log, "w") as log:
            self.nspawn = subprocess.Popen(
                ["systemd-nspawn", "--quiet", "--register=no", "--keep-unit", "--boot",
                 "--private-network", "--capability=CAP_IPC_LOCK", "--rlimit=RLIMIT_RTPRIO=95",
                 "--rlimit=RLIMIT_MEMLOCK=infinity", "-D", self.root],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while self.leader is None and time.monotonic() < deadline:
            if self.nspawn.poll() is not None:
                raise AssertionError(f"systemd-nspawn exited ({self.nspawn.returncode}):\n"
                                     f"{self.console()}")
            children = subprocess.run(["pgrep", "-P", str(self.nspawn.pid)], capture_output=True,
                                      text=True).stdout.split()
            for pid in children:
                try:
                    with open(f"/proc/{pid}/comm") as f:
                        if f.read().strip() == "systemd":
                            self.leader = int(pid)
                except OSError:
                    pass
            time.sleep(0.1)
        if self.leader is None:
            raise AssertionError(f"no systemd in the container after {timeout} s:\n"
                                 f"{self.console()}")
        # systemd opens its private socket shortly after it starts.
        while True:
            left = max(1, int(deadline - time.monotonic()))
            state = self.sh(f"timeout {left} systemctl is-system-running --wait", check=False)
            if "Failed to connect to bus" not in state.stderr or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        if state.stdout.strip() not in ("running", "degraded"):
            raise AssertionError(f"container did not boot: {state.stdout}{state.stderr}\n"
                                 f"{self.console()}")
        return state.stdout.strip()

    def sh(self, script, check=True, timeout=120):
        result = subprocess.run(["nsenter", "-t", str(self.leader), "-a", "/bin/sh", "-c", script],
                                capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"in the container: {script}\nexit {result.returncode}\n"
                                 f"{result.stdout}{result.stderr}")
        return result

    def http_get(self, path, port=5000):
        """(status, body) of a GET from inside the container's network."""
        out = subprocess.run(["nsenter", "-t", str(self.leader), "-n", "curl", "-sS", "-m", "5",
                              "-w", "\n%{http_code}", f"http://127.0.0.1:{port}{path}"],
                             capture_output=True, text=True, timeout=30)
        body, _, status = out.stdout.rpartition("\n")
        return int(status or 0), body

    def console(self):
        with open(self.console_log, errors="replace") as f:
            return f.read()[-4000:]

    def poweroff(self, timeout=60):
        if self.nspawn is None or self.nspawn.poll() is not None:
            return
        if self.leader is not None:
            self.sh("systemctl poweroff", check=False)
        try:
            self.nspawn.wait(timeout)
        except subprocess.TimeoutExpired:
            self.nspawn.terminate()  # nspawn asks the container's systemd to halt
            try:
                self.nspawn.wait(30)
            except subprocess.TimeoutExpired:
                self.nspawn.kill()
                self.nspawn.wait()


# What a boot changes by itself (logs, journal, caches, systemd's own state,
# dpkg's databases): left out when comparing the root before and after.
VOLATILE = ("proc", "sys", "dev", "run", "tmp", "var/tmp", "var/log", "var/cache",
            "var/lib/apt", "var/lib/dpkg/status", "var/lib/dpkg/status-old",
            "var/lib/dpkg/available", "var/lib/dpkg/lock", "var/lib/dpkg/lock-frontend",
            "var/lib/dpkg/triggers", "var/lib/dpkg/updates", "var/lib/systemd/catalog",
            "var/lib/systemd/random-seed", "var/lib/systemd/timers", "var/lib/systemd/timesync",
            "var/lib/systemd/linger", "var/lib/dbus", "etc/machine-id", "etc/ld.so.cache")


def snapshot(root):
    """Every path in the root with its type, mode, size and (for files under
    /etc) a content hash."""
    found = {}
    for top, dirs, files in os.walk(root):
        rel_top = os.path.relpath(top, root)
        rel_top = "" if rel_top == "." else rel_top
        dirs[:] = [d for d in dirs if os.path.join(rel_top, d) not in VOLATILE]
        for name in dirs + files:
            rel = os.path.join(rel_top, name)
            if rel in VOLATILE:
                continue
            st = os.lstat(os.path.join(root, rel))
            entry = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)
            if stat.S_ISLNK(st.st_mode):
                entry += (os.readlink(os.path.join(root, rel)),)
            elif stat.S_ISREG(st.st_mode):
                entry += (st.st_size,)
                if rel.startswith("etc/"):
                    with open(os.path.join(root, rel), "rb") as f:
                        entry += (hashlib.sha256(f.read()).hexdigest(),)
            found["/" + rel] = entry
    return found


def differences(before, after):
    lines = [f"left behind: {p}" for p in sorted(after.keys() - before.keys())]
    lines += [f"removed: {p}" for p in sorted(before.keys() - after.keys())]
    lines += [f"changed: {p}" for p in sorted(before.keys() & after.keys())
              if before[p] != after[p]]
    return lines
