"""``mlflow-accel``: the ``mlflow`` command, whose ``server`` serves the hot routes fast.

Built from MLflow's own click commands, so every subcommand (``db upgrade``, ``gc``, ``ui``, …)
and every ``server`` option, default and help text is MLflow's, new ones included. ``server``
adds three options of ours and then runs MLflow's ``server`` with the app factory
``mlflow_accel.server.app:create_app`` as the app; a ``--app-name`` plugin the user names is
built inside that factory, so its gates apply to the fast routes too.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import click
from mlflow.cli import cli as mlflow_cli
from mlflow.version import VERSION as MLFLOW_VERSION

import mlflow_accel
from mlflow_accel.server.http import body

FACTORY = "mlflow_accel.server.app:create_app"
#: Our own entry in the ``mlflow.app`` group: the fast path with no plugin inside.
APP_NAME = "accel"


def default_workers() -> int:
    """Workers when ``--workers`` is not given: one per core, at most stock's 4.

    Measured on 2 cores (``benchmarks/load``, SQLite): 2 workers serve runs/get at 4,100 req/s
    and log-batch at 1,900 req/s, 4 workers at 3,100 and 1,200 (more processes than cores
    contend for the CPU and for SQLite's write lock). Stock's fixed 4 suits its slower requests.
    """
    return max(1, min(os.cpu_count() or 1, 4))


def _with_app_dir(uvicorn_opts: str | None) -> str:
    """``uvicorn_opts`` with ``--app-dir`` set to where mlflow_accel is installed.

    uvicorn puts its app directory (default: the working directory) first on ``sys.path``;
    started from a source checkout, its workers would import mlflow_accel's sources (the
    pure-Python core) instead of the installed, compiled package.
    """
    opts = uvicorn_opts or ""
    if any(o == "--app-dir" or o.startswith("--app-dir=") for o in shlex.split(opts)):
        return opts
    installed = Path(mlflow_accel.__file__).resolve().parent.parent
    return f"{opts} --app-dir {shlex.quote(str(installed))}".strip()


def _list_accelerated(ctx, _param, value):
    if not value or ctx.resilient_parsing:
        return
    from mlflow_accel.server.app import fast_endpoints

    for path, view, methods in fast_endpoints():
        click.echo(f"{','.join(methods):<5} {path}  ({view.__name__.lstrip('_')})")
    ctx.exit()


def _serve(stock_server: click.Command):
    def serve(accel, max_body_size, **options):
        if options["dev"] and accel:
            click.echo("[mlflow-accel] --dev reloads stock MLflow's app: fast path off.", err=True)
            accel = False
        if not accel:
            return stock_server.callback(**options)
        if options["workers"] is None:
            options["workers"] = default_workers()
        if options["gunicorn_opts"] is None and options["waitress_opts"] is None:
            options["uvicorn_opts"] = _with_app_dir(options["uvicorn_opts"])
        os.environ["MLFLOW_ACCEL_ENABLE"] = "1"  # the CLI's own store checks, and the workers'
        if max_body_size is not None:
            os.environ[body.MAX_BODY_SIZE_ENV] = str(max_body_size)
        if options["app_name"] in (None, APP_NAME):
            options["app_name"] = APP_NAME
        from mlflow_accel import _compat
        from mlflow_accel.server.app import INNER_APP_ENV

        with _compat.serving_app_factory(FACTORY, APP_NAME, INNER_APP_ENV):
            return stock_server.callback(**options)

    return serve


def _server_command(stock_server: click.Command) -> click.Command:
    ours = [
        click.Option(
            ["--accel/--no-accel"],
            default=True,
            envvar="MLFLOW_ACCEL_SERVER",
            show_default=True,
            help="Serve the hot tracking routes on mlflow-accel's fast path. --no-accel runs "
            "stock MLflow's server unchanged.",
        ),
        click.Option(
            ["--max-body-size"],
            type=click.IntRange(min=1),
            default=None,
            envvar=body.MAX_BODY_SIZE_ENV,
            help="Largest request body, in bytes, a fast route accepts; larger ones get a 413 "
            f"before being read. Default {body.DEFAULT_MAX_BODY_SIZE} (16 MiB).",
        ),
        click.Option(
            ["--list-accelerated"],
            is_flag=True,
            is_eager=True,
            expose_value=False,
            callback=_list_accelerated,
            help="Print the routes the fast path serves, then exit.",
        ),
    ]
    return click.Command(
        stock_server.name,
        params=[*stock_server.params, *ours],
        callback=_serve(stock_server),
        help=stock_server.help,
        short_help="Run MLflow's tracking server (UI + REST API) with mlflow-accel's fast path.",
        epilog=stock_server.epilog,
        context_settings=stock_server.context_settings,
    )


def _version_option() -> click.Option:
    def show(ctx, _param, value):
        if not value or ctx.resilient_parsing:
            return
        core = "compiled core" if mlflow_accel.compiled() else "pure-Python core"
        click.echo(f"mlflow-accel {mlflow_accel.__version__} (MLflow {MLFLOW_VERSION}, {core})")
        ctx.exit()

    return click.Option(
        ["--version"],
        is_flag=True,
        is_eager=True,
        expose_value=False,
        callback=show,
        help="Show mlflow-accel's and MLflow's versions and exit.",
    )


cli = type(mlflow_cli)(
    name="mlflow-accel",
    commands={
        **mlflow_cli.commands,
        "server": _server_command(mlflow_cli.commands["server"]),
    },
    params=[_version_option(), *(p for p in mlflow_cli.params if p.name != "version")],
    callback=mlflow_cli.callback,
    help="MLflow's command line, with `server` accelerated by mlflow-accel.",
)

if __name__ == "__main__":
    cli()
