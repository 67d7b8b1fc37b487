"""The servers under load: how each kind is started, on which fresh database, and when it is ready.

Kinds: ``stock`` (``mlflow server``, default options), ``stock-gunicorn`` (``--workers N
--gunicorn-opts=--log-level=warning``, the best stock setting measured on 2 cores), ``accel`` and
``accel-gunicorn`` (``mlflow-accel server`` with exactly the options of the stock twin, plus any
``--accel-args``), and ``go`` (``mlflow-go server`` from mlflow-go-backend 0.2.2, in its own
virtualenv, installed by :func:`ensure_go_venv`); ``go-python`` is that virtualenv's own ``mlflow
server`` (MLflow 3.1.4), which makes mlflow-go's data. Every server gets a free port, a fresh SQLite
file or PostgreSQL database ``bench_<kind>_<pid>``, its own process group, and is measured only
once it answers a proxied route and its processes have gone idle.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

import requests

VENV_BIN = os.path.dirname(sys.executable)
GO_PACKAGES = ["mlflow-go-backend==0.2.2", "mlflow==3.1.4", "sqlalchemy<2.1"]
GUNICORN_OPTS = "--gunicorn-opts=--log-level=warning"
#: mlflow-go answers /health before its Python child is up; this route is proxied to that child.
READY_PATH = "/api/2.0/mlflow/registered-models/search"
BOOT_TIMEOUT = 300.0
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
KINDS = ("stock", "stock-gunicorn", "accel", "accel-gunicorn", "go")


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# --- mlflow-go's virtualenv -------------------------------------------------------------------


def _go_package_dir(venv: str) -> str | None:
    found = glob.glob(os.path.join(venv, "lib", "python3*", "site-packages", "mlflow_go_backend"))
    return found[0] if found else None


def ensure_go_venv(venv: str, install: bool) -> str | None:
    """Return the directory to pass as MLFLOW_GO_LIBRARY_PATH, installing the virtualenv first if
    it is missing and ``install`` is set; None (after saying why) if mlflow-go can't run."""
    if _go_package_dir(venv) is None and install:
        log(f"installing mlflow-go-backend 0.2.2 into {venv} (one-off, ~1 min)")
        steps = [
            ["python3", "-m", "venv", venv],
            [os.path.join(venv, "bin", "pip"), "install", "-q", *GO_PACKAGES],
        ]
        for step in steps:
            if subprocess.run(step, check=False).returncode != 0:
                log(f"skipping go: `{' '.join(step)}` failed")
                return None
    package = _go_package_dir(venv)
    if package is None:
        log(f"skipping go: no mlflow-go-backend in {venv} (drop --no-go-install to install it)")
        return None
    # Its Linux wheel ships the library as .dylib while its loader looks for .so.
    libdir = os.path.join(venv, "golib")
    os.makedirs(libdir, exist_ok=True)
    links = {
        "libmlflow-go-backend.so": "libmlflow-go-backend.dylib",
        "libmlflow-go-backend.h": "libmlflow-go-backend.h",
    }
    for dst, src in links.items():
        link = os.path.join(libdir, dst)
        with contextlib.suppress(FileNotFoundError):
            os.remove(link)
        os.symlink(os.path.join(package, src), link)
    return libdir


def precompile(pythons: list[str]) -> None:
    """Byte-compile each interpreter's site-packages: PYTHONDONTWRITEBYTECODE would otherwise make
    every server worker compile MLflow from source at boot."""
    for python in pythons:
        purelib = subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        t0 = time.perf_counter()
        subprocess.run([python, "-m", "compileall", "-q", "-j", "0", purelib], check=False)
        log(f"compiled {purelib} ({time.perf_counter() - t0:.0f} s)")


# --- databases --------------------------------------------------------------------------------


class Database:
    """A fresh database for one server; ``uri(scheme)`` names it for that server's driver."""

    def __init__(self, backend: str, kind: str, sqlite_dir: str | None):
        self.backend = backend
        if backend == "sqlite":
            self.dir = tempfile.mkdtemp(prefix=f"bench_{kind}_", dir=sqlite_dir)
            self.name = os.path.join(self.dir, "mlflow.db")
        else:
            self.name = f"bench_{kind.replace('-', '_')}_{os.getpid()}"
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}"', f'CREATE DATABASE "{self.name}"')

    def uri(self, pg_scheme: str) -> str:
        if self.backend == "sqlite":
            return f"sqlite:///{self.name}"
        return f"{pg_scheme}://postgres@127.0.0.1:5432/{self.name}"

    def drop(self) -> None:
        if self.backend == "sqlite":
            shutil.rmtree(self.dir, ignore_errors=True)
        else:
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    @staticmethod
    def _admin(*statements: str) -> None:
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)


