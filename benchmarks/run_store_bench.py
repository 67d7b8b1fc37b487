"""Compare the stock and accelerated tracking stores on SQLite and PostgreSQL, and report.

Runs ``bench_store.py`` (pyperf) for ``--variant stock`` and ``--variant accel`` against a fresh
SQLite file in a temporary directory and a fresh PostgreSQL database ``accel_bench_<pid>``
(dropped afterwards), saves the pyperf JSON under ``benchmarks/results/`` and writes
``results/store.md`` (table: stock and accel mean ± std, ratio stock/accel) and
``results/store.png`` (speed-up per workload and database). Usage::

    python benchmarks/run_store_bench.py                      # everything, ~8 min on 2 cores
    python benchmarks/run_store_bench.py --db sqlite --workload get_run
    python benchmarks/run_store_bench.py --durable            # with commit fsyncs, see below
    python benchmarks/run_store_bench.py --report-only        # redo md/png from the saved JSON
    python benchmarks/run_store_bench.py --profile get_run    # profile accel on SQLite

By default the durability wait of a commit is left out, so the numbers are the store's own cost:
the SQLite file is on tmpfs (``/dev/shm``) and the PostgreSQL connections set
``synchronous_commit=off``. On a shared VM disk that wait is several ms per commit and very noisy,
and it would swamp the store's cost. ``--durable`` keeps it (SQLite in the system temp dir,
PostgreSQL's own setting) and writes ``store-durable.*`` instead: the end-to-end picture, where
a store that commits fewer times also gains.

Both variants of one database share the read fixtures (built once, by the first run); writes go
to runs that each pyperf worker creates. Each workload runs stock and accel back to back, in
separate processes, alternating which goes first.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlsplit, urlunsplit

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
BENCH = os.path.join(HERE, "bench_store.py")
VARIANTS = ("stock", "accel")
DATABASES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"

sys.path.insert(0, HERE)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def precompile() -> None:
    """Byte-compile MLflow and its SQL stack once: with PYTHONDONTWRITEBYTECODE set, every
    pyperf worker would otherwise compile them again at import."""
    for package in ("mlflow", "sqlalchemy", "alembic"):
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        path = list(spec.submodule_search_locations)[0]
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "compileall", "-q", path], check=False)
        log(f"compiled {package} ({time.perf_counter() - t0:.1f} s)")


# --- databases -------------------------------------------------------------------------------


class SqliteDb:
    def __init__(self, directory: str | None, durable: bool):
        if directory is None and not durable and os.path.isdir("/dev/shm"):
            directory = "/dev/shm"
        self.dir = tempfile.mkdtemp(prefix="accel_bench_", dir=directory)
        self.uri = f"sqlite:///{os.path.join(self.dir, 'bench.db')}"

    def drop(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


class PostgresDb:
    def __init__(self, admin_url: str, durable: bool):
        import psycopg

        self.name = f"accel_bench_{os.getpid()}"
        self.admin_url = admin_url
        parts = urlsplit(admin_url)
        query = "" if durable else "options=-csynchronous_commit%3Doff"
        self.uri = urlunsplit(("postgresql+psycopg", parts.netloc, f"/{self.name}", query, ""))
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}"')
            conn.execute(f'CREATE DATABASE "{self.name}"')

    def drop(self) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


# --- running ---------------------------------------------------------------------------------


def output_stem(durable: bool) -> str:
    return os.path.join(RESULTS, "store-durable" if durable else "store")


def json_path(db: str, variant: str, durable: bool) -> str:
    return f"{output_stem(durable)}-{db}-{variant}.json"


def run_bench(db: str, variant: str, workload: str, uri: str, args) -> None:
    """One pyperf run of one workload and variant, appended to that variant's JSON file."""
    cmd = [
        sys.executable,
        BENCH,
        "--variant",
        variant,
        "--workload",
        workload,
        "--inherit-environ",
        "MLFLOW_TRACKING_URI",
        "--processes",
        str(args.processes),
        "--values",
        str(args.values),
        "--warmups",
        str(args.warmups),
        "--loops",
        "1",  # each workload's inner_loops already make a ~0.1 s value
        "--quiet",
        "--append",
        json_path(db, variant, args.durable),
    ]
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "MLFLOW_DISABLE_TELEMETRY": "true"}
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        line = line.rstrip()
        # MLflow logs its schema creation at INFO from each worker; the rest is pyperf's.
        if line.strip(".") and " INFO mlflow" not in line:
            print(f"    {line}", flush=True)
    if proc.wait() != 0:
        raise SystemExit(
            f"bench_store.py failed: {db} {workload}[{variant}] (exit {proc.returncode})"
        )


