"""The one error a command ends with: a message for stderr and the exit code."""

from __future__ import annotations


class CommandError(Exception):
    """Ends a command: ``f1-pipeline: <message>`` on stderr, exit ``exit_code`` (1: the work
    failed; 2: bad configuration or arguments)."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def usage_error(message: str) -> CommandError:
    """Bad configuration or arguments: exit 2."""
    return CommandError(message, exit_code=2)
