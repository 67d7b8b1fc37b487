"""Load-test MLflow tracking servers side by side: stock MLflow, mlflow-accel and mlflow-go.

For each backend (SQLite, PostgreSQL), each server in turn is started on a free port and a fresh
database, waited for (ready, then idle), given its data through the REST API, and loaded with
wrk at 20 connections (``-t 2 -c 20``) per workload: warm-up, then ``--duration`` seconds
measured. Workloads: see ``load_workloads.py``. Writes ``benchmarks/results/server-<backend>.md``
(table: req/s, p50, p99, errors per server; ratios accel/stock and accel/go), ``.png`` (req/s per
workload and server) and ``.json`` (raw). Usage::

    apt-get install -y wrk
    /work/venv/bin/python benchmarks/load/run_server_bench.py     # everything, ~26 min on 2 cores
    ... --backends sqlite --duration 30                          # longer: steadier search rows
    ... --servers stock,accel --workloads runs-get,search-100 --duration 3 --tag smoke
    ... --workers 2 --accel-args "--max-body-size 1000000"   # same --workers for every server
    ... --report-only                                       # redraw md/png from the JSON

Servers (``--servers``): ``stock`` = ``mlflow server`` with default options (4 uvicorn workers
unless ``--workers``); ``stock-gunicorn`` = ``--workers N --gunicorn-opts=--log-level=warning``
(N = ``--workers`` or the core count; the best stock setting measured on 2 cores); ``accel`` and
``accel-gunicorn`` = ``mlflow-accel server`` with the same options as their stock twin, plus
``--accel-args``; ``go`` = ``mlflow-go server`` from mlflow-go-backend 0.2.2. The go server runs
in its own virtualenv (``--go-venv``, default /tmp/go), which this script creates if missing::

    python3 -m venv /tmp/go
    /tmp/go/bin/pip install mlflow-go-backend==0.2.2 "mlflow==3.1.4" "sqlalchemy<2.1"

and links the wheel's ``libmlflow-go-backend.dylib`` as ``<venv>/golib/libmlflow-go-backend.so``
for ``MLFLOW_GO_LIBRARY_PATH`` (its loader wants ``.so``); if that fails, go is skipped with a
message. mlflow-go's data is made by that virtualenv's own ``mlflow server`` (MLflow 3.1.4) on the
same database before mlflow-go starts, because mlflow-go's log-batch fails on PostgreSQL.

PostgreSQL: ``postgres@127.0.0.1:5432`` with trust auth; databases ``bench_<server>_<pid>`` are
created and dropped here. SQLite files go to ``--sqlite-dir`` (default /dev/shm, so that disk
fsync noise doesn't swamp the servers' own cost). Server logs stay in a temp directory, printed
at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sys
import tempfile
import time

import load_report
import load_servers
import wrk_runner
from load_servers import Database, Options, Server, log
from load_workloads import BY_NAME, make_fixtures

BACKENDS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
DEFAULT_SERVERS = ("stock", "stock-gunicorn", "accel", "go")
#: Rough per-server costs for the up-front estimate, seconds.
BOOT_SETUP_S = {"stock": 45, "stock-gunicorn": 35, "accel": 30, "accel-gunicorn": 30, "go": 60}
PER_WORKLOAD_OVERHEAD_S = 3
#: How the table shows the options every server gets (fresh values each time).
STORE_ARGS = (
    " --backend-store-uri <db> --default-artifact-root <tmp> --host 127.0.0.1 --port <port>"
)


def _csv(choices):
    def parse(text: str) -> list[str]:
        items = [t.strip() for t in text.split(",") if t.strip()]
        bad = [t for t in items if t not in choices]
        if bad:
            raise argparse.ArgumentTypeError(f"unknown {bad}; choose from {', '.join(choices)}")
        return items

    return parse


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--backends", type=_csv(list(BACKENDS)), default=list(BACKENDS), help=", ".join(BACKENDS)
    )
    p.add_argument(
        "--servers",
        type=_csv(load_servers.KINDS),
        default=list(DEFAULT_SERVERS),
        help=f"from {', '.join(load_servers.KINDS)}; default {','.join(DEFAULT_SERVERS)}",
    )
    p.add_argument(
        "--workloads", type=_csv(list(BY_NAME)), default=list(BY_NAME), help=", ".join(BY_NAME)
    )
    p.add_argument("--duration", type=float, default=10.0, help="measured seconds per workload")
    p.add_argument("--warmup", type=float, default=3.0, help="warm-up seconds per workload")
    p.add_argument("--workers", type=int, help="--workers for every server (default: theirs)")
    p.add_argument("--accel-args", default="", help="extra options for mlflow-accel server")
    p.add_argument("--go-venv", default="/tmp/go", help="mlflow-go's virtualenv")
    p.add_argument("--no-go-install", action="store_true", help="skip go if --go-venv is missing")
    p.add_argument("--sqlite-dir", default="/dev/shm" if os.path.isdir("/dev/shm") else None)
    p.add_argument("--tag", default="", help="results as server-<backend>-<tag>.*")
    p.add_argument("--report-only", action="store_true", help="redraw md/png from saved JSON")
    return p.parse_args(argv)


def _estimate_s(args: argparse.Namespace) -> float:
    measured = sum(max(args.duration, BY_NAME[n].min_seconds) for n in args.workloads)
    per_server = (args.warmup + PER_WORKLOAD_OVERHEAD_S) * len(args.workloads) + measured
    per_backend = sum(BOOT_SETUP_S[k] + per_server for k in args.servers)
    return per_backend * len(args.backends)


def _longer(args: argparse.Namespace) -> str:
    slow = [w for w in args.workloads if BY_NAME[w].min_seconds > args.duration]
    return ", ".join(f"{w}: {BY_NAME[w].min_seconds:g} s" for w in slow) or "all alike"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        return platform.processor() or "unknown CPU"


def _meta(args: argparse.Namespace, backend: str) -> dict:
    from mlflow.version import VERSION

    store_note = (
        f"SQLite files in {args.sqlite_dir or tempfile.gettempdir()}"
        if backend == "sqlite"
        else "PostgreSQL on 127.0.0.1 with its own settings"
    )
    script = os.path.relpath(os.path.abspath(sys.argv[0]))
    return {
        "backend": backend,
        "backend_label": BACKENDS[backend],
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cores": os.cpu_count(),
        "cpu": _cpu_model(),
        "mlflow": VERSION,
        "threads": wrk_runner.THREADS,
        "connections": wrk_runner.CONNECTIONS,
        "timeout": wrk_runner.TIMEOUT,
        "duration": args.duration,
        "warmup": args.warmup,
        "store_note": store_note,
        "command": shlex.join([sys.executable, script, *sys.argv[1:]]),
    }


def measure_workload(server: Server, name: str, fixtures: dict, args) -> dict:
    workload = BY_NAME[name]
    server.wait_idle()
    url, env = workload.target(server.url, fixtures)
    wrk_runner.run(url, args.warmup, workload.script, env)
    url, env = workload.target(server.url, fixtures)  # fresh START_MS: new metric rows
    seconds = max(args.duration, workload.min_seconds)
    result = {"seconds": seconds, **wrk_runner.run(url, seconds, workload.script, env).to_json()}
    if result["errors"]:
        url, env = workload.target(server.url, fixtures)
        result["probe"] = wrk_runner.first_error(url, workload.script, env)
    p50, p99 = (f"{v:.1f}" if v is not None else "-" for v in (result["p50_ms"], result["p99_ms"]))
    log(
        f"  {server.kind:<15} {name:<14} {result['req_s']:8.1f} req/s  p50 {p50:>7} ms  "
        f"p99 {p99:>7} ms  errors {result['errors'] if result['requests'] else 'no answer'}"
    )
    return result


def _fixtures(server: Server, info: dict) -> dict:
    t0 = time.monotonic()
    fixtures = make_fixtures(server.url)
    info["setup_s"] = round(time.monotonic() - t0, 1)
    return fixtures


def _go_fixtures(db: Database, opts: Options, info: dict, logdir: str) -> dict:
    """mlflow-go's data, made by its Python half (MLflow 3.1.4) on the same database before
    mlflow-go starts: mlflow-go's own log-batch fails on PostgreSQL (a foreign-key error)."""
    with Server("go-python", db, opts, logdir) as helper:
        helper.wait_ready()
        info["note"] = "data made beforehand by its own `mlflow server` (MLflow 3.1.4)"
        return _fixtures(helper, info)


