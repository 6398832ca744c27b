"""arxiv-bot: daily arXiv digests scored by Claude, delivered to Slack and Discord."""

__version__ = "0.1.0"
