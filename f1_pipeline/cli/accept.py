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

from f1_pipeline.cli.errors import CommandError
from f1_pipeline.settings import Settings


def add_parser(commands: argparse._SubParsersAction, parents: list) -> None:
    accept = commands.add_parser(
        "accept",
        parents=parents,
        help="accept a held upload (one that would remove published data): it is then published",
    )
    accept.add_argument(
        "upload", nargs="?", help="the held upload's id (without it: show what is held)"
    )


def accept_upload(settings: Settings, upload: str) -> dict:
    """Record the acceptance of ``upload``, the current, held upload; the record."""
    from f1_pipeline.core.holds import read_hold, record_acceptance
    from f1_pipeline.core.storage import layout
    from f1_pipeline.core.upload import listing, listing_upload_id
    from f1_pipeline.defs.resources import storage_resource

    storage = storage_resource(settings).get()
    current = listing_upload_id(listing(storage))
    if current != upload:
        raise CommandError(
            f"upload {upload} is not the current upload ({current or 'none'}): an acceptance "
            "names one upload, and a later, different one is not accepted by it"
        )
    hold = read_hold(storage, upload)
    if hold is None:
        raise CommandError(f"upload {upload} was not held: there is nothing to accept")
    by = {"via": "cli", "user": getpass.getuser(), "host": socket.gethostname()}
    record = record_acceptance(storage, upload, by, list(hold.get("changes", [])))
    print(f"accepted upload {upload} ({'; '.join(record['changes'])})")
    print(f"  recorded in {storage.uri(layout.acceptance_record(upload))} by {by['user']}")
    return record


def command(settings: Settings, args: argparse.Namespace) -> int:
    from f1_pipeline.core.holds import hold_message, read_acceptance, read_hold
    from f1_pipeline.core.upload import listing, listing_upload_id
    from f1_pipeline.defs.resources import storage_resource

    if args.upload:
        accept_upload(settings, args.upload.strip())
        print("  a running daemon publishes it within seconds; otherwise: `f1-pipeline run`")
        return 0
    storage = storage_resource(settings).get()
    current = listing_upload_id(listing(storage))
    hold = read_hold(storage, current) if current else None
    if hold is None:
        print(f"the current upload ({current or 'none'}) is not held")
        return 1
    if read_acceptance(storage, current or ""):
        print(f"upload {current} was held and is accepted")
        return 0
    print(hold_message(current or "", hold.get("changes", [])))
    return 1