def run_all(args) -> None:
    """Every workload on every database, stock and accel back to back (alternating which goes
    first), so a change in the machine's background load hits both variants alike."""
    from store_workloads import WORKLOADS

    precompile()
    os.makedirs(RESULTS, exist_ok=True)
    workloads = args.workload or list(WORKLOADS)
    total = len(args.db) * len(workloads) * len(VARIANTS)
    started = time.perf_counter()
    step = 0
    for db in args.db:
        for variant in VARIANTS:
            if os.path.exists(json_path(db, variant, args.durable)):
                os.remove(json_path(db, variant, args.durable))
        if db == "sqlite":
            handle = SqliteDb(args.sqlite_dir, args.durable)
        else:
            handle = PostgresDb(args.pg_url, args.durable)
        log(f"{DATABASES[db]} database: {handle.uri}")
        try:
            for i, workload in enumerate(workloads):
                for variant in VARIANTS if i % 2 == 0 else VARIANTS[::-1]:
                    step += 1
                    t0 = time.perf_counter()
                    run_bench(db, variant, workload, handle.uri, args)
                    log(
                        f"[{step}/{total}] {DATABASES[db]} {workload}[{variant}] "
                        f"done in {time.perf_counter() - t0:.0f} s"
                    )
        finally:
            handle.drop()
            log(f"dropped {handle.uri}")
    log(f"all benchmarks done in {time.perf_counter() - started:.0f} s")


# --- report ----------------------------------------------------------------------------------


def fmt_time(seconds: float) -> tuple[float, str]:
    for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if seconds >= scale:
            return scale, unit
    return 1e-9, "ns"


def _sig(x: float, digits: int) -> str:
    """``x`` to ``digits`` significant digits, never in exponent notation."""
    text = f"{x:.{digits}g}"
    return f"{x:.0f}" if "e" in text else text


def fmt_mean_std(mean: float, std: float) -> str:
    scale, unit = fmt_time(mean)
    return f"{_sig(mean / scale, 3)} {unit} ± {_sig(std / scale, 2)} {unit}"


def load_results(dbs, durable: bool) -> tuple[list[dict], dict]:
    """Rows (db, workload, stock/accel mean and std) from the saved pyperf JSON files."""
    import pyperf

    suites = {}
    for db in dbs:
        for variant in VARIANTS:
            path = json_path(db, variant, durable)
            if os.path.exists(path):
                suites[db, variant] = pyperf.BenchmarkSuite.load(path)
    rows = []
    meta: dict = {}
    for db in dbs:
        if (db, "stock") not in suites or (db, "accel") not in suites:
            continue
        benches = {
            variant: {b.get_name().split("[")[0]: b for b in suites[db, variant]}
            for variant in VARIANTS
        }
        for workload, stock in benches["stock"].items():
            accel = benches["accel"].get(workload)
            if accel is None:
                continue
            s_mean, a_mean = stock.mean(), accel.mean()
            median_ratio = stock.median() / accel.median()
            s_std = stock.stdev() if stock.get_nvalue() > 1 else 0.0
            a_std = accel.stdev() if accel.get_nvalue() > 1 else 0.0
            ratio = s_mean / a_mean
            ratio_err = ratio * math.hypot(s_std / s_mean, a_std / a_mean)
            rows.append(
                {
                    "db": db,
                    "workload": workload,
                    "description": stock.get_metadata().get("description", ""),
                    "stock": (s_mean, s_std),
                    "accel": (a_mean, a_std),
                    "nvalues": (stock.get_nvalue(), accel.get_nvalue()),
                    "nprocs": tuple(
                        sum(1 for run in b.get_runs() if run.values) for b in (stock, accel)
                    ),
                    "ratio": ratio,
                    "ratio_err": ratio_err,
                    "median_ratio": median_ratio,
                }
            )
            meta.setdefault("stock", stock.get_metadata())
            meta.setdefault("accel", accel.get_metadata())
            meta.setdefault("date", accel.get_dates()[0].isoformat(sep=" ")[:19])
            for bench in (stock, accel):
                for run in bench.get_runs():
                    load = run.get_metadata().get("load_avg_1min")
                    if load is not None:
                        meta.setdefault("loads", []).append(float(load))
    return rows, meta


