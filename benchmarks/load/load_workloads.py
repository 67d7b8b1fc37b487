"""The workloads: the data each needs (made through the REST API before measuring) and the
request wrk sends.

=================  ==========================================================================
log-batch-10       runs/log-batch, 10 metrics (step 0), all into one run (the Go peer's k6 body)
log-batch-300      runs/log-batch, 300 metrics + 50 params + 50 tags, all into one run; param
                   keys are new in every request (a param can't change value once logged);
                   measured for at least 30 s
runs-create        runs/create in one experiment, with tag ``mlflow.user``
runs-get           runs/get of one run: 10 params, 10 tags, 11 metrics (loss: 100 points)
get-history        metrics/get-history of a metric with 100 points (steps 0-99)
search-100         runs/search over an experiment of 1,000 runs (5 metrics, 5 params, 5 tags
search-1000        each), max_results 100 and 1000 (the latter measured for at least 30 s)
rm-create          registered-models/create, a new name per request, 2 tags
rm-get             registered-models/get of a model with 2 tags, 10 versions (3 stages), 1 alias
rm-search          registered-models/search, first page (100) of 200 models (2 tags, 1 version)
mv-create          model-versions/create into one model, 2 tags
mv-get             model-versions/get of one version (2 tags)
latest-versions    registered-models/get-latest-versions of the rm-get model (all stages)
get-by-alias       registered-models/alias (GET) of the rm-get model's alias
=================  ==========================================================================
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from string import Template

import requests

API = "/api/2.0/mlflow"
SEARCH_RUNS = 1000
SEARCH_MODELS = 200


@dataclass(frozen=True)
class Workload:
    name: str
    title: str
    path: str  # may name fixtures as $name
    script: str = "request.lua"
    env: dict = field(default_factory=dict)  # env for the script; values may name $fixtures
    #: Slow workloads are measured at least this long: answers still in flight at the end are
    #: lost, and 20 of them can be most of a short run (stock takes seconds for these).
    min_seconds: float = 0.0

    def target(self, base_url: str, fixtures: dict) -> tuple[str, dict]:
        """The URL and script environment for one server's fixtures."""
        env = {k: Template(v).substitute(fixtures) for k, v in self.env.items()}
        env["START_MS"] = str(_unique_ms())
        return base_url + Template(self.path).substitute(fixtures), env


def _search(max_results: int, min_seconds: float) -> Workload:
    body = json.dumps({"experiment_ids": ["$search_exp"], "max_results": max_results})
    return Workload(
        f"search-{max_results}",
        f"runs/search, {SEARCH_RUNS:,} runs, max {max_results}",
        f"{API}/runs/search",
        env={"METHOD": "POST", "BODY": body},
        min_seconds=min_seconds,
    )


def _log_batch(metrics: int, params: int, tags: int, title: str, min_seconds: float) -> Workload:
    counts = {"METRICS": str(metrics), "PARAMS": str(params), "TAGS": str(tags)}
    return Workload(
        f"log-batch-{metrics}",
        title,
        f"{API}/runs/log-batch",
        script="log_batch.lua",
        env={"RUN_ID": f"$batch{metrics}_run", **counts},
        min_seconds=min_seconds,
    )


def _pairs(prefix: str, n: int) -> list[dict]:
    return [{"key": f"{prefix}_{i}", "value": f"{prefix} value {i}"} for i in range(n)]


CREATE_BODY = json.dumps(
    {
        "experiment_id": "$write_exp",
        "start_time": 1700000000000,
        "tags": [{"key": "mlflow.user", "value": "wrk"}],
    }
)
MODEL_VERSION_BODY = json.dumps(
    {
        "name": "$write_model",
        "source": "s3://bench/model",
        "tags": [{"key": f"t_{i}", "value": f"t value {i}"} for i in range(2)],
    }
)
WORKLOADS = (
    _log_batch(10, 0, 0, "log-batch, 10 metrics", 0.0),
    _log_batch(300, 50, 50, "log-batch, 300 metrics + 50 params + 50 tags", 30.0),
    Workload(
        "runs-create",
        "runs/create",
        f"{API}/runs/create",
        env={"METHOD": "POST", "BODY": CREATE_BODY},
    ),
    Workload("runs-get", "runs/get", f"{API}/runs/get?run_id=$read_run"),
    Workload(
        "get-history",
        "metrics/get-history, 100 points",
        f"{API}/metrics/get-history?run_id=$read_run&metric_key=loss",
    ),
    _search(100, 0.0),
    _search(1000, 30.0),
    Workload(
        "rm-create",
        "registered-models/create",
        f"{API}/registered-models/create",
        script="unique_body.lua",
        env={"BODY": json.dumps({"name": "bench-%s", "tags": _pairs("t", 2)})},
    ),
    Workload("rm-get", "registered-models/get", f"{API}/registered-models/get?name=$read_model"),
    Workload(
        "rm-search",
        f"registered-models/search, {SEARCH_MODELS} models, max 100",
        f"{API}/registered-models/search?max_results=100",
    ),
    Workload(
        "mv-create",
        "model-versions/create",
        f"{API}/model-versions/create",
        env={"METHOD": "POST", "BODY": MODEL_VERSION_BODY},
    ),
    Workload(
        "mv-get", "model-versions/get", f"{API}/model-versions/get?name=$read_model&version=1"
    ),
    Workload(
        "latest-versions",
        "registered-models/get-latest-versions",
        f"{API}/registered-models/get-latest-versions?name=$read_model",
    ),
    Workload(
        "get-by-alias",
        "registered-models/alias (get by alias)",
        f"{API}/registered-models/alias?name=$read_model&alias=champion",
    ),
)
BY_NAME = {w.name: w for w in WORKLOADS}

