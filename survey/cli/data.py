"""`survey` commands: data."""

COMMANDS = []
