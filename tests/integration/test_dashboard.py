"""docs/grafana-dashboard.json charts only series the daemon exports: every
clubvoice_* name in its queries (histograms by their _bucket/_sum/_count
series) appears in a running daemon's /metrics."""

import json
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import SOURCE_ROOT, Daemon  # noqa: E402


class Dashboard(unittest.TestCase):
    def test_every_charted_series_is_exported(self):
        with open(os.path.join(SOURCE_ROOT, "docs", "grafana-dashboard.json")) as f:
            dashboard = json.load(f)
        charted = set()
        for panel in dashboard["panels"]:
            for target in panel["targets"]:
                charted.update(re.findall(r"clubvoice_[a-z_]+", target["expr"]))
        self.assertGreater(len(charted), 20)
        with Daemon() as d:
            d.start()
            status, _, body = d.get("/metrics")
            self.assertEqual(status, 200)
        exported = set(re.findall(r"^(clubvoice_[a-z_]+)", body.decode(), re.MULTILINE))
        missing = sorted(charted - exported)
        self.assertEqual(missing, [], "charted but not exported")


if __name__ == "__main__":
    unittest.main(verbosity=2)
