"""Dagster's SQLite event log, with asset events of a batch written in one transaction.

One run that materialises thousands of season partitions writes thousands of asset events
(the planned ones when the run is created, the materialisations when the step ends).
Dagster hands such events over in batches when ``DAGSTER_EVENT_BATCH_SIZE`` is set, but
its SQLite storage then still writes them one by one, each in its own transactions on two
databases (~7 ms each here: 100 s of a 7,000-season run). This storage writes a batch of
asset events as one transaction per database, with the same rows Dagster's own
``store_event`` writes; anything else goes through Dagster's code unchanged.

Configured by our ``dagster.yaml`` template as the instance's ``event_log_storage``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dagster import DagsterEventType, EventLogEntry
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sqlalchemy_compat import db_result

# Asset events whose store_event is: a row in the run's database, its mirror in the index
# database, the event's tags and the asset key's latest-event columns. Nothing else.
BATCHED = frozenset(
    {
        DagsterEventType.ASSET_MATERIALIZATION,
        DagsterEventType.ASSET_MATERIALIZATION_PLANNED,
        DagsterEventType.ASSET_OBSERVATION,
    }
)

# How many events Dagster buffers per batch (DAGSTER_EVENT_BATCH_SIZE); our entry points
# (`make ui`, the CLI) set it, the instance template documents it.
EVENT_BATCH_SIZE = "1000"


def batchable(event: EventLogEntry) -> bool:
    return event.is_dagster_event and event.get_dagster_event().event_type in BATCHED


class BatchingSqliteEventLogStorage(SqliteEventLogStorage):
    """:class:`SqliteEventLogStorage` whose ``store_event_batch`` is one transaction per
    database for a batch of one run's asset events. Config: ``base_dir``, as Dagster's."""

    @classmethod
    def from_config_value(
        cls, inst_data: Any, config_value: Mapping[str, Any]
    ) -> BatchingSqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        runs = {event.run_id for event in events}
        if len(events) < 2 or len(runs) != 1 or not all(batchable(e) for e in events):
            super().store_event_batch(events)
            return
        with self.run_connection(runs.pop()) as conn:
            conn.execute(self.prepare_insert_event_batch(events))
        with self.index_transaction() as conn:
            ids = []
            for event in events:
                with db_result(conn, self.prepare_insert_event(event)) as result:
                    ids.append(result.inserted_primary_key[0])
            self._store_asset_event_tags(conn, events, ids)
            for event, event_id in zip(events, ids, strict=True):
                self._store_asset_event(conn, event, event_id)
