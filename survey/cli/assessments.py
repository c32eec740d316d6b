"""`survey` commands: assessments."""

COMMANDS = []
