"""The CLI as a user runs it: settings errors, bad dates and categories, the offline digest."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from bot.cli import STATE_FILE, app

runner = CliRunner()


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test runs in a directory of its own: the CLI keeps channel settings in ./.arxiv-bot."""
    monkeypatch.chdir(tmp_path)


def test_offline_digest_prints_real_papers_and_says_what_it_fell_back_to(tmp_path: Path) -> None:
    out = tmp_path / "d.md"
    result = runner.invoke(app, ["digest", "--offline", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "in-process store" in result.output and "local ranker" in result.output
    text = out.read_text()
    assert text.startswith("# Personalized Daily ArXiv Papers 2025-06-24")
    assert "**ArXiv ID:**" in text


def test_json_format_lists_every_scanned_paper_ranked(tmp_path: Path) -> None:
    out = tmp_path / "d.json"
    result = runner.invoke(
        app,
        [
            "digest",
            "--offline",
            "--date",
            "2025-06-10",
            "--format",
            "json",
            "--out",
            str(out),
            "--categories",
            "cs.CL",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["day"] == "2025-06-10" and data["scanned"] == len(data["papers"])
    scores = [p["relevance"] for p in data["papers"]]
    assert scores == sorted(scores, reverse=True)


def test_papers_file_is_scored_instead_of_fetching(tmp_path: Path) -> None:
    listing = tmp_path / "2025-06-10.jsonl"
    listing.write_text(
        json.dumps(
            {
                "id": "2506.00001",
                "authors": ["A. Person"],
                "title": "Sparse attention for language models",
                "categories": ["cs.CL"],
                "comment": None,
                "summary": "We propose a sparse attention transformer for large language models.",
            }
        )
        + "\n"
    )
    result = runner.invoke(
        app, ["digest", "--papers", str(listing), "--out", str(tmp_path / "o.md")]
    )
    assert result.exit_code == 0, result.output
    assert "Total arXiv papers: 1" in (tmp_path / "o.md").read_text()


def test_bad_inputs_get_one_clear_line(tmp_path: Path) -> None:
    cases = {
        ("digest", "--date", "2025-13-40"): "is not a date",
        ("digest", "--date", "2999-01-01"): "in the future",
        ("digest", "--categories", "cs.XX"): "unknown arXiv category cs.XX",
        ("digest", "--format", "pdf"): "markdown or json",
    }
    for args, message in cases.items():
        result = runner.invoke(app, list(args))
        assert result.exit_code == 2 and message in result.output, (args, result.output)
        assert "Traceback" not in result.output


def test_malformed_settings_name_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "settings.yaml"
    bad.write_text("llm:\n  batch_size: lots\n")
    result = runner.invoke(app, ["digest", "--offline", "--settings", str(bad)])
    assert result.exit_code == 2
    assert "llm.batch_size" in result.output and "Traceback" not in result.output
    bad.write_text("llm: [unclosed\n")
    result = runner.invoke(app, ["digest", "--offline", "--settings", str(bad)])
    assert result.exit_code == 2 and "not valid YAML at line" in result.output
    result = runner.invoke(app, ["digest", "--offline", "--settings", str(tmp_path / "none.yaml")])
    assert result.exit_code == 2 and "Cannot read settings file" in result.output


def test_environment_overrides_the_file_and_secrets_are_never_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.settings import load_settings

    f = tmp_path / "settings.yaml"
    f.write_text("llm:\n  batch_size: 10\nanthropic_api_key: sk-ant-from-file\n")
    monkeypatch.setenv("ARXIV_BOT_LLM__BATCH_SIZE", "25")
    settings = load_settings(f)
    assert settings.llm.batch_size == 25
    assert "sk-ant-from-file" not in repr(settings) and "sk-ant-from-file" not in str(settings)


def test_command_runs_through_the_command_layer() -> None:
    result = runner.invoke(app, ["command", "--offline", "help"])
    assert result.exit_code == 0 and "threshold" in result.output
    result = runner.invoke(app, ["command", "--offline", "frobnicate"])
    assert result.exit_code == 2 and "Unknown command" in result.output


def test_unreachable_arxiv_falls_back_to_bundled_data_and_says_so_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.fakes.redis_server import free_port

    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens: connection refused
    monkeypatch.setenv("ARXIV_BOT_ARXIV__RSS_URL", f"{closed}/rss")
    monkeypatch.setenv("ARXIV_BOT_ARXIV__API_URL", f"{closed}/api/query")
    monkeypatch.setenv("ARXIV_BOT_ARXIV__LIST_URL", f"{closed}/list")
    monkeypatch.setenv("ARXIV_BOT_ARXIV__RETRIES", "0")
    monkeypatch.setenv("ARXIV_BOT_ARXIV__DELAY_SECONDS", "0")
    result = runner.invoke(app, ["digest", "--out", str(tmp_path / "d.md")])
    assert result.exit_code == 0, result.output
    said = [line for line in result.output.splitlines() if "bundled" in line]
    assert len(said) == 1 and said[0].startswith("Using:")
    assert "arXiv unreachable (" in said[0] and "bundled real arXiv data" in said[0]
    assert "WARNING" not in result.output


def test_command_settings_survive_between_runs_without_redis_and_say_so() -> None:
    result = runner.invoke(app, ["command", "threshold", "7", "5"])  # unquoted
    assert result.exit_code == 0, result.output
    using = [line for line in result.output.splitlines() if line.startswith("Using:")]
    assert len(using) == 1 and "in-process store" in using[0] and str(STATE_FILE) in using[0]
    result = runner.invoke(app, ["command", "settings"])
    assert "relevance ≥ 7, novelty ≥ 5" in result.output, result.output
    assert "threshold" in result.output  # the audit entry survived too
    result = runner.invoke(app, ["command", "--channel", "slack:C9", "settings"])
    assert "relevance ≥ 6" in result.output  # another channel has its own


def test_unicode_digits_and_a_broken_state_file_get_one_clear_line() -> None:
    for words in (["threshold", "²"], ["threshold", "⑤"], ["max", "²"]):
        result = runner.invoke(app, ["command", *words])
        assert result.exit_code == 2 and "Example:" in result.output, result.output
        assert "Traceback" not in result.output and "Something went wrong" not in result.output
    STATE_FILE.parent.mkdir(exist_ok=True)
    STATE_FILE.write_text("{not json")
    result = runner.invoke(app, ["command", "settings"])
    assert (
        result.exit_code == 2 and "cannot be read" in result.output and "Delete it" in result.output
    )


def test_flags_are_switches_and_help_names_the_environment() -> None:
    result = runner.invoke(app, ["digest", "--help"])
    assert re.search(r"--offline\s+use the bundled", result.output), result.output
    result = runner.invoke(app, ["--help"])
    text = " ".join(result.output.split())
    for name in (
        "ANTHROPIC_API_KEY",
        "REDIS_URL",
        "SLACK_BOT_TOKEN",
        "DISCORD_TOKEN",
        "./run test",
    ):
        assert name in text, name


def test_relative_paths_mean_the_callers_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    caller = tmp_path / "elsewhere"
    caller.mkdir()
    (caller / "s.yaml").write_text("defaults:\n  max_papers: 3\n")
    monkeypatch.setenv("ARXIV_BOT_CWD", str(caller))  # as ./run sets it before its cd
    result = runner.invoke(app, ["digest", "--offline", "--out", "d.md", "--settings", "s.yaml"])
    assert result.exit_code == 0, result.output
    assert (caller / "d.md").is_file() and not (tmp_path / "d.md").exists()
    assert "3 relevant" in result.output or "→ 3 relevant" in result.output


@pytest.mark.parametrize(
    ("yaml_text", "key"),
    [
        ("defaults:\n  timezone: Mars/Olympus\n", "defaults.timezone"),
        ("defaults:\n  schedule_time: '25:99'\n", "defaults.schedule_time"),
        ("defaults:\n  timezone: " + "/".join(["Europe/Paris"] * 300) + "\n", "defaults.timezone"),
        ('defaults:\n  keywords: ["x\\0"]\n', "defaults.keywords.0"),
        ("defaults:\n  topics: [{name: ' ', description: d}]\n", "defaults.topics.0.name"),
    ],
)
def test_a_bad_channel_default_stops_with_one_sentence_naming_the_key(
    tmp_path: Path, yaml_text: str, key: str
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml_text)
    result = runner.invoke(app, ["command", "settings", "--settings", str(bad)])
    assert result.exit_code == 2 and f"'{key}'" in result.output, result.output
    assert "Traceback" not in result.output and "RecursionError" not in result.output


def test_explain_has_offline_and_export_defaults_to_the_cli_channel(tmp_path: Path) -> None:
    assert "--offline" in runner.invoke(app, ["explain", "--help"]).output
    result = runner.invoke(app, ["command", "more-like", "2506.06440", "--offline"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["export", "--format", "json", "--out", "liked.json"])
    assert result.exit_code == 0, result.output
    assert [p["id"] for p in json.loads((tmp_path / "liked.json").read_text())] == ["2506.06440"]


def test_arxiv_down_is_said_in_words_without_transport_detail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 18: score, search and digest now say what failed and what to do, never a host,
    a port, an errno or a library's exception name."""
    from tests.fakes.redis_server import free_port

    closed = f"http://127.0.0.1:{free_port()}"
    for key, path in (("RSS_URL", "rss"), ("API_URL", "api/query"), ("LIST_URL", "list")):
        monkeypatch.setenv(f"ARXIV_BOT_ARXIV__{key}", f"{closed}/{path}")
    monkeypatch.setenv("ARXIV_BOT_ARXIV__RETRIES", "0")
    monkeypatch.setenv("ARXIV_BOT_ARXIV__DELAY_SECONDS", "0")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["command", "score", "2506.99999"])
    said = result.output
    assert "arXiv" in said and "try again" in said, said
    for leak in ("Pool", "Errno", "127.0.0.1", "Error(", "ClientConnector", "Max retries"):
        assert leak not in said, said


def test_the_example_settings_show_the_defaults() -> None:
    """settings.example.yaml is where the errors send people "for every key with its default":
    a value there that is not the default (it once had abstracts a third longer than the ones the
    benchmarks measure) would be copied into deployments."""
    from bot.settings import Settings, load_settings

    root = Path(__file__).resolve().parents[1]
    shown = yaml.safe_load((root / "settings.example.yaml").read_text())
    defaults = Settings().model_dump(mode="json")

    def differences(example: Any, default: Any, path: str) -> list[str]:
        if not isinstance(example, dict):
            return [] if example == default else [f"{path}: {example!r}, default {default!r}"]
        return [
            line
            for key, value in example.items()
            for line in (
                differences(value, default[key], f"{path}.{key}".lstrip("."))
                if key in default
                else [f"{path}.{key}: not a setting".lstrip(".")]
            )
        ]

    assert differences(shown, defaults, "") == []
    assert load_settings(root / "settings.example.yaml").llm == Settings().llm
