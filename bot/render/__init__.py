"""Pure renderers: a digest, an answer or a note as markdown, Slack Block Kit or Discord embeds,
within each platform's limits. No I/O library is imported here (import-linter checks it)."""
