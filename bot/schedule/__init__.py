"""Daily jobs (plain async functions given their dependencies) and their APScheduler wiring."""
