"""Bodies over the size limit are refused before being read whole, on a real server.

``tests/server/test_server_differential.py`` already proves, next to stock, that on the default
mount a declared ``Content-Length`` over ``--max-body-size`` gets the JSON 413 before any body byte
is sent, and that a finished chunked body one byte over the limit gets it too. What it does not
prove, this module does, with a raw socket client against ``mlflow-accel server --max-body-size
1000`` on a fresh SQLite database:

- a chunked body that never ends gets the 413 while the client is still sending: the server
  stops reading at the limit (the client has sent at most a few kilobytes);
- a declared length over the limit gets the 413 while the body trickles in, long before it is
  all sent;
- on every fast POST route of the default mount (in front of MLflow's app), and on the
  Flask-view mount (``--expose-prometheus`` puts a Flask hook in the way), where MLflow's WSGI
  bridge would read the whole body before any Flask view runs: ``mounts.flask_views.BodyLimit``
  reads it first, up to the limit;
- afterwards both servers still answer a normal request.
"""

from __future__ import annotations

import json
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
import requests

from tests.support import servers
from tests.support.databases import FreshDatabases

LIMIT = 1000
API = "/api/2.0/mlflow/"
POST_ROUTES = [
    "runs/log-batch",
    "runs/log-metric",
    "runs/log-parameter",
    "runs/set-tag",
    "runs/create",
    "runs/update",
    "runs/search",
    "experiments/create",
    "experiments/search",
    "registered-models/create",
    "model-versions/create",
]
CHUNK = b" " * 500
SEND_BUDGET = 100 * LIMIT  # the server must answer before the client has sent this much
ANSWER_SECONDS = 20.0
MOUNTS = {"front": (), "flask": ("--expose-prometheus", "{workdir}/prometheus")}
CASES = [pytest.param("front", route, id=f"front-{route}") for route in POST_ROUTES] + [
    pytest.param("flask", "runs/log-batch", id="flask-runs/log-batch")
]


def _start(mount: str, backend_uri: str, workdir):
    args = [arg.format(workdir=workdir) for arg in MOUNTS[mount]]
    (workdir / "prometheus").mkdir()
    return servers.start("accel", backend_uri, workdir, "--max-body-size", str(LIMIT), *args)


@pytest.fixture(scope="module")
def running(db_servers, tmp_path_factory):
    """``{mount: server}``, started at once, each on a fresh (already migrated) SQLite database."""
    databases = FreshDatabases(db_servers.get("sqlite"))
    with ThreadPoolExecutor(len(MOUNTS)) as pool:
        futures = {
            mount: pool.submit(
                _start, mount, databases.new(), tmp_path_factory.mktemp(f"limit-{mount}")
            )
            for mount in MOUNTS
        }
    started = {mount: f.result() for mount, f in futures.items() if f.exception() is None}
    try:
        failures = [f.exception() for f in futures.values() if f.exception() is not None]
        if failures:
            raise failures[0]
        yield started
    finally:
        for server in started.values():
            server.stop()
        databases.close()


def _head(url: str, route: str, framing: bytes) -> socket.socket:
    parts = urlsplit(url)
    conn = socket.create_connection((parts.hostname, parts.port), timeout=ANSWER_SECONDS)
    head = (
        f"POST {API}{route} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: application/json\r\n"
    ).encode()
    conn.sendall(head + framing + b"\r\n")
    return conn


def _answer(data: bytes) -> tuple[int, dict] | None:
    """The status and JSON body of a complete response in ``data``, else None."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return None
    length = next(
        (
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        None,
    )
    if length is None or len(body) < length:
        return None
    return int(head.split()[1]), json.loads(body[:length])


def _send_until_answered(conn: socket.socket, piece) -> tuple[tuple[int, dict] | None, int]:
    """Send ``piece(sent)`` over and over until the server answers; ``(answer, bytes sent)``."""
    conn.settimeout(0.01)
    received, sent = b"", 0
    deadline = time.monotonic() + ANSWER_SECONDS
    try:
        while sent < SEND_BUDGET and time.monotonic() < deadline:
            try:
                data = conn.recv(65536)
                if not data:
                    break
                received += data
                if _answer(received):
                    break
            except TimeoutError:
                pass
            try:
                conn.sendall(piece)
                sent += len(piece)
            except (BrokenPipeError, ConnectionResetError):
                conn.settimeout(ANSWER_SECONDS)
                received += conn.recv(65536)
                break
    finally:
        conn.close()
    return _answer(received), sent


def _assert_refused(answer, sent: int) -> None:
    assert answer is not None, f"no answer after sending {sent} bytes"
    status, error = answer
    assert status == 413
    assert error["error_code"] == "INVALID_PARAMETER_VALUE"
    assert f"limit of {LIMIT} bytes" in error["message"]
    assert sent < SEND_BUDGET, f"answered only after {sent} bytes"


@pytest.mark.parametrize(("mount", "route"), CASES)
def test_endless_chunked_body_refused_while_sending(running, mount, route):
    conn = _head(running[mount].url, route, b"Transfer-Encoding: chunked\r\n")
    chunk = b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK)
    _assert_refused(*_send_until_answered(conn, chunk))


@pytest.mark.parametrize(("mount", "route"), CASES)
def test_declared_length_over_limit_refused_while_sending(running, mount, route):
    conn = _head(running[mount].url, route, b"Content-Length: %d\r\n" % (10 * SEND_BUDGET))
    _assert_refused(*_send_until_answered(conn, CHUNK))


@pytest.mark.parametrize("mount", sorted(MOUNTS))
def test_server_still_serves_after_refusals(running, mount):
    resp = requests.post(
        running[mount].url + API + "experiments/search", json={"max_results": 1}, timeout=30
    )
    assert resp.status_code == 200, resp.text
