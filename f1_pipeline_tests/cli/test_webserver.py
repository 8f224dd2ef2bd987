"""Every GraphQL document the CLI sends is valid against the installed Dagster's schema: a
Dagster upgrade that renames a field fails here, not in a user's terminal."""

import pytest
from dagster_graphql.schema import create_schema
from graphql import parse, validate

from f1_pipeline.cli import webserver
from f1_pipeline.defs.sensors import ticks

DOCUMENTS = {
    name: value
    for module in (webserver, ticks)
    for name, value in vars(module).items()
    if name.startswith("_")
    and name.isupper()
    and isinstance(value, str)
    and value.lstrip().startswith(("{", "query", "mutation"))
}


def test_the_cli_sends_documents():
    assert {"_LAUNCH", "_STATUS", "_FAILURES", "_RELOAD", "_TICKS"} <= set(DOCUMENTS)


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_document_is_valid_against_dagsters_schema(name):
    errors = validate(create_schema().graphql_schema, parse(DOCUMENTS[name]))
    assert errors == [], f"{name}: {errors}"
