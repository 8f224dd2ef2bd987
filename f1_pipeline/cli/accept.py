"""``f1-pipeline accept``: publish a held upload anyway, as an explicit, recorded act.

Names the upload it accepts (its id: a digest of the files' checksums), so a later, different
upload is never accepted by it. The record says what was accepted, when, and from where
(this command and its OS user). A daemon serving the Dagster home publishes it within
seconds; otherwise `f1-pipeline run` does.
"""

from __future__ import annotations

import argparse
import getpass
import socket

from f1_pipeline.cli.context import Cli
from f1_pipeline.cli.errors import CommandError


def add_parser(commands: argparse._SubParsersAction, parents: list) -> None:
    accept = commands.add_parser(
        "accept",
        parents=parents,
        help="accept a held upload (one that would remove published data): it is then published",
    )
    accept.add_argument(
        "upload", nargs="?", help="the held upload's id (without it: show what is held)"
    )


def accept_upload(cli: Cli, upload: str) -> dict:
    """Record the acceptance of ``upload``, the current, held upload; the record."""
    from f1_pipeline.core.holds import NotHeld, accept
    from f1_pipeline.core.storage import layout
    from f1_pipeline.core.upload import look

    storage = cli.storage
    current = look(storage).upload
    if current != upload:
        raise CommandError(
            f"upload {upload} is not the current upload ({current or 'none'}): an acceptance "
            "names one upload, and a later, different one is not accepted by it"
        )
    by = {"via": "cli", "user": getpass.getuser(), "host": socket.gethostname()}
    try:
        record = accept(storage, upload, by)
    except NotHeld as err:
        raise CommandError(str(err)) from None
    print(f"accepted upload {upload} ({'; '.join(record['changes'])})")
    print(f"  recorded in {storage.uri(layout.acceptance_record(upload))} by {by['user']}")
    return record


def command(cli: Cli, args: argparse.Namespace) -> int:
    from f1_pipeline.core.holds import hold_message, read_acceptance, read_hold
    from f1_pipeline.core.lineage import read_commit
    from f1_pipeline.core.upload import look

    if args.upload:
        accept_upload(cli, args.upload.strip())
        print("  a running daemon publishes it within seconds; otherwise: `f1-pipeline run`")
        return 0
    current = look(cli.storage).upload
    hold = read_hold(cli.storage, current) if current else None
    if current is None or hold is None:
        print(f"the current upload ({current or 'none'}) is not held")
        return 1
    commit = read_commit(cli.storage)
    if read_acceptance(cli.storage, current, commit.upload if commit else None):
        print(f"upload {current} was held and is accepted")
        return 0
    print(hold_message(current, hold.get("changes", [])))
    return 1
