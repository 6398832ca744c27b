"""Chat: one command layer (commands.py) and thin platform adapters (slack/, discord/)."""
