"""Fixtures of the monitoring tests: the payloads in ``fixtures/``, and a real Prometheus
Alertmanager (the Debian package's binary) started on loopback with a webhook receiver
thread it posts to (/work/shared/TEST-SERVERS.md section 1)."""

import copy
import http.server
import json
import queue
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
ALERTMANAGER = "/usr/bin/prometheus-alertmanager"

_loaded = {}


def load(name: str):
    """A fixture payload, a fresh copy each time (tests change them)."""
    if name not in _loaded:
        _loaded[name] = json.loads((FIXTURES / name).read_text())
    return copy.deepcopy(_loaded[name])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.put(body)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


class RunningAlertmanager:
    def __init__(self, url: str, received: queue.Queue):
        self.url = url
        self.received = received

    def post_alerts(self, alerts: list) -> int:
        request = urllib.request.Request(  # noqa: S310 (http on loopback, built here)
            f"{self.url}/api/v2/alerts",
            data=json.dumps(alerts).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status

    def next_body(self, timeout: float) -> bytes:
        """The next webhook body Alertmanager posted, raw."""
        return self.received.get(timeout=timeout)


@pytest.fixture
def alertmanager_server():
    """A real Alertmanager on a free loopback port, grouping quickly (group_wait 1s,
    group_interval 1s, repeat_interval 5s), whose single receiver is a webhook to a thread
    of this test; stopped with SIGTERM (SIGKILL if it hangs) at the end."""
    if not Path(ALERTMANAGER).exists():
        pytest.skip(f"{ALERTMANAGER} is missing (Debian package prometheus-alertmanager)")
    hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    hook.received = queue.Queue()
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    tmp = Path(tempfile.mkdtemp(prefix="am-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    (tmp / "alertmanager.yml").write_text(
        "route: {receiver: hook, group_by: [alertname], group_wait: 1s, group_interval: 1s,"
        " repeat_interval: 5s}\n"
        "receivers:\n"
        "  - name: hook\n"
        "    webhook_configs:\n"
        f"      - {{url: 'http://127.0.0.1:{hook.server_address[1]}/hook', send_resolved: true}}\n"
    )
    log = open(tmp / "alertmanager.log", "wb")  # noqa: SIM115 (closed in the finally)
    proc = subprocess.Popen(
        [
            ALERTMANAGER,
            f"--config.file={tmp / 'alertmanager.yml'}",
            f"--storage.path={tmp / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
            f"--web.external-url={url}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"alertmanager exited rc={proc.returncode}: "
                    f"{(tmp / 'alertmanager.log').read_text()[-2000:]}"
                )
            try:
                ready = f"{url}/-/ready"
                with urllib.request.urlopen(ready, timeout=1) as response:  # noqa: S310
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("alertmanager not ready after 15 s")
            time.sleep(0.05)
        yield RunningAlertmanager(url, hook.received)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        hook.shutdown()
        hook.server_close()
        shutil.rmtree(tmp, ignore_errors=True)
