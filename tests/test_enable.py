"""``enable()``/``disable()``, the environment switch and the supported-version gate."""

import os
import subprocess
import sys
import warnings

import mlflow
import pytest
from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore
from mlflow.tracking._tracking_service.utils import _get_store

import mlflow_accel
from mlflow_accel import _compat
from mlflow_accel.store.tracking import AccelTrackingStore


@pytest.fixture
def sqlite_uri(tmp_path):
    uri = f"sqlite:///{tmp_path / 'enable.db'}"
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    yield uri
    mlflow_accel.disable()
    mlflow.set_tracking_uri(previous)


def test_enable_then_disable(sqlite_uri):
    mlflow_accel.enable()
    assert mlflow_accel.is_enabled()
    assert type(_get_store()) is AccelTrackingStore
    mlflow_accel.disable()
    assert not mlflow_accel.is_enabled()
    assert type(_get_store()) is SqlAlchemyStore


def test_enabled_client_logs_and_reads(sqlite_uri):
    mlflow_accel.enable()
    with mlflow.start_run() as run:
        mlflow.log_metrics({"loss": 0.5}, step=3)
        mlflow.log_param("lr", 0.1)
    stored = mlflow.get_run(run.info.run_id)
    assert stored.data.metrics == {"loss": 0.5}
    assert stored.data.params == {"lr": "0.1"}
    assert stored.info.status == "FINISHED"


def test_unsupported_mlflow_warns_and_uses_stock(sqlite_uri, monkeypatch):
    monkeypatch.setattr(_compat, "support_problem", lambda: "MLflow 9.9 is not supported")
    _compat.warn_unsupported_once.cache_clear()
    mlflow_accel.enable()
    with pytest.warns(RuntimeWarning, match="mlflow-accel is off: MLflow 9.9"):
        store = _get_store()
    assert type(store) is SqlAlchemyStore
    mlflow_accel.enable()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _get_store()  # warned once only


def test_supported_range_is_the_installed_one():
    assert _compat.support_problem() is None


def test_environment_variable_enables_without_code(tmp_path):
    script = (
        "import mlflow\n"
        f"mlflow.set_tracking_uri({'sqlite:///' + (tmp_path / 'env.db').as_posix()!r})\n"
        "from mlflow.tracking._tracking_service.utils import _get_store\n"
        "print(type(_get_store()).__name__)\n"
    )
    for value, expected in (("1", "AccelTrackingStore"), ("", "SqlAlchemyStore")):
        result = subprocess.run(
            [sys.executable, "-c", script],
            env={
                "MLFLOW_ACCEL_ENABLE": value,
                "PATH": os.environ.get("PATH", ""),
                **{k: os.environ[k] for k in ("SYSTEMROOT",) if k in os.environ},
            },
            capture_output=True,
            text=True,
            check=True,
        )
        assert result.stdout.strip().splitlines()[-1] == expected
