"""Debian's python3-socketio client against clubvoiced over WebSocket, over
polling only, and with the polling->WebSocket upgrade."""

import os
import sys
import threading
import unittest

import socketio

sys.path.insert(0, os.path.dirname(__file__))
from harness import Daemon  # noqa: E402

TRANSPORTS = {"websocket": ["websocket"], "polling": ["polling"],
              "upgrade": ["polling", "websocket"]}


class PythonClient(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.daemon = Daemon()
        cls.daemon.start()

    @classmethod
    def tearDownClass(cls):
        code = cls.daemon.stop()
        cls.daemon.close()
        assert code == 0, f"clubvoiced exited with {code}"

    def check(self, transports):
        client = socketio.Client(reconnection=False)
        got_config = threading.Event()
        configs = []

        @client.on("config")
        def on_config(data):
            configs.append(data)
            got_config.set()

        client.connect(f"http://127.0.0.1:{self.daemon.port}", transports=transports,
                       wait_timeout=5)
        try:
            self.assertTrue(got_config.wait(5), "no config event")
            self.assertEqual(configs[0]["codec"], "opus")
            self.assertEqual(configs[0]["sampleRate"], 48000)
            reply = client.call("get_config", timeout=5)
            self.assertEqual(reply["version"], configs[0]["version"])
            self.assertEqual(client.transport(), transports[-1])
        finally:
            client.disconnect()

    def test_websocket(self):
        self.check(TRANSPORTS["websocket"])

    def test_polling(self):
        self.check(TRANSPORTS["polling"])

    def test_upgrade(self):
        self.check(TRANSPORTS["upgrade"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
