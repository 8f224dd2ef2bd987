"""``f1-pipeline history`` and ``f1-pipeline rollback UPLOAD``: the accepted uploads, and
one of them made current again.

A rollback is an upload like any other, run as one: the publish run, launched with the tag
``f1/rollback=UPLOAD`` (what a launch from the UI does too), first copies that upload's
kept source files back to ``source-data/`` as the newest versions, then ingests them with
the usual checks and holds. In this process, or through the daemon's queue when one serves
the home (as `f1-pipeline run`)."""

from __future__ import annotations

import argparse
import getpass
import socket

from f1_pipeline.cli.context import Cli
from f1_pipeline.cli.errors import CommandError


def add_parser(commands: argparse._SubParsersAction, parents: list) -> None:
    commands.add_parser(
        "history", parents=parents, help="the accepted uploads, newest last (for a rollback)"
    )
    rollback = commands.add_parser(
        "rollback",
        parents=parents,
        help="make an accepted upload current again (checked and held as any upload)",
    )
    rollback.add_argument("upload", help="the upload's id (see `f1-pipeline history`)")


def show(cli: Cli) -> int:
    from tabulate import tabulate

    from f1_pipeline.core.history import history

    uploads = history(cli.storage)
    if not uploads:
        print("no accepted upload yet")
        return 1
    rows = []
    for u in uploads:
        seasons = ", ".join(u.seasons_changed[:6]) + (" …" if len(u.seasons_changed) > 6 else "")
        by = u.accepted_by or {}
        how = "automatically" if not by else f"by {by.get('user') or by.get('run_id', '?')}"
        if u.rollback:
            how += f"; rollback of {u.rollback['of']}"
        if u.same_content_as and not u.rollback:
            how += f"; same bytes as {u.same_content_as}"
        kept = "; ".join(u.kept_at.values()) or "not kept (an unversioned bucket)"
        rows.append((u.upload, u.accepted_at, seasons or "none", how, kept))
    headers = ("upload", "accepted at (UTC)", "seasons changed", "accepted", "source files")
    print(tabulate(rows, headers=headers, tablefmt="presto"))
    return 0


def command(cli: Cli, args: argparse.Namespace) -> int:
    if args.command == "history":
        return show(cli)
    from f1_pipeline.cli import run
    from f1_pipeline.core.history import RollbackRefused, restorable
    from f1_pipeline.defs.constants import REQUESTED_BY_TAG, ROLLBACK_TAG

    upload = args.upload.strip()
    try:
        restorable(cli.storage, upload)
    except RollbackRefused as err:
        raise CommandError(f"rollback refused: {err}") from None
    who = f"{getpass.getuser()}@{socket.gethostname()} (f1-pipeline rollback)"
    print(f"rollback to upload {upload}: its source files made current again, then published")
    tags = {ROLLBACK_TAG: upload, REQUESTED_BY_TAG: who}
    cli.spark_ahead()
    return run.publish_command(cli, None, args.verbose, tags)
