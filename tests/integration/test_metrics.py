"""One table of figures: every metric `clubvoiced --list-metrics` describes is
in a running daemon's /metrics (with its type) and in /status at its path,
/metrics has nothing the table does not describe, the numeric figures of
/status's "server" and "loop" sections are all in the table, and
docs/metrics.md lists exactly the table (scripts/metrics-doc rewrites it)."""

import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import CLUBVOICED, SOURCE_ROOT, Daemon  # noqa: E402

MISSING = object()
# Settings /status repeats from the configuration, not figures.
CONFIG_ECHOES = {"/server/port"}


def listed():
    out = subprocess.run([CLUBVOICED, "--list-metrics"], capture_output=True, text=True,
                         check=True).stdout
    rows = [line.split("\t") for line in out.splitlines()]
    for row in rows:
        assert len(row) == 5, row
    return rows


def at(doc, pointer):
    for part in pointer.strip("/").split("/"):
        if not isinstance(doc, dict) or part not in doc:
            return MISSING
        doc = doc[part]
    return doc


def numeric_leaves(doc, prefix=""):
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from numeric_leaves(value, f"{prefix}/{key}")
    elif isinstance(doc, (int, float)) and not isinstance(doc, bool):
        yield prefix


class Metrics(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.rows = listed()
        with Daemon() as d:
            d.write_config(d.default_config(extra="  mode: full\n"))
            d.start()
            status, _, body = d.get("/metrics")
            assert status == 200
            cls.metrics = body.decode()
            cls.status = d.get_json("/status")[1]

    def test_names_are_unique_and_well_formed(self):
        names = [r[0] for r in self.rows]
        self.assertGreater(len(names), 60)
        self.assertEqual(len(names), len(set(names)), "a name is listed twice")
        paths = [r[3] for r in self.rows]
        self.assertEqual(len(paths), len(set(paths)), "a /status path is listed twice")
        for name, kind, unit, path, help_text in self.rows:
            self.assertRegex(name, r"^clubvoice_[a-z0-9_]+$")
            self.assertIn(kind, ("counter", "gauge", "histogram"))
            if kind == "counter":
                self.assertTrue(name.endswith("_total"), name)
            self.assertTrue(path.startswith("/"), path)
            self.assertTrue(help_text, name)

    def test_every_metric_is_in_metrics_with_its_type(self):
        types = dict(re.findall(r"^# TYPE (clubvoice_[a-z0-9_]+) (\w+)$", self.metrics,
                                re.MULTILINE))
        self.assertEqual(len(re.findall(r"^# TYPE ", self.metrics, re.MULTILINE)), len(types),
                         "a metric is written twice")
        for name, kind, *_ in self.rows:
            self.assertEqual(types.get(name), kind, name)
        self.assertEqual(sorted(set(types) - {r[0] for r in self.rows}), [],
                         "in /metrics but not in the table")

    def test_every_metric_is_in_status_at_its_path(self):
        for name, kind, unit, path, _ in self.rows:
            value = at(self.status, path)
            self.assertIsNot(value, MISSING, f"{name}: nothing at {path} in /status")
            if unit == "info":
                self.assertIsInstance(value, str, name)
            elif unit == "bool":
                self.assertIsInstance(value, bool, name)
            elif value is not None:
                self.assertIsInstance(value, (int, float), name)

    def test_status_has_no_figure_outside_the_table(self):
        paths = {r[3] for r in self.rows}
        for section in ("server", "loop"):
            for leaf in numeric_leaves(self.status[section], "/" + section):
                if leaf in CONFIG_ECHOES:
                    continue
                self.assertIn(leaf, paths, f"/status {leaf} is not in the metric table")

    def test_docs_list_exactly_the_table(self):
        with open(os.path.join(SOURCE_ROOT, "docs", "metrics.md")) as f:
            doc = f.read()
        documented = re.findall(r"^\| `(clubvoice_[a-z0-9_]+)` \| (\w+) \| [^|]* \| `([^`]+)` \|",
                                doc, re.MULTILINE)
        self.assertEqual(documented, [(r[0], r[1], r[3]) for r in self.rows],
                         "docs/metrics.md differs from the table: run scripts/metrics-doc")


if __name__ == "__main__":
    unittest.main(verbosity=2)
