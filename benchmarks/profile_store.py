"""Profile one store workload in-process and print the top of the profile.

For the store's author: where does the time of, say, ``get_run`` go with the accelerated store?
The workload (from ``store_workloads.py``) is set up, warmed up, then run ``-n`` times under
cProfile (default) or pyinstrument (``--profiler pyinstrument``, if installed). Examples::

    python benchmarks/profile_store.py get_run                  # accel, fresh SQLite in a temp dir
    python benchmarks/profile_store.py search_runs --variant stock --sort tottime
    python benchmarks/profile_store.py log_metric --uri postgresql+psycopg://postgres@127.0.0.1/db

Without ``--uri`` (or ``MLFLOW_TRACKING_URI``) a fresh SQLite database in a temporary directory
is used and removed afterwards. ``run_store_bench.py --profile WORKLOAD`` calls this too.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import shutil
import sys
import sysconfig
import tempfile
import time

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _short_path(path: str) -> str:
    """``.../site-packages/mlflow/x.py`` -> ``mlflow/x.py``; repo files relative to the repo."""
    prefixes = sorted(
        {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["stdlib"], REPO_ROOT},
        key=len,
        reverse=True,
    )
    for prefix in prefixes:
        if path.startswith(prefix + os.sep):
            return path[len(prefix) + 1 :]
    return path


def _print_cprofile(profiler: cProfile.Profile, n_ops: int, sort: str, top: int) -> None:
    stats = pstats.Stats(profiler).stats  # (file, line, func) -> (cc, nc, tt, ct, callers)
    key_index = {"cumulative": 3, "tottime": 2}[sort]
    rows = sorted(stats.items(), key=lambda item: item[1][key_index], reverse=True)
    print(f"{'calls/op':>9} {'own ms/op':>10} {'cum ms/op':>10}  function")
    for (filename, line, func), (_cc, nc, tt, ct, _callers) in rows[:top]:
        where = func if filename == "~" else f"{_short_path(filename)}:{line}({func})"
        print(f"{nc / n_ops:9.1f} {tt / n_ops * 1e3:10.3f} {ct / n_ops * 1e3:10.3f}  {where}")


def profile(
    workload_name: str,
    uri: str,
    variant: str = "accel",
    n_ops: int | None = None,
    profiler: str = "cprofile",
    sort: str = "cumulative",
    top: int = 30,
) -> None:
    from bench_store import check_store, select_variant
    from mlflow.tracking import MlflowClient
    from store_workloads import WORKLOADS

    workload = WORKLOADS[workload_name]
    select_variant(variant)
    client = MlflowClient(uri)
    store_name = check_store(client, variant)
    print(f"# {workload_name} [{variant}] on {uri.split(':', 1)[0]}: {workload.description}")
    print(f"# store: {store_name}")
    t0 = time.perf_counter()
    state = workload.setup(client, variant)
    print(f"# setup (untimed fixture): {time.perf_counter() - t0:.1f} s")
    n_ops = n_ops or max(10, workload.inner_loops * 10)
    workload.run(client, state, max(2, n_ops // 5))  # warm-up: caches, statements, imports
    gc.collect()
    plain = workload.run(client, state, n_ops) / n_ops
    print(f"# unprofiled: {plain * 1e3:.3f} ms/op over {n_ops} ops")

    if profiler == "pyinstrument":
        from pyinstrument import Profiler

        prof = Profiler(interval=0.0005)
        prof.start()
        workload.run(client, state, n_ops)
        prof.stop()
        from pyinstrument.renderers import ConsoleRenderer

        renderer = ConsoleRenderer(
            unicode=True,
            color=False,
            processor_options={
                # Library frames are grouped away by default; keep MLflow's and ours.
                "show_regex": r".*[/\\](mlflow|mlflow_accel)[/\\].*",
                "filter_threshold": 0.01,
            },
        )
        print(prof.output(renderer))
        return
    prof = cProfile.Profile()
    prof.enable()
    profiled = workload.run(client, state, n_ops) / n_ops
    prof.disable()
    print(
        f"# profiled:   {profiled * 1e3:.3f} ms/op (cProfile overhead included); top {top} by "
        f"{sort}, per operation:"
    )
    _print_cprofile(prof, n_ops, sort, top)


def main(argv: list[str] | None = None) -> None:
    from store_workloads import WORKLOADS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=sorted(WORKLOADS))
    parser.add_argument("--variant", choices=("stock", "accel"), default="accel")
    parser.add_argument(
        "--uri",
        default=os.environ.get("MLFLOW_TRACKING_URI"),
        help="database URI (default: $MLFLOW_TRACKING_URI, else a fresh SQLite file)",
    )
    parser.add_argument("-n", "--ops", type=int, help="operations to profile (default: ~1-2 s)")
    parser.add_argument("--profiler", choices=("cprofile", "pyinstrument"), default="cprofile")
    parser.add_argument("--sort", choices=("cumulative", "tottime"), default="cumulative")
    parser.add_argument("--top", type=int, default=30, help="rows of the cProfile table")
    args = parser.parse_args(argv)

    tmpdir = None
    uri = args.uri
    if not uri:
        tmpdir = tempfile.mkdtemp(prefix="accel_profile_")
        uri = f"sqlite:///{os.path.join(tmpdir, 'profile.db')}"
    try:
        profile(args.workload, uri, args.variant, args.ops, args.profiler, args.sort, args.top)
    finally:
        if tmpdir:
            shutil.rmtree(tmpdir, ignore_errors=True)


if __name__ == "__main__":
    main()
