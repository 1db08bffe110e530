#!/usr/bin/env python3
"""Writes clubvoice@.service (one room per instance) from clubvoice.service.

The template unit is the packaged unit with the blocks in CHANGES replaced
and nothing else, so both keep one sandbox and one exposure score. Each old
block must appear exactly once in clubvoice.service: when an edit there
touches one of them, the build stops and names it, and this table is brought
up to date with the edit.

usage: instance_unit.py clubvoice.service clubvoice@.service [SBIN_PATH]
SBIN_PATH replaces /usr/sbin/clubvoiced for builds with another prefix."""

import sys

CHANGES = [
    ("# clubvoiced: a room's sound device on the web.\n"
     "# Local changes belong in a drop-in (`systemctl edit clubvoice`), not here.\n",
     "# clubvoiced for one of several rooms on a box: clubvoice@ROOM reads\n"
     "# /etc/clubvoice/ROOM.yaml. Made from clubvoice.service at build time;\n"
     "# only the lines naming the room differ, the sandbox is the same.\n"
     "# Local changes belong in a drop-in (`systemctl edit clubvoice@ROOM`, or\n"
     "# `systemctl edit clubvoice@.service` for every room), not here.\n"),

    ("Description=clubvoice room audio on the web\n",
     "Description=clubvoice room audio on the web (%i)\n"),

    ("After=network.target sound.target\n",
     "After=network.target sound.target\n"
     "# A room without a file fails its start at once (\"Assertion failed on\n"
     "# job\") instead of restarting over and over.\n"
     "AssertPathExists=/etc/clubvoice/%i.yaml\n"),

    ("# Another configuration file: set this in a drop-in; start and reload follow.\n"
     "Environment=CLUBVOICE_CONFIG=/etc/clubvoice/clubvoice.yaml\n",
     "# The room's own file; start and reload both read it.\n"
     "Environment=CLUBVOICE_CONFIG=/etc/clubvoice/%i.yaml\n"
     "# Log lines name the room (`journalctl -t clubvoiced-ROOM`, or -u as usual).\n"
     "SyslogIdentifier=clubvoiced-%i\n"),

    ("# /var/lib/clubvoice, the one writable place (record.dir defaults to its\n"
     "# recordings/); with DynamicUser it lives in /var/lib/private, kept across\n"
     "# restarts and removed on purge (debian/clubvoice.postrm).\n"
     "StateDirectory=clubvoice\n",
     "# /var/lib/clubvoice-rooms/ROOM, the room's one writable place: the room's\n"
     "# file sets record.dir to /var/lib/clubvoice-rooms/ROOM/recordings (the\n"
     "# default, /var/lib/clubvoice/recordings, is clubvoice.service's and not\n"
     "# writable here). Not /var/lib/clubvoice/ROOM: with DynamicUser that\n"
     "# directory is a symlink, and systemd cannot put another unit's state\n"
     "# directory under it. It lives in /var/lib/private, kept across restarts\n"
     "# and removed on purge (debian/clubvoice.postrm).\n"
     "StateDirectory=clubvoice-rooms/%i\n"),
]


def instance_unit(text):
    for old, new in CHANGES:
        found = text.count(old)
        if found != 1:
            raise SystemExit(f"clubvoice.service holds this block {found} times, not once; "
                             f"bring systemd/instance_unit.py up to date:\n{old}")
        text = text.replace(old, new)
    return text


def main():
    if len(sys.argv) not in (3, 4):
        raise SystemExit(__doc__.rsplit("\n\n", 1)[1])
    with open(sys.argv[1]) as f:
        text = instance_unit(f.read())
    if len(sys.argv) == 4:
        text = text.replace("/usr/sbin/clubvoiced", sys.argv[3])
    with open(sys.argv[2], "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
