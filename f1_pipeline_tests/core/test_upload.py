from __future__ import annotations

from f1_pipeline.core.storage import LocalStorage, layout
from f1_pipeline.core.upload import look, peek_seasons, seasons_in
from f1_pipeline_tests.conftest import SAMPLE_SOURCE


def test_the_seasons_an_upload_names_by_its_header():
    text = b'round,raceId,"year",name\n1,1,2024,A\n1,2,2023,B\n2,3,abc,C\n3,4,1900,D\n\n'
    assert seasons_in(text.splitlines(keepends=True), 2025) == [2023, 2024]
    assert seasons_in([b"raceId,name\n", b"1,A\n"], 2025) == []


def test_the_sample_and_its_id(tmp_path):
    storage = LocalStorage(tmp_path)
    assert peek_seasons(storage, 2025) == []
    assert look(storage).upload is None
    for table in layout.SOURCE_TABLES:
        storage.publish_file(SAMPLE_SOURCE / f"{table}.csv", layout.source_csv(table))
    assert peek_seasons(storage, 2025) == list(range(2018, 2025))
    uid = look(storage).upload
    assert uid is not None
    assert len(uid) == 12