_last_ms = 0


def _unique_ms() -> int:
    """Epoch ms, strictly increasing between calls: seeds distinct metric rows per wrk run."""
    global _last_ms
    _last_ms = max(_last_ms + 1, int(time.time() * 1000))
    return _last_ms


# --- fixtures through the REST API ------------------------------------------------------------


class Client:
    def __init__(self, base_url: str):
        self.base = base_url + API
        self.session = requests.Session()

    def post(self, route: str, body: dict) -> dict:
        response = self.session.post(f"{self.base}/{route}", json=body, timeout=120)
        response.raise_for_status()
        return response.json()

    def experiment(self, name: str) -> str:
        return self.post("experiments/create", {"name": name})["experiment_id"]

    def run(self, experiment_id: str) -> str:
        tags = [{"key": "mlflow.user", "value": "bench"}]
        body = {"experiment_id": experiment_id, "start_time": _unique_ms(), "tags": tags}
        return self.post("runs/create", body)["run"]["info"]["run_id"]

    def model(self, name: str, versions: int = 0) -> None:
        self.post("registered-models/create", {"name": name, "tags": _pairs("t", 2)})
        for _ in range(versions):
            body = {"name": name, "source": "s3://bench/model", "tags": _pairs("v", 2)}
            self.post("model-versions/create", body)

    def log(self, run_id: str, metrics=(), params=(), tags=()) -> None:
        body = {"run_id": run_id, "metrics": list(metrics), "params": list(params)}
        self.post("runs/log-batch", {**body, "tags": list(tags)})


def _point(key: str, value: float, step: int) -> dict:
    return {"key": key, "value": value, "timestamp": 1700000000000 + step, "step": step}


def _search_run(base_url: str, experiment_id: str, i: int) -> None:
    client = _client(base_url)
    run_id = client.run(experiment_id)
    metrics = [_point(f"m_{k}", i + k, 0) for k in range(5)]
    client.log(run_id, metrics, _pairs("p", 5), _pairs("t", 5))


_local = threading.local()


def _client(base_url: str) -> Client:
    """One HTTP session per setup thread and server."""
    if getattr(_local, "base_url", None) != base_url:
        _local.base_url, _local.client = base_url, Client(base_url)
    return _local.client


def make_fixtures(base_url: str) -> dict:
    """Create every workload's data on one server; return the ids the workloads refer to."""
    client = Client(base_url)
    read_exp = client.experiment("bench-read")
    write_exp = client.experiment("bench-write")
    search_exp = client.experiment("bench-search")
    read_run = client.run(read_exp)
    history = [_point("loss", 1.0 / (step + 1), step) for step in range(100)]
    client.log(read_run, history, _pairs("p", 10), _pairs("t", 10))
    client.log(read_run, [_point(f"m_{k}", k, 0) for k in range(10)])
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: _search_run(base_url, search_exp, i), range(SEARCH_RUNS)))
        list(
            pool.map(lambda i: _client(base_url).model(f"search-{i:03d}", 1), range(SEARCH_MODELS))
        )
    client.model("bench-read", 10)
    for version, stage in (("3", "Staging"), ("5", "Production"), ("6", "Archived")):
        body = {"name": "bench-read", "version": version, "stage": stage}
        client.post("model-versions/transition-stage", {**body, "archive_existing_versions": False})
    client.post(
        "registered-models/alias", {"name": "bench-read", "alias": "champion", "version": "5"}
    )
    client.model("bench-write")
    return {
        "read_model": "bench-read",
        "write_model": "bench-write",
        "read_run": read_run,
        "write_exp": write_exp,
        "search_exp": search_exp,
        "batch10_run": client.run(write_exp),
        "batch300_run": client.run(write_exp),
    }
