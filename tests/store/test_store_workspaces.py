"""The workspace-aware store: accelerated methods see only the active workspace, as stock."""

import re

import pytest
from mlflow.entities import Metric, Param, RunTag
from mlflow.store.tracking.sqlalchemy_workspace_store import WorkspaceAwareSqlAlchemyStore
from mlflow.utils.workspace_context import WorkspaceContext

from mlflow_accel.store.tracking import AccelWorkspaceTrackingStore


def attempt(call):
    try:
        return call()
    except Exception as error:
        return ("error", type(error).__name__, re.sub(r"[0-9a-f]{32}", "RUN", str(error)))


def workload(store):
    """Log into two workspaces, then read across them; everything observable, run ids masked."""
    seen, runs = [], {}
    for workspace in ("default", "team-a"):
        with WorkspaceContext(workspace):
            experiment_id = store.create_experiment(f"exp-{workspace}")
            run = store.create_run(experiment_id, "user", 0, [], None)
            runs[workspace] = run.info.run_id
            store.log_batch(
                run.info.run_id, [Metric("m", 1.0, 1, 1)], [Param("p", "v")], [RunTag("t", "x")]
            )
            seen.append(run.info.artifact_uri.replace(run.info.run_id, "RUN"))
    foreign = runs["default"]
    with WorkspaceContext("team-a"):
        seen += [
            attempt(lambda: store.get_run(foreign).data.metrics),
            attempt(lambda: store.get_metric_history(foreign, "m")),
            attempt(lambda: store.log_metric(foreign, Metric("m", 2.0, 1, 2))),
            attempt(lambda: store.set_tag(foreign, RunTag("t", "y"))),
            attempt(lambda: store.update_run_info(foreign, 3, 5, "stolen")),
            attempt(lambda: store.get_experiment_by_name("exp-default")),
            attempt(lambda: len(store.search_runs(["1", "2"], "", 1))),
            attempt(lambda: store.create_run("1", "user", 0, [], None)),
            attempt(lambda: store.get_run(runs["team-a"]).data.params),
        ]
    return seen


@pytest.fixture
def workspaces_on(monkeypatch):
    monkeypatch.setenv("MLFLOW_ENABLE_WORKSPACES", "true")


def test_accelerated_store_keeps_workspaces_apart(workspaces_on, tmp_path):
    results = []
    for cls in (WorkspaceAwareSqlAlchemyStore, AccelWorkspaceTrackingStore):
        with WorkspaceContext("default"):
            store = cls(f"sqlite:///{tmp_path / cls.__name__}.db", str(tmp_path / "artifacts"))
        results.append(workload(store))
    stock, accel = results
    assert accel == stock
    assert accel[2][0] == "error"  # a foreign run is not found, not readable
    assert accel[-1] == {"p": "v"}
