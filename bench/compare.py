"""`python -m bench.compare COMMIT_A COMMIT_B [names...] [--full] [--own-bench] [--keep]`

Checks out each commit into a temporary `git worktree`, runs `python -m bench --quick names`
there with the current interpreter (this venv) and PYTHONPATH set to that worktree, so `bot` is
the commit's code, and prints every numeric figure of A and B side by side with the ratio B/A.

By default the benchmark harness is this checkout's bench/ (copied into both worktrees), so both
commits are measured the same way; `--own-bench` uses each commit's own bench/ when it has one.
Each side's results go to a temporary file; bench/results.json is not touched.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def _git(*args: str, cwd: Path = REPO) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout.strip()


def flatten(result: dict[str, Any]) -> dict[str, float]:
    """Every numeric figure of one benchmark: its summary, and each table cell keyed by
    table / first cell of the row / column."""
    out: dict[str, float] = {}
    for key, value in (result.get("summary") or {}).items():
        if isinstance(value, (bool, int | float)):
            out[key] = float(value)
    for spec in result.get("tables") or []:
        columns = spec["columns"]
        for row in spec["rows"]:
            label = str(row[0])
            for column, value in zip(columns[1:], row[1:], strict=False):
                if isinstance(value, int | float) and not isinstance(value, bool):
                    out[f"{spec['title']} / {label} / {column}"] = float(value)
    return out


def run_at(
    commit: str, names: list[str], *, quick: bool, own_bench: bool, keep: bool, console: Console
) -> tuple[str, dict[str, Any]]:
    sha = _git("rev-parse", "--verify", f"{commit}^{{commit}}")
    tree = Path(tempfile.mkdtemp(prefix=f"arxivbot-bench-{sha[:8]}-"))
    out = tree.parent / f"{tree.name}-results.json"
    _git("worktree", "add", "--detach", "--force", str(tree), sha)
    try:
        if not own_bench or not (tree / "bench" / "__main__.py").exists():
            shutil.rmtree(tree / "bench", ignore_errors=True)
            shutil.copytree(
                HERE, tree / "bench", ignore=shutil.ignore_patterns("results.json*", "__pycache__")
            )
        env = {**os.environ, "PYTHONPATH": str(tree)}
        cmd = [sys.executable, "-m", "bench", *names, "--out", str(out)] + (
            ["--quick"] if quick else []
        )
        console.print(f"[bold]{commit}[/] ({sha[:12]}): {' '.join(cmd[1:])} in {tree}")
        subprocess.run(cmd, cwd=tree, env=env, check=False)
        data = json.loads(out.read_text()) if out.exists() else {"benchmarks": {}}
        return sha, data.get("benchmarks", {})
    finally:
        out.unlink(missing_ok=True)
        if not keep:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(tree)],
                cwd=REPO,
                capture_output=True,
                check=False,
            )
            shutil.rmtree(tree, ignore_errors=True)


def _fmt(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:,.4g}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.compare",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("a", help="baseline commit (A)")
    parser.add_argument("b", help="commit to compare (B)")
    parser.add_argument("names", nargs="*", help="benchmarks (default: all)")
    parser.add_argument("--full", action="store_true", help="full sizes instead of --quick")
    parser.add_argument("--own-bench", action="store_true", help="use each commit's own bench/")
    parser.add_argument("--keep", action="store_true", help="keep the worktrees")
    args = parser.parse_args(argv)
    console = Console(width=None if sys.stdout.isatty() else 200)
    sha_a, res_a = run_at(
        args.a,
        args.names,
        quick=not args.full,
        own_bench=args.own_bench,
        keep=args.keep,
        console=console,
    )
    sha_b, res_b = run_at(
        args.b,
        args.names,
        quick=not args.full,
        own_bench=args.own_bench,
        keep=args.keep,
        console=console,
    )
    from bench import BENCHMARKS

    order = args.names or BENCHMARKS
    for name in sorted(
        set(res_a) | set(res_b), key=lambda n: order.index(n) if n in order else len(order)
    ):
        fa, fb = flatten(res_a.get(name, {})), flatten(res_b.get(name, {}))
        t = Table(
            title=f"[bold]{name}[/]: B/A ({args.b} {sha_b[:8]} / {args.a} {sha_a[:8]})",
            title_justify="left",
        )
        t.add_column("figure", overflow="fold")
        for col in ("A", "B", "B/A"):
            t.add_column(col, justify="right")
        for key in list(dict.fromkeys([*fa, *fb])):
            a, b = fa.get(key), fb.get(key)
            ratio = b / a if a not in (None, 0) and b is not None else None
            style = ""
            if ratio is not None and not math.isnan(ratio):
                style = "green" if ratio < 0.9 else "red" if ratio > 1.1 else ""
            t.add_row(key, _fmt(a), _fmt(b), f"[{style}]{_fmt(ratio)}[/]" if style else _fmt(ratio))
        for side, res in (("A", res_a), ("B", res_b)):
            code = res.get(name, {}).get("meta", {}).get("code")
            if code:
                console.print(f"  {name} {side}: bot imported from {code}")
            if res.get(name, {}).get("error"):
                console.print(f"[red]{name} failed on {side}:[/] {res[name]['error']}")
        console.print(t)
    return 0


if __name__ == "__main__":
    sys.exit(main())
