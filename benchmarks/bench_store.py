"""pyperf benchmarks of MLflow's tracking store, stock or accelerated, in-process.

The database is the one ``MLFLOW_TRACKING_URI`` names (sqlite:///..., postgresql+psycopg://...);
``--variant`` picks the store: ``stock`` calls ``mlflow_accel.disable()``, ``accel`` calls
``mlflow_accel.enable()``, before the ``MlflowClient`` is built. Benchmarks are named
``<workload>[<variant>]``; the workloads are in ``store_workloads.py``. Example::

    MLFLOW_TRACKING_URI=sqlite:////tmp/b.db python benchmarks/bench_store.py \\
        --variant accel --inherit-environ MLFLOW_TRACKING_URI --fast -o accel.json

``MLFLOW_TRACKING_URI`` (and any ``MLFLOW_ACCEL_*`` setting) is passed on to pyperf's worker
processes even without ``--inherit-environ``. ``--workload NAME`` (repeatable) runs a subset.
``run_store_bench.py`` runs both variants on SQLite and PostgreSQL and writes the comparison.
"""

import gc
import importlib.metadata
import os
import sys

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pyperf  # noqa: E402

VARIANTS = ("stock", "accel")


def select_variant(variant: str) -> None:
    """Route MLflow's SQL tracking URIs to the stock or the accelerated store."""
    try:
        import mlflow_accel
    except ImportError:
        if variant == "accel":
            raise
        return  # mlflow_accel not installed: MLflow is stock already
    if variant == "accel":
        mlflow_accel.enable()
    else:
        mlflow_accel.disable()


def check_store(client, variant: str) -> str:
    """Fail loudly when the client's store is not the one the variant asks for."""
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    store = client._tracking_client.store
    cls = type(store)
    name = f"{cls.__module__}.{cls.__qualname__}"
    if variant == "accel":
        from mlflow_accel.store.tracking import AccelTrackingStore

        ok = isinstance(store, AccelTrackingStore)
    else:
        ok = isinstance(store, SqlAlchemyStore) and not cls.__module__.startswith("mlflow_accel")
    if not ok:
        raise RuntimeError(f"variant {variant!r} got store {name}")
    return name


class _Bench:
    """One workload, set up lazily in the pyperf worker process that runs it."""

    client = None  # one MlflowClient per process, shared by the workloads it runs

    def __init__(self, workload, variant: str):
        self.workload = workload
        self.variant = variant
        self.state = None
        self.ready = False

    def __call__(self, loops: int) -> float:
        if not self.ready:
            if _Bench.client is None:
                from mlflow.tracking import MlflowClient

                select_variant(self.variant)
                _Bench.client = MlflowClient()
                check_store(_Bench.client, self.variant)
            self.state = self.workload.setup(_Bench.client, self.variant)
            # Start from a clean collector: otherwise the first full collection after importing
            # MLflow (~300k objects, tens of ms) lands in whichever value happens to trigger it.
            gc.collect()
            self.ready = True
        return self.workload.run(_Bench.client, self.state, loops * self.workload.inner_loops)


def _add_cmdline_args(cmd: list, args) -> None:
    cmd.extend(("--variant", args.variant))
    for name in args.workload or ():
        cmd.extend(("--workload", name))


def main() -> None:
    from store_workloads import WORKLOADS

    runner = pyperf.Runner(add_cmdline_args=_add_cmdline_args)
    runner.argparser.add_argument(
        "--variant", choices=VARIANTS, required=True, help="stock SqlAlchemyStore or accel"
    )
    runner.argparser.add_argument(
        "--workload",
        action="append",
        choices=sorted(WORKLOADS),
        help="run only this workload (repeatable); default: all",
    )
    args = runner.parse_args()
    if not os.environ.get("MLFLOW_TRACKING_URI"):
        sys.exit("bench_store.py: set MLFLOW_TRACKING_URI to the database to benchmark")
    inherit = list(args.inherit_environ or [])
    for name in ["MLFLOW_TRACKING_URI", *sorted(os.environ)]:
        if (name == "MLFLOW_TRACKING_URI" or name.startswith("MLFLOW_ACCEL_")) and (
            name not in inherit
        ):
            inherit.append(name)
    args.inherit_environ = inherit

    runner.metadata["mlflow_store_variant"] = args.variant
    runner.metadata["mlflow_tracking_db"] = os.environ["MLFLOW_TRACKING_URI"].split(":", 1)[0]
    for dist in ("mlflow", "sqlalchemy", "mlflow-accel"):
        try:
            runner.metadata[f"{dist.replace('-', '_')}_version"] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            pass
    if args.variant == "accel":
        import mlflow_accel

        runner.metadata["mlflow_accel_compiled"] = str(mlflow_accel.compiled())
    for name in args.workload or list(WORKLOADS):
        workload = WORKLOADS[name]
        runner.bench_time_func(
            f"{name}[{args.variant}]",
            _Bench(workload, args.variant),
            inner_loops=workload.inner_loops,
            metadata={"description": workload.description},
        )


if __name__ == "__main__":
    main()
