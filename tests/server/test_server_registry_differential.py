"""HTTP differential of the model registry: ``mlflow-accel server`` answers like ``mlflow server``.

One stock and one accel server per dialect (``tests/support/servers.py``, each on its own fresh
database; all dialects boot at once), seen through ``tests/support/http_differential.py``'s
``Side``, receive the registry corpus (``tests/support/registry_corpus.py``: every registry route,
GET/POST/PATCH/DELETE, API and AJAX prefixes, bad inputs) as raw HTTP, each server's sequence on its
own thread. Every response is compared (status, content type, body with run ids mapped to the
corpus' names and server-chosen times and webhook ids masked); then both databases: the tracking
tables as the tracking differential compares them, and every row of the registry tables.

Webhooks: before the corpus runs, each server gets a webhook (with a secret) subscribed to every
registry and prompt event, pointing at a small HTTP receiver of this test. Every event the corpus
causes (model and version created, version tags set/deleted, aliases created/deleted, and their
prompt twins) must reach the receiver from accel exactly as from stock: the same events with the
same payloads (delivery ids and timestamps aside), each correctly signed.
"""

from __future__ import annotations

import base64
import json
import re
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from mlflow.webhooks.delivery import _generate_hmac_signature

from tests.store.test_registry_differential import dump_registry
from tests.support import servers
from tests.support.databases import (
    FreshDatabases,
    ServerUnavailable,
    differences,
    table_differences,
)
from tests.support.http_differential import NOW_FLOOR, Side
from tests.support.registry_corpus import REGISTRY_CORPUS
from tests.support.server_corpus import API, JSON_TYPE, SAME

SECRET = "webhook-secret-1234"
#: Every event a registry route may deliver (MLflow's VALID_ENTITY_ACTIONS for the registry).
EVENTS = [
    ("REGISTERED_MODEL", "CREATED"),
    ("MODEL_VERSION", "CREATED"),
    ("MODEL_VERSION_TAG", "SET"),
    ("MODEL_VERSION_TAG", "DELETED"),
    ("MODEL_VERSION_ALIAS", "CREATED"),
    ("MODEL_VERSION_ALIAS", "DELETED"),
    ("PROMPT", "CREATED"),
    ("PROMPT_VERSION", "CREATED"),
    ("PROMPT_TAG", "SET"),
    ("PROMPT_TAG", "DELETED"),
    ("PROMPT_VERSION_TAG", "SET"),
    ("PROMPT_VERSION_TAG", "DELETED"),
    ("PROMPT_ALIAS", "CREATED"),
    ("PROMPT_ALIAS", "DELETED"),
]
#: Both servers: webhooks may call a local http receiver; the same hash seed
#: (MLflow's messages list Python sets in iteration order).
SERVER_ENV = {
    "PYTHONHASHSEED": "0",
    "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS": "true",
    "MLFLOW_WEBHOOK_ALLOWED_SCHEMES": "http,https",
    "MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY": base64.urlsafe_b64encode(b"k" * 32).decode(),
}
_TIME_KEYS = {
    "creation_timestamp",
    "last_updated_timestamp",
    "creation_time",
    "last_updated_time",
    "timestamp",
}
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_RECEIVER = re.compile(r"http://127\.0\.0\.1:\d+/\w+/(stock|accel)")


def mask(x, key=None):
    """Server-chosen times -> ``<now>``, webhook ids -> ``<uuid>``, each server's receiver URL
    -> ``<receiver>``."""
    if isinstance(x, dict):
        return {k: mask(v, k) for k, v in x.items()}
    if isinstance(x, list):
        return [mask(v) for v in x]
    if key in _TIME_KEYS and str(x).isdigit() and int(x) >= NOW_FLOOR:
        return "<now>"
    if isinstance(x, str):
        return _RECEIVER.sub("<receiver>", _UUID.sub("<uuid>", x))
    return x


# -- the webhook receiver ------------------------------------------------------------------------


class Receiver(ThreadingHTTPServer):
    """Records every POST: ``deliveries[path]`` is a list of ``(headers, body bytes)``."""

    daemon_threads = True

    def __init__(self):
        self.deliveries: dict[str, list] = {}
        self.lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(handler):  # noqa: N805 -- the receiver's own ``self`` is in scope
                body = handler.rfile.read(int(handler.headers.get("Content-Length", 0)))
                with self.lock:
                    self.deliveries.setdefault(handler.path, []).append(
                        ({k.lower(): v for k, v in handler.headers.items()}, body)
                    )
                handler.send_response(200)
                handler.send_header("Content-Length", "0")
                handler.end_headers()

            def log_message(handler, *args):  # noqa: N805
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"

    def count(self, path: str) -> int:
        with self.lock:
            return len(self.deliveries.get(path, []))


# -- the servers and what they answered ----------------------------------------------------------


def hook_path(side: Side) -> str:
    """Where ``side``'s webhook delivers: one path per dialect and server."""
    return f"/{side.server.log.parent.name}/{side.server.kind}"


@pytest.fixture(scope="module")
def receiver():
    server = Receiver()
    yield server
    server.shutdown()
    server.server_close()