def write_markdown(rows: list[dict], meta: dict, path: str, durable: bool) -> None:
    accel_meta = meta.get("accel", {})
    if durable:
        mode = (
            "Durable commits: the SQLite file on the disk (system temp dir), PostgreSQL with its "
            "own `synchronous_commit` setting, so every commit also waits for its fsync."
        )
    else:
        mode = (
            "Store cost without the durability wait of each commit (an fsync: several ms, and "
            "very noisy on this VM's shared disk): the SQLite file on tmpfs, PostgreSQL "
            "connections with `synchronous_commit=off`. `--durable` measures with it."
        )
    loads = meta.get("loads") or [float("nan")]
    lines = [
        "# Tracking store: stock vs accelerated" + (" (durable commits)" if durable else ""),
        "",
        "In-process MLflow client calls (`MlflowClient`) against the stock `SqlAlchemyStore` and",
        "`mlflow_accel`'s `AccelTrackingStore`, measured with pyperf by",
        "`benchmarks/run_store_bench.py`. Times are per operation, mean ± standard deviation;",
        "the ratio is stock time / accel time (higher is better for accel), of the means, and",
        "of the medians as a check against outliers from other work on the machine.",
        "",
        mode,
        "",
        "| Database | Workload | Stock | Accel | Ratio stock/accel | Ratio of medians |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {DATABASES[r['db']]} | `{r['workload']}` | {fmt_mean_std(*r['stock'])} "
            f"| {fmt_mean_std(*r['accel'])} | **{r['ratio']:.2f}×** | {r['median_ratio']:.2f}× |"
        )
    descriptions = {r["workload"]: r["description"] for r in rows}
    lines += ["", "Workloads:", ""]
    lines += [f"- `{name}`: {text}" for name, text in descriptions.items()]
    nvalues = sorted({n for r in rows for n in r["nvalues"]})
    nprocs = sorted({n for r in rows for n in r["nprocs"]})
    lines += [
        "",
        "Setup:",
        "",
        f"- date: {meta.get('date', '?')}; machine: {accel_meta.get('cpu_count', '?')} cores "
        f"({accel_meta.get('cpu_model_name', platform.machine())}), shared with other work: "
        f"1-minute load average {min(loads):.1f}–{max(loads):.1f} during the runs",
        f"- Python {accel_meta.get('python_version', platform.python_version())}, "
        f"MLflow {accel_meta.get('mlflow_version', '?')}, "
        f"SQLAlchemy {accel_meta.get('sqlalchemy_version', '?')}, "
        f"mlflow-accel {accel_meta.get('mlflow_accel_version', '?')} "
        f"(compiled core: {accel_meta.get('mlflow_accel_compiled', '?')})",
        "- SQLite: a fresh file in a temporary directory; PostgreSQL: a fresh database on the "
        "local server (127.0.0.1), dropped afterwards",
        f"- pyperf values per benchmark: {'/'.join(map(str, nvalues))}, from "
        f"{'/'.join(map(str, nprocs))} worker processes (a warm-up in each first)",
        "- read fixtures (get_run, get_metric_history, search_runs) are built once per database "
        "and read by both variants; writes go to runs each worker process creates",
        "",
        "Rerun: `python benchmarks/run_store_bench.py"
        + (" --durable" if durable else "")
        + "` (see its docstring for options).",
        "",
    ]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))


