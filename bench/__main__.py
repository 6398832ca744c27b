"""`python -m bench [names...] [--quick] [--out FILE]`: run benchmarks, print a table per
benchmark, merge the figures into bench/results.json (per benchmark name, with the git commit,
the date and the machine)."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib
import json
import logging
import os
import platform
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench import BENCHMARKS

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.json"


def _git(*args: str, cwd: Path) -> str:
    try:
        return subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def meta(quick: bool) -> dict[str, Any]:
    import bot

    code = Path(bot.__file__).resolve().parent.parent
    commit = _git("rev-parse", "HEAD", cwd=code)
    dirty = bool(_git("status", "--porcelain", "--untracked-files=no", cwd=code))
    return {
        "commit": commit + ("+dirty" if dirty and commit else ""),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "nproc": os.cpu_count(),
            "cpu": _cpu_model(),
        },
        "quick": quick,
        "code": str(code),
    }


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.6g}" if abs(value) < 1e6 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def show(console: Console, name: str, result: dict[str, Any]) -> None:
    for spec in result.get("tables", []):
        t = Table(
            title=f"[bold]{name}[/]: {spec['title']}",
            caption=spec.get("caption") or None,
            title_justify="left",
        )
        for i, col in enumerate(spec["columns"]):
            t.add_column(col, justify="left" if i == 0 else "right", overflow="fold")
        for row in spec["rows"]:
            t.add_row(*(_cell(v) for v in row))
        console.print(t)
    summary = result.get("summary", {})
    if summary:
        t = Table(title=f"[bold]{name}[/]: figures", title_justify="left", show_header=False)
        t.add_column("figure")
        t.add_column("value", justify="right")
        for k, v in summary.items():
            t.add_row(k, _cell(v))
        console.print(t)
    for note in result.get("notes", []):
        console.print(f"  • {note}")
    if result.get("error"):
        console.print(f"[red]{name} failed:[/] {result['error']}")


def merge(path: Path, results: dict[str, dict[str, Any]]) -> None:
    """Merge per benchmark name; written through a temporary file so a crash leaves the old one."""
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = json.loads(path.read_text())
        except ValueError:
            data = {}
    data.setdefault("benchmarks", {}).update(results)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n")
    tmp.replace(path)


def run_one(name: str, quick: bool) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        module = importlib.import_module(f"bench.{name}")
        result = asyncio.run(module.run(quick))
    except Exception as e:  # one broken benchmark must not hide the others
        result = {"error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc(limit=8)}
    result["elapsed_seconds"] = round(time.perf_counter() - started, 2)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "names", nargs="*", help=f"benchmarks to run (default: all of {', '.join(BENCHMARKS)})"
    )
    parser.add_argument("--quick", action="store_true", help="small sizes: seconds, not minutes")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results file (merged)")
    args = parser.parse_args(argv)
    names = args.names or BENCHMARKS
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(
            f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}"
        )
    logging.basicConfig(level=logging.CRITICAL)  # failures are counted in the figures instead
    console = Console(width=None if sys.stdout.isatty() else 220)
    info = meta(args.quick)
    console.print(
        f"[bold]arxiv-bot benchmarks[/] {'(quick) ' if args.quick else ''}"
        f"commit {info['commit'][:12] or '?'} on {info['machine']['cpu']} "
        f"({info['machine']['nproc']} CPUs)"
    )
    failed = False
    for name in names:
        console.rule(name)
        result = run_one(name, args.quick)
        show(console, name, result)
        console.print(f"  ({name}: {result['elapsed_seconds']} s)")
        merge(args.out, {name: {"meta": info, **result}})
        failed |= "error" in result
    console.print(f"Results merged into {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
