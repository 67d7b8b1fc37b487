"""Real tracking servers for the server tests: stock ``mlflow server`` and ``mlflow-accel server``.

``start(kind, backend_uri, tmp_path, *args)`` runs the command as a user would (uvicorn workers
spawned by MLflow's own server command), waits until ``/health`` answers and returns a
:class:`RunningServer`; ``stop()`` ends the whole process group. Both kinds start from the same
Python, so they differ only in mlflow-accel.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

COMMANDS = {
    "stock": [sys.executable, "-m", "mlflow", "server"],
    "accel": [sys.executable, "-m", "mlflow_accel.cli", "server"],
}
BOOT_TIMEOUT = 90.0
#: Both kinds alike: no job runner and huey consumers (they double a boot's time); ``env`` may
#: turn them on again.
BASE_ENV = {"PYTHONUNBUFFERED": "1", "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class RunningServer:
    kind: str
    url: str
    process: subprocess.Popen
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(15)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def start(
    kind: str,
    backend_uri: str,
    workdir: Path,
    *args: str,
    env: dict | None = None,
    workers: int = 1,
    wait_path: str = "/health",
) -> RunningServer:
    """Start a ``kind`` ("stock"/"accel") server on ``backend_uri``; raise if it never answers."""
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / f"{kind}-{port}.log"
    command = [
        *COMMANDS[kind],
        "--backend-store-uri",
        backend_uri,
        "--default-artifact-root",
        str(workdir / "artifacts"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *(["--workers", str(workers)] if "--workers" not in args else []),
        *args,
    ]
    full_env = {**os.environ, **BASE_ENV, **(env or {})}
    full_env.pop("MLFLOW_ACCEL_ENABLE", None)
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command,
            cwd=workdir,
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = RunningServer(kind, f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + BOOT_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{kind} server exited early:\n{server.log_text()[-4000:]}")
        try:
            if requests.get(server.url + wait_path, timeout=2).status_code < 500:
                return server
        except requests.RequestException:
            pass
        time.sleep(0.25)
    server.stop()
    raise RuntimeError(f"{kind} server silent for {BOOT_TIMEOUT}s:\n{server.log_text()[-4000:]}")
