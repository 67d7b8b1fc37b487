"""Write one backend's results: ``server-<backend>.json`` (raw), ``.md`` (table), ``.png`` (plot).

The JSON holds everything the table and plot are drawn from, so ``--report-only`` can redraw them.
"""

from __future__ import annotations

import json
import os

from load_workloads import BY_NAME

RESULTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "results")
LABELS = {
    "stock": "stock (default)",
    "stock-gunicorn": "stock (gunicorn)",
    "accel": "accel (default)",
    "accel-gunicorn": "accel (gunicorn)",
    "go": "mlflow-go 0.2.2",
}
COLORS = {
    "stock": "#9e9e9e",
    "stock-gunicorn": "#616161",
    "accel": "#1e88e5",
    "accel-gunicorn": "#0d47a1",
    "go": "#43a047",
}
#: (numerator, denominator) pairs shown as ratio columns when both were measured.
RATIOS = (("accel", "stock"), ("accel", "stock-gunicorn"), ("accel", "go"))


def paths(backend: str, suffix: str = "") -> dict[str, str]:
    stem = os.path.join(RESULTS, f"server-{backend}{suffix}")
    return {ext: f"{stem}.{ext}" for ext in ("json", "md", "png")}


def write_all(report: dict, suffix: str = "") -> dict[str, str]:
    out = paths(report["meta"]["backend"], suffix)
    os.makedirs(RESULTS, exist_ok=True)
    with open(out["json"], "w") as f:
        json.dump(report, f, indent=1)
    with open(out["md"], "w") as f:
        f.write(markdown(report))
    plot(report, out["png"])
    return out


def _measured(report: dict) -> list[str]:
    """The servers that were started (a server that failed midway keeps its numbers so far)."""
    return [k for k, s in report["servers"].items() if "command" in s]


def _num(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    return f"{value:,.0f}" if value >= 100 else f"{value:.{digits}f}"


def _ratio(results: dict, num: str, den: str) -> str:
    a, b = results.get(num), results.get(den)
    if not a or not b or not b["req_s"]:
        return "–"
    return f"{a['req_s'] / b['req_s']:.1f}×"


def _errors(result: dict) -> str:
    return str(result["errors"]) if result["requests"] else "no answer"


def _row(name: str, results: dict, servers: list[str], ratios: list) -> str:
    cells = [BY_NAME[name].title]
    for kind in servers:
        r = results.get(kind)
        if r is None:
            cells += ["–"] * 4
            continue
        cells += [_num(r["req_s"]), _num(r["p50_ms"]), _num(r["p99_ms"]), _errors(r)]
    cells += [_ratio(results, a, b) for a, b in ratios]
    return "| " + " | ".join(cells) + " |"


def _table(report: dict) -> list[str]:
    servers = _measured(report)
    ratios = [(a, b) for a, b in RATIOS if a in servers and b in servers]
    head = ["workload"]
    for kind in servers:
        head += [f"{kind} req/s", f"{kind} p50 ms", f"{kind} p99 ms", f"{kind} errors"]
    head += [f"{a}/{b}" for a, b in ratios]
    lines = ["| " + " | ".join(head) + " |", "|---" + "|---:" * (len(head) - 1) + "|"]
    lines += [_row(n, r, servers, ratios) for n, r in report["results"].items()]
    return lines


def _server_lines(report: dict) -> list[str]:
    lines = []
    for kind, info in report["servers"].items():
        if "command" not in info:
            why = info.get("skipped") or f"failed at start: {info.get('failed')}"
            lines.append(f"- **{kind}**: not measured — {why}")
        else:
            note = f"; {info['note']}" if "note" in info else ""
            note += f"; **FAILED**: {info['failed']}" if "failed" in info else ""
            lines.append(f"- **{kind}**: `{info['command']}`{note}")
    return lines


def _error_lines(report: dict) -> list[str]:
    lines = []
    for name, results in report["results"].items():
        for kind, r in results.items():
            if not r["requests"]:
                lines.append(f"- {name} on {kind}: no request answered within the measured time")
            elif r["errors"]:
                sample = r.get("probe") or "no failing answer seen in a 1 s sample run"
                lines.append(
                    f"- {name} on {kind}: {r['non_2xx']} non-2xx, {r['socket_errors']} socket "
                    f"errors of {r['requests']} requests; first: {sample}"
                )
    return lines


def _longer(report: dict) -> str:
    """Which workloads ran longer than ``--duration`` (see ``Workload.min_seconds``)."""
    longer = [
        f"{name}: {r['seconds']:g} s"
        for name, results in report["results"].items()
        for r in list(results.values())[:1]
        if r.get("seconds", report["meta"]["duration"]) > report["meta"]["duration"]
    ]
    return ", ".join(longer) or "all alike"


def markdown(report: dict) -> str:
    m = report["meta"]
    errors = _error_lines(report)
    parts = [
        f"# Server load benchmark — {m['backend_label']}",
        "",
        f"{m['date']}; {m['cores']} cores ({m['cpu']}); MLflow {m['mlflow']}; wrk "
        f"`-t {m['threads']} -c {m['connections']}`, {m['warmup']:g} s warm-up then "
        f"{m['duration']:g} s measured per workload ({_longer(report)}); {m['store_note']}.",
        "",
        "req/s counts successful (2xx) responses only; p50/p99 are wrk's latency percentiles "
        "(all answered requests); errors = non-2xx answers + socket errors (timeout "
        f"{m['timeout']}). Ratios divide req/s. Absolute numbers drift between runs and machines: "
        "compare within one table. Rerun with:",
        "",
        f"    {m['command']}",
        "",
        "Servers (each on a fresh database, measured one at a time):",
        "",
        *_server_lines(report),
        "",
        *_table(report),
        "",
        "Workloads are described in `benchmarks/load/load_workloads.py`; log-batch writes go "
        "into one run per workload, with param keys new in every request. Requests still in "
        "flight when the measured time ends are not counted, so a workload whose p50 nears the "
        "duration is under-counted: rerun with a longer `--duration` for those rows.",
    ]
    if errors:
        parts += ["", "Errors and gaps:", "", *errors]
    return "\n".join(parts) + "\n"


def plot(report: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    servers = _measured(report)
    names = list(report["results"])
    width = 0.8 / max(len(servers), 1)
    fig, ax = plt.subplots(figsize=(12, 5.5))
    for i, kind in enumerate(servers):
        xs = [j + (i - (len(servers) - 1) / 2) * width for j in range(len(names))]
        ys = [report["results"][n].get(kind, {}).get("req_s") or 0 for n in names]
        bars = ax.bar(xs, ys, width, label=LABELS[kind], color=COLORS[kind])
        ax.bar_label(bars, [_num(y) if y else "" for y in ys], fontsize=6, rotation=90, padding=2)
        for x in (x for x, y in zip(xs, ys, strict=True) if not y):  # no bar on a log axis
            ax.annotate("0", (x, 0.01), xycoords=("data", "axes fraction"), ha="center", fontsize=7)
    ax.set_yscale("log")
    ax.set_ylabel("successful requests / s (log scale)")
    ax.set_xticks(range(len(names)), [BY_NAME[n].title for n in names], rotation=20, ha="right")
    m = report["meta"]
    ax.set_title(
        f"MLflow tracking server load, {m['backend_label']}, {m['connections']} connections — "
        f"{m['date']}, {m['cores']} cores"
    )
    if servers:
        ax.legend(fontsize=8)
    ax.grid(axis="y", which="both", alpha=0.3)
    ax.margins(y=0.15)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
