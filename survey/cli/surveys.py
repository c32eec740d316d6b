"""`survey` commands: surveys."""

COMMANDS = []