def write_chart(rows: list[dict], path: str, durable: bool) -> None:
    """Grouped bars of the speed-up per workload and database, on a log axis from 1× (bars
    below 1× would be slow-downs), with the ratio's ±1 std (propagated) as error bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    workloads = list(dict.fromkeys(r["workload"] for r in rows))
    dbs = [db for db in DATABASES if any(r["db"] == db for r in rows)]
    by_key = {(r["db"], r["workload"]): r for r in rows}
    width = 0.8 / len(dbs)
    colors = {"sqlite": "#4C72B0", "postgresql": "#DD8452"}

    fig, ax = plt.subplots(figsize=(max(8, 1.5 * len(workloads) + 2), 5.5), dpi=120)
    highs, lows = [], []
    for i, db in enumerate(dbs):
        xs, ys, err_lo, err_hi = [], [], [], []
        for j, w in enumerate(workloads):
            if (db, w) not in by_key:
                continue
            r = by_key[db, w]
            rel = r["ratio_err"] / r["ratio"]  # relative error, applied multiplicatively
            lo, hi = r["ratio"] / (1 + rel), r["ratio"] * (1 + rel)
            xs.append(j + (i - (len(dbs) - 1) / 2) * width)
            ys.append(r["ratio"])
            err_lo.append(r["ratio"] - lo)
            err_hi.append(hi - r["ratio"])
            highs.append(hi)
            lows.append(lo)
        bars = ax.bar(
            xs,
            [y - 1 for y in ys],
            width * 0.92,
            bottom=1,
            color=colors[db],
            label=DATABASES[db],
        )
        ax.errorbar(
            xs, ys, yerr=[err_lo, err_hi], fmt="none", ecolor="#333", elinewidth=1, capsize=3
        )
        for bar, y, hi in zip(bars, ys, err_hi, strict=True):
            above = y >= 1
            ax.text(
                bar.get_x() + bar.get_width() / 2,
                (y + hi) * 1.04 if above else y / 1.06,
                f"{y:.1f}×" if y >= 1.95 else f"{y:.2f}×",
                ha="center",
                va="bottom" if above else "top",
                fontsize=9,
            )
    ax.axhline(1.0, color="#C44E52", linestyle="--", linewidth=1.2, label="1× (no change)")
    ax.set_yscale("log")
    ax.set_ylim(min(0.8, min(lows) / 1.3), max(2.0, max(highs) * 1.6))
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}×"))
    ax.yaxis.set_minor_formatter(NullFormatter())
    labels = [w.replace("log_batch_", "log_batch\n").replace("_", " ") for w in workloads]
    ax.set_xticks(range(len(workloads)))
    ax.set_xticklabels(labels, fontsize=9)
    ax.set_xlim(-0.6, len(workloads) - 0.4)
    ax.set_ylabel("speed-up = stock time / accel time (log scale)")
    mode = "durable commits" if durable else "store cost, commit fsync waits excluded"
    ax.set_title(
        "mlflow-accel vs stock SqlAlchemyStore, in-process MlflowClient calls\n"
        f"({mode}; higher is better; error bars: ±1 std)"
    )
    ax.grid(axis="y", which="major", alpha=0.3)
    ax.set_axisbelow(True)
    ax.legend(loc="upper right", fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def report(args) -> None:
    rows, meta = load_results(args.db, args.durable)
    if not rows:
        raise SystemExit(f"no stock+accel result pairs in {RESULTS}")
    md, png = output_stem(args.durable) + ".md", output_stem(args.durable) + ".png"
    write_markdown(rows, meta, md, args.durable)
    write_chart(rows, png, args.durable)
    print()
    with open(md, encoding="utf-8") as f:
        print(f.read().split("\n\nWorkloads:")[0])
    print()
    log(f"wrote {md} and {png}")


def main() -> None:
    from store_workloads import WORKLOADS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--db",
        action="append",
        choices=list(DATABASES),
        help="database to run (repeatable; default: both)",
    )
    parser.add_argument(
        "--workload",
        action="append",
        choices=list(WORKLOADS),
        help="only this workload (repeatable)",
    )
    parser.add_argument("--processes", type=int, default=2, help="pyperf worker processes")
    parser.add_argument("--values", type=int, default=6, help="pyperf values per process")
    parser.add_argument("--warmups", type=int, default=1, help="pyperf warm-ups per process")
    parser.add_argument("--pg-url", default=DEFAULT_PG, help="PostgreSQL admin connection")
    parser.add_argument(
        "--durable",
        action="store_true",
        help="include commit fsync waits (SQLite on disk, PostgreSQL synchronous_commit on)",
    )
    parser.add_argument(
        "--sqlite-dir", help="where the SQLite temp dir goes (default: /dev/shm, or $TMPDIR)"
    )
    parser.add_argument("--report-only", action="store_true", help="only rewrite md and png")
    parser.add_argument(
        "--profile",
        metavar="WORKLOAD",
        help="profile one workload (accel, SQLite unless --db postgresql) and exit; "
        "profile_store.py options such as --sort tottime --top 40 pass through",
    )
    parser.add_argument("--profile-variant", choices=VARIANTS, default="accel")
    parser.add_argument("--profiler", choices=("cprofile", "pyinstrument"), default="cprofile")
    args, extra = parser.parse_known_args()
    args.db = args.db or list(DATABASES)

    if args.profile:
        import profile_store

        # Options this script does not know (--sort, --top, -n) go to profile_store.py.
        argv = [args.profile, "--variant", args.profile_variant, "--profiler", args.profiler]
        if args.db == ["postgresql"]:
            db = PostgresDb(args.pg_url, args.durable)
        else:
            db = SqliteDb(args.sqlite_dir, args.durable)
        try:
            profile_store.main([*argv, *extra, "--uri", db.uri])
        finally:
            db.drop()
        return
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if not args.report_only:
        run_all(args)
    report(args)


if __name__ == "__main__":
    main()
