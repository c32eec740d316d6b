"""`survey` commands: scoring."""

COMMANDS = []
