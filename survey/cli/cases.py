"""`survey` commands: cases."""

COMMANDS = []
