"""HTTPS and WSS: with server.tls_cert_file and server.tls_key_file set, the
daemon serves its routes and Socket.IO over TLS only (stock python3-socketio
over WebSocket and polling, with a self-signed certificate made by the
openssl command); unreadable or mismatched files stop start-up with one line
naming the key. A reload (SIGHUP) serves renewed files at the same paths to new
clients without dropping a connected listener, and refuses a bad pair with one
line while the served certificate stays."""

import http.client
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import threading
import unittest

import requests
import socketio

sys.path.insert(0, os.path.dirname(__file__))
from harness import CLUBVOICED, Daemon, wait_until  # noqa: E402


def make_cert(directory, name="tls", newkey=("-newkey", "rsa:2048")):
    cert, key = os.path.join(directory, f"{name}.crt"), os.path.join(directory, f"{name}.key")
    subprocess.run(["openssl", "req", "-x509", *newkey, "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    return cert, key


def with_server_keys(d, keys):
    """The harness's config with more keys in its server mapping."""
    return d.default_config(server=", " + keys)


def tls_daemon(cert, key, **kwargs):
    d = Daemon(**kwargs)
    d.write_config(with_server_keys(d, f"tls_cert_file: {cert}, tls_key_file: {key}"))
    return d


def der_of(cert):
    with open(cert) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


def served_der(port, cafiles):
    """The certificate a new client gets (DER), checked against any of cafiles,
    after a /health that must answer 200."""
    context = ssl.create_default_context()
    for cafile in cafiles:
        context.load_verify_locations(cafile)
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=5, context=context)
    try:
        conn.request("GET", "/health")
        der = conn.sock.getpeercert(binary_form=True)
        r = conn.getresponse()
        r.read()
        assert r.status == 200, r.status
        return der
    finally:
        conn.close()


def install(source, target):
    """Overwrites target in place with source's bytes (None: removes target)."""
    if source is None:
        os.remove(target)
    else:
        shutil.copyfile(source, target)


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

    def served_daemon(self):
        """A daemon serving copies of the class's pair, at paths a test overwrites."""
        d = Daemon()
        cert, key = os.path.join(d.dir.name, "served.crt"), os.path.join(d.dir.name, "served.key")
        install(self.cert, cert)
        install(self.key, key)
        d.write_config(with_server_keys(d, f"tls_cert_file: {cert}, tls_key_file: {key}"))
        return d, cert, key

    def reload(self, d):
        """SIGHUP, then the daemon's log lines written until it was ready again."""
        mark, logged = len(d.notify.messages), len(d.stderr())
        d.signal(signal.SIGHUP)
        _, after = d.notify.wait_for("READY", "1", after=mark)
        self.assertIn("reloaded", after.get("STATUS", ""))
        return d.stderr()[logged:].splitlines()

    def listener(self, d, cafile):
        """A WSS Socket.IO client: (client, seqs of its audio events, disconnected)."""
        seqs, disconnected = [], threading.Event()
        session = requests.Session()
        session.verify = cafile
        client = socketio.Client(reconnection=False, http_session=session)
        client.on("audio", lambda meta, data: seqs.append(meta["seq"]))
        client.on("disconnect", disconnected.set)
        client.connect(f"https://127.0.0.1:{d.port}", transports=["websocket"], wait_timeout=5)
        self.assertTrue(wait_until(lambda: len(seqs) > 5, 5), "no audio over WSS")
        return client, seqs, disconnected

    def test_reload_serves_renewed_files_and_keeps_listeners(self):
        d, cert, key = self.served_daemon()
        with d:
            d.start()
            trusted = [self.cert]
            self.assertEqual(served_der(d.port, trusted), der_of(self.cert))
            old, seqs, disconnected = self.listener(d, self.cert)
            try:
                # certbot renews into the same paths: a new key and serial.
                renewed_cert, renewed_key = make_cert(d.dir.name, "renewed")
                install(renewed_cert, cert)
                install(renewed_key, key)
                lines = self.reload(d)
                self.assertEqual([line for line in lines if line.startswith("error:")], [])
                served = [line for line in lines if "server.tls_cert_file: now serving" in line]
                self.assertEqual(len(served), 1, lines)
                self.assertIn(f"now serving {cert} to new connections: CN=127.0.0.1, serial ",
                              served[0])
                trusted.append(renewed_cert)
                self.assertEqual(served_der(d.port, trusted), der_of(renewed_cert))
                self.assertNotEqual(der_of(renewed_cert), der_of(self.cert))

                # The listener connected before the reload keeps getting the room.
                heard = len(seqs)
                self.assertTrue(wait_until(lambda: len(seqs) > heard + 25, 5),
                                "the WSS listener stopped getting audio after the reload")
                self.assertFalse(disconnected.is_set())
                self.assertTrue(old.connected)
                self.assertEqual(seqs, sorted(seqs))

                # A new WSS client trusts only the renewed certificate.
                new, new_seqs, _ = self.listener(d, renewed_cert)
                new.disconnect()
                self.assertTrue(new_seqs)
            finally:
                old.disconnect()
            self.assertEqual(d.stop(), 0)

    def test_reload_refuses_bad_files_and_keeps_the_served_certificate(self):
        d, cert, key = self.served_daemon()
        with d:
            d.start()
            scratch = d.dir.name
            garbage = os.path.join(scratch, "garbage.pem")
            with open(garbage, "w") as f:
                f.write("not a certificate\n")
            other_cert, _ = make_cert(scratch, "other")
            damaged = os.path.join(scratch, "damaged.crt")
            with open(other_cert) as f, open(damaged, "w") as out:
                out.write(f.read()[:700])  # the BEGIN line, no END line
            ec_cert, ec_key = make_cert(scratch, "ec", ("-newkey", "ec", "-pkeyopt",
                                                       "ec_paramgen_curve:P-256"))
            c, k = re.escape(cert), re.escape(key)
            cases = [
                (garbage, self.key, rf"server\.tls_cert_file: {c}: no PEM certificate in it"),
                (damaged, self.key,
                 rf"server\.tls_cert_file: {c}: certificate 1 is not a valid PEM certificate"),
                (other_cert, self.key,
                 rf"server\.tls_key_file: {k}: not the private key of the certificate in {c}"),
                (self.cert, None,
                 rf"server\.tls_key_file: cannot read {k}: No such file or directory"),
                (self.cert, garbage, rf"server\.tls_key_file: {k}: no readable PEM private key"),
                (ec_cert, ec_key, rf"server\.tls_cert_file: {c}: its key is EC, the served "
                                  r"certificate's is RSA; switching key types needs a restart"),
            ]
            for new_cert, new_key, expected in cases:
                install(new_cert, cert)
                install(new_key, key)
                lines = self.reload(d)
                errors = [line for line in lines if line.startswith("error:")]
                self.assertEqual(len(errors), 1, lines)
                self.assertRegex(errors[0], "^error: " + expected)
                self.assertRegex(errors[0], r"; certificate reload refused, still serving "
                                            r"CN=127\.0\.0\.1, serial [0-9A-F]+, valid until ")
                self.assertEqual(served_der(d.port, [self.cert]), der_of(self.cert), expected)
                # systemctl reload runs --check-config first: a pair that cannot
                # load fails there, visibly (a new key type loads; only serving it fails).
                check = subprocess.run([CLUBVOICED, "--check-config", "-c", d.config_path],
                                       capture_output=True, text=True)
                if new_cert != ec_cert:
                    self.assertEqual(check.returncode, 1, check.stderr)
                    self.assertRegex(check.stderr, expected)

            # Put right again: the same certificate, said at info level.
            install(self.cert, cert)
            install(self.key, key)
            lines = self.reload(d)
            self.assertEqual([line for line in lines if line.startswith("error:")], [])
            self.assertTrue(any(line.startswith(f"info: server.tls_cert_file: {cert} unchanged")
                                for line in lines), lines)
            self.assertEqual(d.stop(), 0)

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
