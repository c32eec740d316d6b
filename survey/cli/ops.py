"""`survey` commands: ops."""

COMMANDS = []
