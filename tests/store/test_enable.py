"""``enable()``/``disable()``, the environment switch and the supported-version gate."""

import os
import subprocess
import sys
import warnings

import mlflow
import pytest
from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore as RegistryStore
from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore
from mlflow.tracking._model_registry.utils import _get_store as _get_registry_store
from mlflow.tracking._tracking_service.utils import _get_store

import mlflow_accel
from mlflow_accel import _compat
from mlflow_accel.store.registry import AccelRegistryStore
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
    assert type(_get_registry_store()) is AccelRegistryStore
    mlflow_accel.disable()
    assert not mlflow_accel.is_enabled()
    assert type(_get_store()) is SqlAlchemyStore
    assert type(_get_registry_store()) is RegistryStore


def test_enabled_client_logs_and_reads(sqlite_uri):
    mlflow_accel.enable()
    with mlflow.start_run() as run:
        mlflow.log_metrics({"loss": 0.5}, step=3)
        mlflow.log_param("lr", 0.1)
    stored = mlflow.get_run(run.info.run_id)
    assert stored.data.metrics == {"loss": 0.5}
    assert stored.data.params == {"lr": "0.1"}
    assert stored.info.status == "FINISHED"


def _register_and_load(registry_uri: str) -> list:
    client = mlflow.MlflowClient(registry_uri=registry_uri)
    client.create_registered_model("model", tags={"team": "a"})
    first = client.create_model_version("model", "s3://bucket/1", tags={"v": "1"})
    client.create_model_version("model", "s3://bucket/2")
    client.set_registered_model_alias("model", "champion", first.version)
    return [
        [(v.version, v.source) for v in client.get_latest_versions("model")],
        client.get_model_version_by_alias("model", "champion").tags,
        client.get_registered_model("model").aliases,
    ]


def test_enabled_client_registers_and_loads_models_as_stock(sqlite_uri, tmp_path):
    stock = _register_and_load(f"sqlite:///{tmp_path / 'stock.db'}")
    mlflow_accel.enable()
    accelerated_uri = f"sqlite:///{tmp_path / 'accel.db'}"
    assert type(_get_registry_store(accelerated_uri)) is AccelRegistryStore
    assert _register_and_load(accelerated_uri) == stock
    assert stock[0] == [(2, "s3://bucket/2")]


def test_unsupported_mlflow_warns_and_uses_stock(sqlite_uri, monkeypatch):
    monkeypatch.setattr(_compat, "support_problem", lambda: "MLflow 9.9 is not supported")
    _compat.warn_unsupported_once.cache_clear()
    mlflow_accel.enable()
    with pytest.warns(RuntimeWarning, match="mlflow-accel is off: MLflow 9.9"):
        store = _get_store()
    assert type(store) is SqlAlchemyStore
    assert type(_get_registry_store()) is RegistryStore
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
        "from mlflow.tracking._model_registry.utils import _get_store as registry\n"
        "print(type(_get_store()).__name__, type(registry()).__name__)\n"
    )
    for value, expected in (
        ("1", "AccelTrackingStore AccelRegistryStore"),
        ("", "SqlAlchemyStore SqlAlchemyStore"),
    ):
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
