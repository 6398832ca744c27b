"""Settings: settings.yaml, overridden by ARXIV_BOT_* and the usual service variables.

Loaded once by the CLI and passed down; a bad file fails fast with one sentence naming the key.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import AliasChoices, BaseModel, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from bot.errors import SettingsError
from bot.logs import LoggingSettings
from bot.models import Categories, Names, TimeOfDay, TimeZone, Topic, Topics

__all__ = ["ArxivSettings", "LLMSettings", "Price", "Settings", "load_settings"]


class ArxivSettings(BaseModel):
    rss_url: str = "https://rss.arxiv.org/rss"
    api_url: str = "https://export.arxiv.org/api/query"
    html_url: str = "https://arxiv.org/html"
    abs_url: str = "https://arxiv.org/abs"
    delay_seconds: float = Field(default=3.0, ge=0, description="arXiv asks for one request in 3 s")
    retries: int = Field(default=3, ge=0)
    timeout_seconds: float = Field(default=30.0, gt=0)
    backoff_seconds: float = Field(default=2.0, ge=0, description="first retry wait, doubling")
    list_url: str = Field(default="https://arxiv.org/list", description="listing pages' base")
    oai_url: str = Field(
        default="https://oaipmh.arxiv.org/oai", description="OAI-PMH base (past days)"
    )
    contact: str = Field(
        default="",
        description="an email or URL sent in the User-Agent, so arXiv can reach you before "
        "blocking",
    )
    retry_after_cap_seconds: float = Field(
        default=60.0, ge=0, description="longest Retry-After honoured before retrying"
    )
    max_wait_hours: float = Field(
        default=3.0,
        ge=0,
        description="how long a due digest waits for arXiv to confirm its day before the channel "
        "is told the day is late (it keeps waiting, and posts once confirmed)",
    )
    holidays: list[dt.date] = Field(
        default=[], description="arXiv's published holidays: listing days without announcement"
    )


class Price(BaseModel):
    """Dollars per million tokens."""

    input: float
    output: float
    cache_write: float
    cache_read: float


# Anthropic list prices (USD per million tokens), November 2026.
DEFAULT_PRICES = {
    "claude-haiku-4-5": Price(input=1.0, output=5.0, cache_write=1.25, cache_read=0.10),
    "claude-sonnet-4-5": Price(input=3.0, output=15.0, cache_write=3.75, cache_read=0.30),
    "claude-opus-4-1": Price(input=15.0, output=75.0, cache_write=18.75, cache_read=1.50),
}


class LLMSettings(BaseModel):
    model: str = "claude-haiku-4-5"
    base_url: str | None = None
    batch_size: int = Field(
        default=200,
        ge=1,
        le=200,
        description="papers per scoring call: a day's abstracts in one call pay the prefix once",
    )
    max_retries: int = Field(default=3, ge=0, le=10, description="per call, within the deadline")
    timeout_seconds: float = Field(default=60.0, gt=0, description="per call, within the deadline")
    deadline_seconds: float = Field(
        default=180.0,
        gt=0,
        description="all of a digest's Claude calls; what is not scored by then is ranked locally",
    )
    max_retry_after_seconds: float = Field(
        default=30.0, ge=0, description="the longest `retry-after` waited (never past the deadline)"
    )
    max_parallel_calls: int = Field(
        default=16,
        ge=1,
        le=256,
        description="Claude calls in flight at once per process; a 429 is waited out (retry-after)",
    )
    use_batches_api: bool = Field(default=False, description="half price, results within 24 h")
    batch_poll_seconds: float = Field(default=30.0, ge=0)
    prescore: bool = Field(
        default=True,
        description="score each new listing through the Batches API (half price) right after "
        "arXiv announces it, for channels whose digest is due 2 hours or more later",
    )
    triage: bool = Field(default=True, description="a title-only first pass before abstracts")
    triage_skip_title_terms: int = Field(
        default=2,
        ge=0,
        le=10,
        description="a title naming this many distinct terms of the interests (topic names, "
        "descriptions before their 'Not:', keywords) skips the triage, which would keep it, and "
        "goes straight to the abstract pass (0: every title is triaged)",
    )
    sets_per_call: int = Field(
        default=4,
        ge=1,
        le=16,
        description="distinct interest sets scored together in one call (abstracts sent once)",
    )
    gather_seconds: float = Field(
        default=1.0,
        ge=0,
        le=10,
        description="how long a set of interests waits for others to score the same listing with",
    )
    max_abstract_chars: int = Field(default=240, ge=100)
    prefilter_min_relevance: int = Field(
        default=2, ge=0, le=10, description="papers the local ranker scores below this skip Claude"
    )
    prices: dict[str, Price] = DEFAULT_PRICES

    def price(self) -> Price:
        return self.prices.get(self.model, DEFAULT_PRICES["claude-haiku-4-5"])


class ChannelDefaults(BaseModel):
    """What a new channel starts with, before anyone runs /arxiv."""

    categories: Categories = ["cs.CL", "cs.CV"]
    topics: Topics = [
        Topic(
            name="Language models",
            description="Pretraining, architecture, scaling, interpretability and evaluation of "
            "large language models. Not: applications that only use an LLM as a tool.",
        ),
        Topic(
            name="Vision-language",
            description="Multimodal models that connect images or video with text: "
            "vision-language pretraining, visual question answering, grounding.",
        ),
    ]
    keywords: Names = ["transformer", "diffusion", "reasoning"]
    relevance_threshold: int = Field(default=6, ge=1, le=10)
    max_papers: int = Field(default=15, ge=1, le=200)
    schedule_time: TimeOfDay = "09:00"
    timezone: TimeZone = "UTC"
    budget_usd: float = Field(default=1.0, ge=0, le=1000)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ARXIV_BOT_", env_nested_delimiter="__", extra="forbid"
    )

    redis_url: str | None = Field(
        default=None, validation_alias=AliasChoices("REDIS_URL", "ARXIV_BOT_REDIS_URL", "redis_url")
    )
    key_prefix: str = "arxivbot:v1"
    anthropic_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "ANTHROPIC_API_KEY", "ARXIV_BOT_ANTHROPIC_API_KEY", "anthropic_api_key"
        ),
    )
    slack_bot_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_BOT_TOKEN", "slack_bot_token")
    )
    slack_app_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_APP_TOKEN", "slack_app_token")
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "slack_signing_secret")
    )
    slack_api_url: str | None = Field(default=None, description="Web API base, for tests")
    slack_port: int = Field(default=3000, description="HTTP mode port (no SLACK_APP_TOKEN)")
    slack_message_interval: float = Field(
        default=1.1, ge=0, description="seconds between messages in one channel (Slack: ~1/s)"
    )
    slack_admins: list[str] = Field(
        default=[],
        description="user ids who may change every channel's settings, besides each channel's "
        "creator, the workspace's admins and owners and the channel's `admins` list",
    )
    discord_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("DISCORD_TOKEN", "discord_token")
    )
    discord_admin_role: str | None = Field(
        default=None,
        description="role name whose members may change settings, besides Manage Channels and "
        "the channel's `admins` list",
    )
    discord_guild_id: int | None = Field(default=None, description="sync commands to one guild")
    discord_api_url: str | None = Field(default=None, description="REST base, for tests")
    include_replacements: bool = False
    health_port: int = 8080
    logging: LoggingSettings = LoggingSettings()
    catch_up_days: int = Field(default=3, ge=0, le=30)
    job_lease_seconds: float = Field(
        default=15.0,
        gt=0,
        description="renewed at a third of its life while a job runs; a dead replica's "
        "deliveries resume about this long after it died",
    )
    sweep_seconds: int = Field(default=300, ge=1, description="catch-up/retry sweep interval")
    reconcile_seconds: int = Field(default=30, ge=1, description="re-read schedules this often")
    drain_seconds: float = Field(default=30.0, ge=0, description="SIGTERM: wait for running jobs")
    arxiv: ArxivSettings = ArxivSettings()
    llm: LLMSettings = LLMSettings()
    defaults: ChannelDefaults = ChannelDefaults()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment wins over the file (passed as init kwargs): the twelve-factor order.
        return env_settings, init_settings


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise SettingsError(f"Cannot read settings file {path}: {e.strerror}.") from e
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise SettingsError(f"{path} is not valid YAML{where}.") from e
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SettingsError(f"{path} must hold a mapping of keys, not {type(data).__name__}.")
    return data


def _describe(error: ValidationError, source: str) -> str:
    problems = []
    for item in error.errors()[:3]:
        key = ".".join(str(p) for p in item["loc"]) or "(top level)"
        if item["type"] == "extra_forbidden":
            problems.append(f"unknown key '{key}'")
        else:
            msg = item["msg"].removeprefix("Value error, ")
            problems.append(f"'{key}': {msg} (got {item.get('input')!r:.60})")
    return f"{source}: " + "; ".join(problems) + "."


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    """Read settings from `path` (or $ARXIV_BOT_SETTINGS, or ./settings.yaml if present)."""
    chosen = path or os.environ.get("ARXIV_BOT_SETTINGS")
    if chosen is None and Path("settings.yaml").is_file():
        chosen = "settings.yaml"
    data = _read_yaml(Path(chosen)) if chosen else {}
    try:
        return Settings(**data)
    except ValidationError as e:
        raise SettingsError(_describe(e, str(chosen or "environment"))) from e
