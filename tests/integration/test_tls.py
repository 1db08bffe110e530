"""HTTPS and WSS: with server.tls_cert_file and server.tls_key_file set, the
daemon serves its routes and Socket.IO over TLS only (stock python3-socketio
over WebSocket and polling, with a self-signed certificate made by the
openssl command); unreadable or mismatched files stop start-up with one line
naming the key."""

import http.client
import os
import ssl
import subprocess
import sys
import threading
import unittest

import requests
import socketio

sys.path.insert(0, os.path.dirname(__file__))
from harness import Daemon  # noqa: E402


def make_cert(directory, name="tls"):
    cert, key = os.path.join(directory, f"{name}.crt"), os.path.join(directory, f"{name}.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    return cert, key


def with_server_keys(d, keys):
    """The harness's config with more keys in its server mapping."""
    plain = f"server: {{host: 127.0.0.1, port: {d.port}}}"
    return d.default_config().replace(plain, plain[:-1] + ", " + keys + "}")


def tls_daemon(cert, key, **kwargs):
    d = Daemon(**kwargs)
    d.write_config(with_server_keys(d, f"tls_cert_file: {cert}, tls_key_file: {key}"))
    return d


class Tls(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.keys = Daemon(notify=False)  # only for its temporary directory
        cls.cert, cls.key = make_cert(cls.keys.dir.name)
        # The clients verify the daemon against this certificate (requests
        # prefers these variables to a session's own setting).
        os.environ["REQUESTS_CA_BUNDLE"] = cls.cert
        os.environ.pop("CURL_CA_BUNDLE", None)

    def test_https_and_wss_serve_and_plain_http_does_not(self):
        with tls_daemon(self.cert, self.key) as d:
            d.start()
            context = ssl.create_default_context(cafile=self.cert)
            conn = http.client.HTTPSConnection("127.0.0.1", d.port, timeout=5, context=context)
            conn.request("GET", "/health")
            r = conn.getresponse()
            self.assertEqual(r.status, 200)
            self.assertIn(b'"status":"ok"', r.read())
            conn.close()

            for transports in (["websocket"], ["polling"]):
                got_config, audio = threading.Event(), threading.Event()
                session = requests.Session()
                session.verify = self.cert  # also what the WebSocket transport checks against
                client = socketio.Client(reconnection=False, http_session=session)
                client.on("config", lambda cfg: got_config.set())
                client.on("audio", lambda meta, data: audio.set())
                client.connect(f"https://127.0.0.1:{d.port}", transports=transports,
                               wait_timeout=5)
                try:
                    self.assertTrue(got_config.wait(5), transports)
                    self.assertTrue(audio.wait(5), transports)
                    self.assertEqual(client.call("get_config", timeout=5)["codec"], "opus")
                finally:
                    client.disconnect()

            with self.assertRaises((http.client.HTTPException, ConnectionError, OSError)):
                plain = http.client.HTTPConnection("127.0.0.1", d.port, timeout=3)
                plain.request("GET", "/health")
                status = plain.getresponse().status
                if status != 200:
                    raise ConnectionError(f"plain HTTP answered {status}")
            self.assertEqual(d.stop(), 0)

    def test_unusable_files_stop_start_up_with_one_line(self):
        missing = os.path.join(self.keys.dir.name, "missing.key")
        garbage = os.path.join(self.keys.dir.name, "garbage.crt")
        with open(garbage, "w") as f:
            f.write("not a certificate\n")
        other_cert, _ = make_cert(self.keys.dir.name, "other")
        cases = [
            (self.cert, missing, rf"server\.tls_key_file: cannot read {missing}: "
                                 r"No such file or directory"),
            (garbage, self.key, r"server\.tls_cert_file: cannot use "),
            (other_cert, self.key, r"server\.tls_cert_file: cannot use "),
        ]
        for cert, key, expected in cases:
            with tls_daemon(cert, key, notify=False) as d:
                d.start(wait_ready=False)
                self.assertEqual(d.proc.wait(timeout=10), 1, cert)
                errors = [line for line in d.stderr().splitlines() if line.startswith("error:")]
                self.assertEqual(len(errors), 1, d.stderr())
                self.assertRegex(errors[0], expected)

    def test_certificate_without_key_is_a_config_error(self):
        d = Daemon(notify=False)
        with d:
            d.write_config(with_server_keys(d, f"tls_cert_file: {self.cert}"))
            d.start(wait_ready=False)
            self.assertEqual(d.proc.wait(timeout=10), 1)
            self.assertIn("server.tls_key_file: must be set too when server.tls_cert_file is",
                          d.stderr())


if __name__ == "__main__":
    unittest.main(verbosity=2)
