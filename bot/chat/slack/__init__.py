"""Slack adapter (slack-bolt): commands and reactions in, replies and digests out.

Importing this package starts nothing; `start_slack()` connects.
"""

from bot.chat.slack.app import SlackRuntime, build_slack_app, start_slack
from bot.chat.slack.poster import SlackPoster

__all__ = ["SlackPoster", "SlackRuntime", "build_slack_app", "start_slack"]
