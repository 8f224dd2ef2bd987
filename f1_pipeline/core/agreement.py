"""Do the published files still say what was published? Read what is stored now:

- each published season's files against the version the manifest recorded when they were
  written — the S3 VersionId on a versioned bucket, else the content's checksum (a file
  changed, replaced or removed behind the platform's back);
- each season's ``stats_{year}.json`` (the contract) against its Parquet table, by SQL over
  both (DuckDB): the same races (season, round), with the same name, datetime, winner and
  the winner's fastest lap.

Both files of a season come from the same rows in the same step, so a check inside that
step could not fail; this one runs on its own (after each publish and on a schedule).
No Dagster here.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from f1_pipeline.core.contract import CONTRACT_KEYS, STATS_SCHEMA
from f1_pipeline.core.glue_catalog import SEASON_TABLE
from f1_pipeline.core.lineage import SeasonEntry, read_manifest
from f1_pipeline.core.storage import ObjectNotFound, Storage, layout

# Contract key -> the season table's column holding the same fact.
CONTRACT_COLUMNS = {
    "Race Name": "race_name",
    "Race Round": "round",
    "Race Datetime": "race_datetime",
    "Race Winning driverId": "winner_driver_id",
    "Race Fastest Lap": "winner_fastest_lap_time",
}
assert tuple(CONTRACT_COLUMNS) == CONTRACT_KEYS  # the contract has no fact left unchecked
MAX_LISTED = 20  # problems listed by name; the count is always whole


@dataclass
class Agreement:
    seasons: list[str] = field(default_factory=list)  # the published seasons checked
    files: int = 0  # the files compared with the manifest
    races: int = 0  # the races compared between JSON and Parquet
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        if not self.seasons:
            return "nothing published yet"
        span = f"{self.seasons[0]}..{self.seasons[-1]}"
        if self.passed:
            return (
                f"{len(self.seasons)} season(s) {span}: {self.files} files as the manifest "
                f"recorded them; JSON and Parquet agree on all {self.races} races"
            )
        listed = "; ".join(self.problems[:MAX_LISTED])
        more = (
            f" (and {len(self.problems) - MAX_LISTED} more)"
            if len(self.problems) > MAX_LISTED
            else ""
        )
        return f"{len(self.problems)} problem(s) in {span}: {listed}{more}"


def _files_as_recorded(storage: Storage, season: str, entry: SeasonEntry, out: Agreement) -> bool:
    """Each file of ``season`` against the manifest's record of it (its version: the S3
    VersionId, or the checksum where there are no versions); True when all match."""
    ok = True
    wanted = {layout.stats_json(season), layout.stats_parquet(season)}
    recorded = entry.files
    for key in sorted(wanted - set(recorded)):
        out.problems.append(f"{key}: not in the manifest's record of season {season}")
        ok = False
    for key, version in sorted(recorded.items()):
        out.files += 1
        info = storage.find(key)
        if info is None:
            out.problems.append(f"{storage.uri(key)}: missing (the manifest lists it)")
            ok = False
            continue
        if info.version != version:
            out.problems.append(
                f"{storage.uri(key)}: changed since it was published (now {info.version[:16]}, the "
                f"manifest recorded {str(version)[:16]})"
            )
            ok = False
    return ok


def _invalid(document: Any) -> list[str]:
    """Where ``document`` breaks the contract's JSON Schema (STATS_SCHEMA), first few."""
    from jsonschema import Draft202012Validator

    errors = sorted(Draft202012Validator(STATS_SCHEMA).iter_errors(document), key=str)
    return [f"breaks the schema at {'/'.join(map(str, e.absolute_path)) or 'the top'}: "
            f"{e.message}" for e in errors[:3]]  # fmt: skip


def _contract_rows(storage: Storage, seasons: list[str], out: Agreement) -> pa.Table:
    rows = []
    for season in seasons:
        key = layout.stats_json(season)
        try:
            records = json.loads(storage.read_bytes(key))
        except (ValueError, ObjectNotFound) as err:
            out.problems.append(f"{storage.uri(key)}: unreadable ({type(err).__name__})")
            continue
        for problem in _invalid(records):
            out.problems.append(f"{storage.uri(key)}: {problem}")
        for record in records if isinstance(records, list) else []:
            if not isinstance(record, dict):
                continue
            row: dict[str, Any] = {"season": int(season)}
            row.update({CONTRACT_COLUMNS[k]: record.get(k) for k in CONTRACT_KEYS})
            rows.append(row)
    schema = pa.schema([("season", pa.int32()), ("race_name", pa.string()),
                        ("round", pa.int32()), ("race_datetime", pa.string()),
                        ("winner_driver_id", pa.int32()),
                        ("winner_fastest_lap_time", pa.string())])  # fmt: skip
    return pa.Table.from_pylist(rows, schema)


def _disagreements(storage: Storage, contract: pa.Table, workdir: Path) -> list[tuple]:
    from f1_pipeline.core.query import connect, run_query

    compared = [c for c in CONTRACT_COLUMNS.values() if c != "round"]
    differs = " OR ".join(f"j.{c} IS DISTINCT FROM p.{c}" for c in compared)
    named = ", ".join(f"CASE WHEN j.{c} IS DISTINCT FROM p.{c} THEN '{c}' END" for c in compared)
    sql = f"""
        SELECT coalesce(j.season, p.season) AS season, coalesce(j.round, p.round) AS round,
               CASE WHEN p.round IS NULL THEN 'only in the JSON'
                    WHEN j.round IS NULL THEN 'only in the Parquet table'
                    ELSE concat_ws(', ', {named}) END AS what
        FROM contract j FULL OUTER JOIN {SEASON_TABLE} p
          ON j.season = p.season AND j.round = p.round
        WHERE j.round IS NULL OR p.round IS NULL OR {differs}
        ORDER BY 1, 2"""
    with connect(storage, workdir) as con:
        con.register("contract", contract)
        _, rows = run_query(con, sql)
    return rows


def check_published(storage: Storage) -> Agreement:
    """The published seasons' files against the manifest, and their JSON against their
    Parquet table (see the module)."""
    manifest = read_manifest(storage)
    seasons = manifest.published()
    out = Agreement(seasons=seasons)
    if not seasons:
        return out
    for season in seasons:
        _files_as_recorded(storage, season, manifest.seasons[season], out)
    contract = _contract_rows(storage, seasons, out)
    out.races = contract.num_rows
    from f1_pipeline.core.query import QueryError

    with tempfile.TemporaryDirectory(prefix="f1-agreement-") as tmp:
        try:
            rows = _disagreements(storage, contract, Path(tmp))
        except QueryError as err:
            out.problems.append(f"the season tables cannot be read: {err}")
            return out
    for season, rnd, what in rows:
        detail = what if what.startswith("only") else f"JSON and Parquet differ in {what}"
        out.problems.append(f"season {season} round {rnd}: {detail}")
    return out
