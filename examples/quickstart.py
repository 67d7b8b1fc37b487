"""Log a small training run through mlflow-accel and read it back.

Run: python examples/quickstart.py [TRACKING_URI]

With a server URI (``http://127.0.0.1:5000`` for ``mlflow-accel server``) the run goes through
the server's fast path; with a database URI (default ``sqlite:///mlflow.db``) through the
accelerated store in this process (``mlflow_accel.enable()``).
"""

import sys
import time

import mlflow
from mlflow import MlflowClient

import mlflow_accel


def main(uri: str) -> None:
    if not uri.startswith(("http://", "https://")):
        mlflow_accel.enable()
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("mlflow-accel-quickstart")
    with mlflow.start_run() as run:
        mlflow.log_params({"learning_rate": 0.01, "epochs": 5})
        for epoch in range(5):
            mlflow.log_metrics({"loss": 1.0 / (epoch + 1), "accuracy": epoch / 5}, step=epoch)
        mlflow.set_tag("stage", "demo")
    client = MlflowClient()
    stored = client.get_run(run.info.run_id)
    history = client.get_metric_history(run.info.run_id, "loss")
    print(
        f"tracking URI {uri}, store: {type(client._tracking_client.store).__name__} "
        f"(compiled core: {mlflow_accel.compiled()})"
    )
    print(f"run {stored.info.run_name}: params {stored.data.params}")
    print(f"latest metrics {stored.data.metrics}")
    print(f"loss history {[m.value for m in history]}")
    started = time.perf_counter()
    found = mlflow.search_runs(experiment_names=["mlflow-accel-quickstart"])
    print(
        f"{len(found)} run(s) in the experiment, searched in "
        f"{(time.perf_counter() - started) * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "sqlite:///mlflow.db")