# --- servers ----------------------------------------------------------------------------------


@dataclass
class Options:
    """What the user chose on the command line, shared by every server of a run."""

    workers: int | None = None
    accel_args: list[str] = field(default_factory=list)
    go_libdir: str | None = None
    go_venv: str = "/tmp/go"
    sqlite_dir: str | None = None


def command(kind: str, opts: Options) -> list[str]:
    """The command line of ``kind``, without the store URI, host and port."""
    gunicorn = kind.endswith("-gunicorn")
    if gunicorn:
        workers = ["--workers", str(opts.workers or os.cpu_count() or 2), GUNICORN_OPTS]
    else:
        workers = ["--workers", str(opts.workers)] if opts.workers else []
    if kind.startswith("go"):
        name = "mlflow-go" if kind == "go" else "mlflow"
        return [os.path.join(opts.go_venv, "bin", name), "server", *workers]
    if kind.startswith("stock"):
        return [os.path.join(VENV_BIN, "mlflow"), "server", *workers]
    return [os.path.join(VENV_BIN, "mlflow-accel"), "server", *workers, *opts.accel_args]


def _environment(kind: str, opts: Options) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "VIRTUAL_ENV"))}
    env["PYTHONUNBUFFERED"] = "1"
    if kind.startswith(
        "go"
    ):  # mlflow-go spawns a child `mlflow server`, which must come from its own venv
        env["MLFLOW_GO_LIBRARY_PATH"] = opts.go_libdir or ""
        env["PATH"] = os.path.join(opts.go_venv, "bin") + os.pathsep + env["PATH"]
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One running server on ``db``, logging to a file; a context manager that stops it."""

    def __init__(self, kind: str, db: Database, opts: Options, logdir: str):
        self.kind = kind
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        store = db.uri("postgresql" if kind.startswith("go") else "postgresql+psycopg")
        self.argv = [*command(kind, opts), "--backend-store-uri", store]
        self.argv += ["--default-artifact-root", os.path.join(logdir, f"artifacts-{kind}")]
        self.argv += ["--host", "127.0.0.1", "--port", str(port)]
        self.log_path = os.path.join(logdir, f"{db.backend}-{kind}.log")
        with open(self.log_path, "wb") as out:
            self.process = subprocess.Popen(
                self.argv,
                cwd=logdir,
                env=_environment(kind, opts),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *_exc) -> None:
        self.stop()

    def log_tail(self, chars: int = 3000) -> str:
        with open(self.log_path, errors="replace") as f:
            return f.read()[-chars:]

    def wait_ready(self) -> float:
        """Block until the server answers a route served by its Python app; return boot seconds."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < BOOT_TIMEOUT:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.kind} exited at boot:\n{self.log_tail()}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(self.url + READY_PATH, timeout=5).status_code == 200:
                    return time.monotonic() - t0
            time.sleep(0.5)
        raise RuntimeError(
            f"{self.kind} did not answer in {BOOT_TIMEOUT:.0f} s:\n{self.log_tail()}"
        )

    def wait_idle(self, threshold: float = 0.05, timeout: float = 30.0) -> None:
        """Wait until the server's processes use under ``threshold`` of a core over 1 s."""
        deadline = time.monotonic() + timeout
        before = _group_cpu_seconds(self.process.pid)
        while time.monotonic() < deadline:
            time.sleep(1.0)
            now = _group_cpu_seconds(self.process.pid)
            if now - before < threshold:
                return
            before = now

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(20)


_TICKS = os.sysconf("SC_CLK_TCK")


def _group_cpu_seconds(pgid: int) -> float:
    """CPU seconds used so far by the live processes of process group ``pgid``."""
    total = 0
    for stat in glob.glob("/proc/[0-9]*/stat"):
        with contextlib.suppress(OSError):
            with open(stat) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:  # fields after "(comm)": state ppid pgrp ... utime stime
                total += int(fields[11]) + int(fields[12])
    return total / _TICKS
