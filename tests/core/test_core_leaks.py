"""The core does not leak: memory and references stay flat over repeated round trips.

For each implementation (the compiled build, whose reference counting Cython writes, and the
pure-Python twin as the control), one round trip parses a request of every message the parser
knows (a well-formed body and one with a wrong type in every field, refused), runs the validation
rules and the row builders on the parsed values, and renders every response message through
``render``'s response functions and ``dumps``. After a warm-up, ``ROUNDS`` more round trips (in an
interpreter of their own, so no other thread disturbs the counts) must not grow the memory
``tracemalloc`` traces (beyond 1 KiB in all), the number of objects the garbage collector
tracks, or the reference count of any input container or entity (a leaked reference allocates
nothing).
"""

from __future__ import annotations

import gc
import json
import math
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
from mlflow.entities import (
    Dataset,
    DatasetInput,
    Experiment,
    ExperimentTag,
    InputTag,
    LoggedModelInput,
    LoggedModelOutput,
    Metric,
    Param,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
    RunTag,
)
from mlflow.entities.model_registry import ModelVersion, RegisteredModel, RegisteredModelAlias
from mlflow.exceptions import MlflowException

from mlflow_accel import _core
from tests.support.core_impls import builds

WARMUP = 10
ROUNDS = 60
# Traced memory may grow this much over all ROUNDS (measured: 0 bytes, both implementations);
# a leak of even one bare ``object()`` per round (16 bytes, 24 with its list slot)
# goes over.
GROWTH_BOUND = 1024


KINDS = [param.id for param in builds()]  # "pure", and "compiled" where built
ROOT = Path(__file__).resolve().parents[2]


def load(kind: str):
    """One build of the core (``_core.implementations``), its modules as attributes."""
    return _core.implementations()[kind]


# -- inputs ------------------------------------------------------------------------------------

_SAMPLE = {0: "x\u00e9", 1: 7, 2: 3, 3: 1.5, 6: True}  # by field kind; 4: enum, 5: message


def _sample_body(spec) -> dict:
    """A body setting every field of a message spec to a well-formed value."""
    body = {}
    for name, _, kind, repeated, _, sub in spec[2]:
        if kind == 5:
            value = _sample_body(sub)
        elif kind == 4:
            value = next(iter(sub[1]))
        else:
            value = _SAMPLE[kind]
        body[name] = [value] if repeated else value
    return body


def _wrong_body(spec) -> dict:
    return {name: [{"x": [1]}] if kind != 5 else "x" for name, _, kind, _, _, _ in spec[2]}


def _requests(messages) -> list[tuple[str, dict]]:
    found = []
    for message in messages.MESSAGES:
        spec = messages.REQUESTS[message]
        found += [(message, _sample_body(spec)), (message, _wrong_body(spec))]
    return found


_METRICS = [
    Metric("m", 1.5, 1, 2),
    Metric("n", math.nan, 3, 4, run_id="r", dataset_name="d", dataset_digest="x"),
]
_RUN_INFO = RunInfo("r", "0", "u", "FINISHED", 1, 2, "active", "file:///a", run_name="n\u00e9")
_RUN = Run(
    _RUN_INFO,
    RunData(metrics=_METRICS, params=[Param("p", "v")], tags=[RunTag("t", "v")]),
    RunInputs(
        [DatasetInput(Dataset("d", "1", "local", "s", schema="{}"), [InputTag("k", "v")])],
        [LoggedModelInput("m-1")],
    ),
    RunOutputs([LoggedModelOutput("m-2", 3)]),
)
_EXPERIMENT = Experiment("1", "e", "file:///e", "active", [ExperimentTag("k", "v")], 1, 2)
_VERSION = ModelVersion("model", 1, 1, 2, user_id="u", source="s", run_id="r", aliases=["a"])
_MODEL = RegisteredModel("model", 1, 2, "d", [_VERSION], aliases=[RegisteredModelAlias("a", 1)])


