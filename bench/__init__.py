"""Benchmarks of arxiv-bot: what a day costs, how long the job takes, how fast commands answer,
how it scales. `python -m bench [names...] [--quick]`; see bench/README.md.

Each benchmark is a module with `async def run(quick: bool) -> dict`; the dict holds
`summary` (flat figures), `tables` (for printing) and `notes`.
"""

BENCHMARKS = [
    "cost",
    "ranker",
    "redis_footprint",
    "job",
    "commands",
    "faults",
    "injection",
    "ask",
    "listing",
]

__all__ = ["BENCHMARKS"]
