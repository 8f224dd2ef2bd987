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


def as_command_error(err: BaseException) -> CommandError:
    """What a user reads for an error no command anticipated: its kind and message, in one
    line (the stack trace is for --verbose)."""
    if isinstance(err, CommandError):
        return err
    from botocore.exceptions import BotoCoreError, ClientError

    from f1_pipeline.core.spark import JavaMissing
    from f1_pipeline.core.storage import StorageError
    from f1_pipeline.core.transforms.errors import InvalidInputError
    from f1_pipeline.defs.config import ConfigError

    if isinstance(err, ConfigError):
        return usage_error(f"configuration error: {err}")
    if isinstance(err, InvalidInputError | StorageError):
        return CommandError(str(err))
    if isinstance(err, JavaMissing):
        return usage_error(str(err))
    if isinstance(err, ClientError | BotoCoreError):
        return CommandError(f"AWS request failed: {err}")
    detail = str(err).strip().splitlines()[0] if str(err).strip() else ""
    return CommandError(
        f"unexpected error: {type(err).__name__}{': ' + detail if detail else ''} "
        "(run again with --verbose for the stack trace)"
    )
