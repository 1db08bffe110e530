"""Builds the .deb the way an operator would, from a plain copy of the source
tree (never inside the checkout, which must not collect debian/ build
products). Standard library only."""

import os
import re
import shutil
import subprocess
import tempfile
import time

SOURCE_ROOT = os.environ.get(
    "CLUBVOICE_SOURCE_ROOT", os.path.dirname(os.path.dirname(os.path.dirname(__file__))))

BUILD_TOOLS = ["dpkg-buildpackage", "dpkg-checkbuilddeps", "dh", "lintian", "systemd-analyze"]


def missing_tools():
    return [t for t in BUILD_TOOLS if shutil.which(t) is None]


def meson_version():
    with open(os.path.join(SOURCE_ROOT, "meson.build")) as f:
        return re.search(r"version\s*:\s*'([^']+)'", f.read()).group(1)


def changelog_version():
    changelog = os.path.join(SOURCE_ROOT, "debian", "changelog")
    out = subprocess.run(["dpkg-parsechangelog", "-l", changelog, "-S", "Version"], check=True,
                         capture_output=True, text=True)
    return out.stdout.strip()


def manpage_version():
    with open(os.path.join(SOURCE_ROOT, "docs", "clubvoiced.8")) as f:
        return re.search(r'^\.TH .*"clubvoice ([^"]+)"', f.read(), re.M).group(1)


def source_files():
    """What a checkout holds right now: tracked and new files (not ignored
    ones, not deleted ones), or everything but build output without git."""
    try:
        out = subprocess.run(["git", "-C", SOURCE_ROOT, "ls-files", "-z", "--cached", "--others",
                              "--exclude-standard"], check=True, capture_output=True)
        names = [n for n in out.stdout.decode().split("\0") if n]
    except (OSError, subprocess.CalledProcessError):
        names = []
        for top, dirs, files in os.walk(SOURCE_ROOT):
            dirs[:] = [d for d in dirs if not d.startswith(("build", ".git", "node_modules"))]
            names += [os.path.relpath(os.path.join(top, f), SOURCE_ROOT) for f in files]
    return sorted(n for n in names if os.path.lexists(os.path.join(SOURCE_ROOT, n)))


def copy_source(dest):
    for name in source_files():
        target = os.path.join(dest, name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(os.path.join(SOURCE_ROOT, name), target, follow_symlinks=False)


class PackageBuild:
    """One dpkg-buildpackage run in a temporary directory; .deb, .changes and
    the build log end up next to the copied source, as dpkg puts them."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="clubvoice-pkg-")
        self.src = os.path.join(self.dir, "clubvoice")
        self.log = os.path.join(self.dir, "build.log")
        version = changelog_version()
        arch = subprocess.run(["dpkg", "--print-architecture"], check=True, capture_output=True,
                              text=True).stdout.strip()
        self.deb = os.path.join(self.dir, f"clubvoice_{version}_{arch}.deb")
        self.changes = os.path.join(self.dir, f"clubvoice_{version}_{arch}.changes")
        self.seconds = None
        self.error = None  # why build() failed, kept for every later caller

    def build(self):
        copy_source(self.src)
        deps = subprocess.run(["dpkg-checkbuilddeps"], cwd=self.src, capture_output=True, text=True)
        if deps.returncode != 0:
            raise AssertionError(f"build dependencies missing (apt-get build-dep ./ or "
                                 f"scripts/install-deps): {deps.stderr.strip()}")
        env = dict(os.environ, DEB_BUILD_OPTIONS=f"nocheck parallel={os.cpu_count() or 1}")
        started = time.monotonic()
        with open(self.log, "w") as log:
            rc = subprocess.run(["dpkg-buildpackage", "-b", "-us", "-uc"], cwd=self.src, env=env,
                                stdout=log, stderr=subprocess.STDOUT).returncode
        self.seconds = time.monotonic() - started
        if rc != 0:
            with open(self.log) as log:
                tail = "".join(log.readlines()[-40:])
            raise AssertionError(f"dpkg-buildpackage failed ({rc}); end of {self.log}:\n{tail}")
        print(f"package built in {self.seconds:.0f} s: {self.deb}", flush=True)

    def unpack(self, dest):
        subprocess.run(["dpkg-deb", "-x", self.deb, dest], check=True)

    def field(self, name):
        return subprocess.run(["dpkg-deb", "-f", self.deb, name], check=True, capture_output=True,
                              text=True).stdout.strip()

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)
