"""Scoring papers against a channel's criteria: Claude, or the local ranker without a key."""
