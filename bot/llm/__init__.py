"""What every Claude caller shares: how the client is built, what a call costs, what an error was."""