def measure_server(kind: str, db: Database, opts: Options, args, report: dict, logdir: str):
    info = report["servers"][kind]
    fixtures = _go_fixtures(db, opts, info, logdir) if kind == "go" else None
    with Server(kind, db, opts, logdir) as server:
        info["command"] = shlex.join(load_servers.command(kind, opts)) + STORE_ARGS
        info["boot_s"] = round(server.wait_ready(), 1)
        fixtures = fixtures or _fixtures(server, info)
        log(f"{db.backend} {kind}: ready in {info['boot_s']} s, data made in {info['setup_s']} s")
        for name in args.workloads:
            report["results"][name][kind] = measure_workload(server, name, fixtures, args)


def run_backend(backend: str, opts: Options, args, skipped: dict, logdir: str) -> dict:
    report = {
        "meta": _meta(args, backend),
        "servers": {k: dict(skipped.get(k, {})) for k in args.servers},
        "results": {name: {} for name in args.workloads},
    }
    for kind in args.servers:
        if kind in skipped:
            continue
        db = Database(backend, kind, opts.sqlite_dir)
        try:
            measure_server(kind, db, opts, args, report, logdir)
        except Exception as exc:  # one broken server must not lose the others' numbers
            log(f"{backend} {kind}: FAILED, {str(exc).splitlines()[0]} (log in {logdir})")
            report["servers"][kind]["failed"] = str(exc).splitlines()[0]
        finally:
            db.drop()
    return report


