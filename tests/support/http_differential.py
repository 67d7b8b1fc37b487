"""One server's side of an HTTP differential (tracking, ``tests/server/test_server_differential``,
and registry, ``test_server_registry_differential``): ``Side`` sends a corpus request
(``tests.support.server_corpus.Req``) with the ids, page token and names earlier answers bound,
learns what the answer reveals, and makes it canonical (ids by symbolic name, server-chosen times
as ``<now>``, database error messages without the database's name); ``dump`` reads its database.
"""

from __future__ import annotations

import json
import re
import time

import requests

from tests.support import servers
from tests.support.databases import Normaliser, _database_error_text, dump_tables
from tests.support.server_corpus import JSON_TYPE, Req

NOW_FLOOR = int(time.time() * 1000) - 3_600_000  # corpus times are years older than this
TIME_KEYS = {"start_time", "end_time", "creation_time", "last_update_time", "deleted_time"}
DATABASE_NAME = re.compile(r"mlfa_\d+_[0-9a-f]+_\d+")  # tests.support.databases' clone names
PLACEHOLDER = re.compile(rb"\{(run|exp):([\w-]+)\}|\{token\}")


class Side:
    """One server with its database, its ids by symbolic name and its normaliser."""

    def __init__(self, server: servers.RunningServer, uri: str, artifact_root: str):
        self.server = server
        self.uri = uri
        self.norm = Normaliser(artifact_root)
        self.ids: dict[bytes, str] = {b"exp:0": "0"}
        self.token = ""
        self.generated_names: dict[str, str] = {}

    def fill(self, data: bytes) -> bytes:
        def one(m):
            if m.group(0) == b"{token}":
                return self.token.encode()
            return self.ids[m.group(0)[1:-1]].encode()

        return PLACEHOLDER.sub(one, data)

    def send(self, req: Req) -> requests.Response:
        headers = {} if req.content_type is None else {"Content-Type": req.content_type}
        query = [(k, self.fill(v.encode()).decode()) for k, v in req.query]
        return requests.request(
            req.method,
            self.server.url + req.prefix + req.route,
            params=query,
            data=None if req.body is None else self.fill(req.body),
            headers=headers,
            timeout=60,
        )

    def observe(self, req: Req, resp: requests.Response, sent: bytes | None) -> None:
        """Learn the ids, page token and generated run name a response reveals."""
        body = json_body(resp)
        if not isinstance(body, dict):
            return
        self.token = body.get("next_page_token", "")
        if resp.status_code != 200:
            return
        name = req.bind or req.name
        if req.route == "experiments/create":
            self.ids[f"exp:{name}".encode()] = body["experiment_id"]
            self.norm.exp_labels[body["experiment_id"]] = f"<exp {name}>"
        elif req.route == "runs/create":
            info = body["run"]["info"]
            self.ids[f"run:{name}".encode()] = info["run_id"]
            self.norm.run_labels[info["run_id"]] = f"<run {name}>"
            if info["run_name"].encode() not in (sent or b""):
                self.generated_names[info["run_name"]] = f"<name generated for {name}>"

    def exchange(self, req: Req) -> dict:
        sent = None if req.body is None else self.fill(req.body)
        resp = self.send(req)
        self.observe(req, resp, sent)
        return self.canonical(resp)

    def canonical(self, resp: requests.Response) -> dict:
        body = json_body(resp)
        return {
            "status": resp.status_code,
            "content-type": resp.headers.get("content-type"),
            "body": self.scrub(self.norm.value(body)) if body is not None else resp.text,
        }

    def scrub(self, x, key=None):
        """Server-chosen times -> ``<now>``, generated run names -> labels, database error
        messages without SQLAlchemy's wrapper text or the database's name."""
        if isinstance(x, dict):
            return {k: self.scrub(v, k) for k, v in x.items()}
        if isinstance(x, list):
            return [self.scrub(v) for v in x]
        if key in TIME_KEYS and isinstance(x, int) and x >= NOW_FLOOR:
            return "<now>"
        if isinstance(x, str):
            if key == "message":
                x = DATABASE_NAME.sub("<database>", _database_error_text(x))
            return self.generated_names.get(x, x)
        return x

    def dump(self) -> dict:
        return self.scrub(dump_tables(self.uri, self.norm))


def json_body(resp: requests.Response):
    if not resp.headers.get("content-type", "").startswith(JSON_TYPE) or not resp.content:
        return None
    return json.loads(resp.content)