def _responses(render) -> list:
    return [
        render.empty_response(),
        render.run_response(_RUN),
        render.update_run_response(_RUN_INFO),
        render.search_runs_response([_RUN, _RUN], "token"),
        render.metric_history_response(_METRICS, "token"),
        render.experiment_response(_EXPERIMENT),
        render.create_experiment_response("1"),
        render.search_experiments_response([_EXPERIMENT], None),
        render.registered_model_response(_MODEL),
        render.model_version_response(_VERSION),
        render.latest_versions_response([_VERSION]),
        render.search_registered_models_response([_MODEL], "t"),
        render.search_model_versions_response([_VERSION], "t"),
        render.download_uri_response("s3://b/k"),
    ]


def _round_trip(core, requests) -> None:
    for message, body in requests:
        try:
            values, _ = core.parse.parse_request_with_presence(message, body)
        except MlflowException:
            continue
        if message == "LogBatch":
            metrics = [m[:4] for m in values["metrics"]]
            params, tags = core.validation.validate_batch(
                "r1", metrics, values["params"], values["tags"]
            )
            core.rows.metric_rows("r1", metrics)
            core.rows.param_rows("r1", params)
            core.rows.tag_rows("r1", tags)
    for response in _responses(core.render):
        core.json_writer.dumps(response)


# -- the test ----------------------------------------------------------------------------------


def _inputs(requests) -> list:
    """Every container and entity the round trip is handed, down to the leaves. (Not the
    scalars: small ints and interned strings are shared, other threads move their counts.)"""
    found = [_RUN, _RUN_INFO, _EXPERIMENT, _VERSION, _MODEL, *_METRICS]
    pending = list(requests)
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            found.append(item)
            pending += list(item.values())
        elif isinstance(item, (list, tuple)):
            found.append(item)
            pending += list(item)
    return found


def _refcounts(objects) -> list[int]:
    return [sys.getrefcount(o) for o in objects]


def measure(core) -> dict:
    """Memory growth, tracked-object growth and inputs whose reference count moved over
    ``ROUNDS`` round trips after ``WARMUP``."""
    requests = _requests(core.messages)
    inputs = _inputs(requests)
    for _ in range(WARMUP):
        _round_trip(core, requests)
    gc.collect()
    refcounts = _refcounts(inputs)
    tracked = len(gc.get_objects())
    tracemalloc.start()
    try:
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(ROUNDS):
            _round_trip(core, requests)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    moved = zip(inputs, refcounts, _refcounts(inputs), strict=True)
    return {
        "grown": grown,
        "tracked": len(gc.get_objects()) - tracked,
        "leaked": [f"{o!r:.200} {a} -> {b}" for o, a, b in moved if a != b],
    }


@pytest.fixture(scope="module")
def measured() -> dict:
    """``{kind: measure(load(kind))}``, each in a fresh interpreter of its own (run side by side):
    no other thread (the database fixtures' workers) allocating or moving shared reference
    counts while it counts."""
    processes = {}
    for kind in KINDS:
        code = (
            "import json; from tests.core.test_core_leaks import load, measure; "
            f"print(json.dumps(measure(load({kind!r}))))"
        )
        processes[kind] = subprocess.Popen(
            [sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
    found = {}
    for kind, process in processes.items():
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err.decode(errors="replace")[-4000:]
        found[kind] = json.loads(out.splitlines()[-1])
    return found


@pytest.mark.parametrize("kind", KINDS)
def test_round_trips_do_not_leak(measured, kind):
    found = measured[kind]
    assert found["grown"] < GROWTH_BOUND, f"{found['grown']} bytes more after {ROUNDS} rounds"
    assert found["tracked"] < 100, found["tracked"]
    assert not found["leaked"], found["leaked"][:5]


@pytest.mark.parametrize("kind", KINDS)
def test_round_trip_covers_every_message(kind):
    """The loop parses at least one accepted body of every message (else it proves little)."""
    core = load(kind)
    accepted = set()
    for message, body in _requests(core.messages):
        try:
            core.parse.parse_request_with_presence(message, body)
        except MlflowException:
            continue
        accepted.add(message)
    assert accepted == set(core.messages.MESSAGES)