def _prepare(args) -> tuple[Options, dict]:
    """Options for every server, and the servers that can't run (with why)."""
    opts = Options(
        workers=args.workers,
        accel_args=shlex.split(args.accel_args),
        go_venv=args.go_venv,
        sqlite_dir=args.sqlite_dir,
    )
    skipped = {}
    pythons = [sys.executable]
    if "go" in args.servers:
        opts.go_libdir = load_servers.ensure_go_venv(args.go_venv, not args.no_go_install)
        if opts.go_libdir is None:
            skipped["go"] = {"skipped": f"mlflow-go-backend not installable in {args.go_venv}"}
        else:
            pythons.append(os.path.join(args.go_venv, "bin", "python"))
    load_servers.precompile(pythons)
    return opts, skipped


def _suffix(args) -> str:
    return f"-{args.tag}" if args.tag else ""


def report_only(args) -> None:
    for backend in args.backends:
        with open(load_report.paths(backend, _suffix(args))["json"]) as f:
            written = load_report.write_all(json.load(f), _suffix(args))
        log(f"redrew {written['md']} and {written['png']}")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.report_only:
        return report_only(args)
    if not wrk_runner.available():
        sys.exit("wrk not found: apt-get install -y wrk")
    log(
        f"{len(args.servers)} servers x {len(args.workloads)} workloads x {len(args.backends)} "
        f"backends, {args.warmup:g} s warm-up + {args.duration:g} s each ({_longer(args)}): "
        f"about {_estimate_s(args) / 60:.0f} min in all"
    )
    t0 = time.monotonic()
    opts, skipped = _prepare(args)
    logdir = tempfile.mkdtemp(prefix="mlflow-server-bench-")
    for backend in args.backends:
        report = run_backend(backend, opts, args, skipped, logdir)
        written = load_report.write_all(report, _suffix(args))
        log(f"{backend}: wrote {written['md']}, {written['png']}, {written['json']}")
    log(f"done in {(time.monotonic() - t0) / 60:.1f} min; server logs in {logdir}")


if __name__ == "__main__":
    main()