class Boot:
    """Boots every dialect's stock and accel server at once (each pair on its own fresh
    databases and working directory), so later dialects boot while the first is tested."""

    def __init__(self, db_servers, root, dialects):
        self.pool = ThreadPoolExecutor(2 * len(dialects))
        self.databases, self.futures, self.unavailable = {}, {}, {}
        for dialect in dialects:
            try:
                self.databases[dialect] = FreshDatabases(db_servers.get(dialect))
            except ServerUnavailable as e:
                self.unavailable[dialect] = e
                continue
            for kind in ("stock", "accel"):
                uri = self.databases[dialect].new()
                self.futures[dialect, kind] = (
                    uri,
                    self.pool.submit(servers.start, kind, uri, root / dialect, env=SERVER_ENV),
                )

    def sides(self, dialect) -> list[Side]:
        """The dialect's stock and accel side (the ``dialect`` fixture has failed or skipped
        already if its database is unavailable)."""
        pair = []
        for kind in ("stock", "accel"):
            uri, future = self.futures[dialect, kind]
            server = future.result()
            pair.append(Side(server, uri, str(server.log.parent / "artifacts")))
        return pair

    def close(self) -> None:
        for _, future in self.futures.values():
            if future.exception() is None:
                future.result().stop()
        self.pool.shutdown()
        for databases in self.databases.values():
            databases.close()


@pytest.fixture(scope="module")
def boot(request, db_servers, tmp_path_factory):
    """All dialects this module's selected tests use, booted together on first use."""
    dialects = {
        item.callspec.params["dialect"]
        for item in request.session.items
        if item.module is sys.modules[__name__]
        and "dialect" in getattr(item, "callspec", {}).params
    }
    booted = Boot(db_servers, tmp_path_factory.mktemp("registry-servers"), sorted(dialects))
    yield booted
    booted.close()


@pytest.fixture(scope="module")
def sides(dialect, boot):
    return boot.sides(dialect)


@pytest.fixture(scope="module")
def webhooks(sides, receiver):
    """Each server's webhook, created before any registry event; both answers."""
    answers = []
    for side in sides:
        response = requests.post(
            side.server.url + API + "webhooks",
            json={
                "name": "all-registry-events",
                "url": receiver.url(hook_path(side)),
                "events": [{"entity": e, "action": a} for e, a in EVENTS],
                "secret": SECRET,
                "description": "differential test",
            },
            timeout=30,
        )
        assert response.status_code == 200, response.text
        answers.append(mask(response.json()))
    return answers


@pytest.fixture(scope="module")
def outcomes(sides, webhooks):
    """Every corpus request's canonical answer from both servers, and both databases after."""
    with ThreadPoolExecutor(2) as pool:  # each server's sequence on its own thread
        stock, accel = pool.map(
            lambda side: [mask(side.exchange(req)) for req in REGISTRY_CORPUS], sides
        )
    answers = {req.name: pair for req, *pair in zip(REGISTRY_CORPUS, stock, accel, strict=True)}
    return answers, [database(side) for side in sides]


def database(side) -> dict:
    """The tracking tables as the tracking differential dumps them, and the registry rows."""
    registry = {
        table: sorted(
            (
                {k: side.norm.text(v) if isinstance(v, str) else v for k, v in row.items()}
                for row in mask(rows)
            ),
            key=repr,
        )
        for table, rows in dump_registry(side.uri).items()
        if isinstance(rows, list)
    }
    return {**side.dump(), **registry}


@pytest.mark.parametrize("req", REGISTRY_CORPUS, ids=[r.name for r in REGISTRY_CORPUS])
def test_response(outcomes, req):
    stock, accel = outcomes[0][req.name]
    if req.expect == SAME:
        assert stock == accel, "\n".join(differences(stock, accel))
        return
    # Documented exception (tests/support/registry_corpus.py): stock crashes with an HTTP 500 on a
    # body that is not a JSON object; accel refuses it with a clear JSON 400.
    assert stock["status"] == 500, stock
    assert accel["status"] == 400, accel
    assert accel["content-type"] == JSON_TYPE
    assert accel["body"]["error_code"] == "INVALID_PARAMETER_VALUE", accel


def test_database_content(outcomes):
    stock, accel = outcomes[1]
    assert stock == accel, "\n".join(table_differences(stock, accel))


def test_webhook_created_alike(webhooks):
    stock, accel = webhooks
    assert stock == accel, "\n".join(differences(stock, accel))
    assert "secret" not in json.dumps(stock)


def _settled(receiver, paths, timeout=30.0) -> None:
    """Wait until no delivery arrived for a second and both servers delivered as many (or
    for ten seconds, if they never do): deliveries run on each server's thread pool."""
    deadline = time.monotonic() + timeout
    last, since = None, time.monotonic()
    while time.monotonic() < deadline:
        counts = [receiver.count(path) for path in paths]
        if counts != last:
            last, since = counts, time.monotonic()
        quiet = time.monotonic() - since
        if quiet > 10.0 or (quiet > 1.0 and len(set(counts)) == 1):
            return
        time.sleep(0.1)


def test_webhook_deliveries_as_stock(outcomes, sides, receiver):
    paths = [hook_path(side) for side in sides]
    _settled(receiver, paths)
    seen = []
    for side, path in zip(sides, paths, strict=True):
        events = []
        for headers, body in receiver.deliveries.get(path, []):
            signature = _generate_hmac_signature(
                SECRET,
                headers["x-mlflow-delivery-id"],
                headers["x-mlflow-timestamp"],
                body.decode(),
            )
            assert headers.get("x-mlflow-signature") == signature, (path, headers)
            payload = json.loads(body)
            payload.pop("timestamp")
            events.append(json.dumps(side.norm.value(payload), sort_keys=True))
        seen.append(sorted(events))
    stock, accel = seen
    kinds = {json.loads(e)["entity"] + "." + json.loads(e)["action"] for e in stock}
    assert len(kinds) >= 10, f"the corpus caused too few kinds of events on stock: {kinds}"
    assert accel == stock, "\n".join(differences(stock, accel))
