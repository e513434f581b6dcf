"""Concurrent uploads, record lists and reviews on a real sxpt-server on 127.0.0.1.

Four departments upload three files of 400 records each (xlsx, CSV and JSON in turn)
while two readers list records and the school approves or returns the review queue in
batches. Afterwards every uploaded natural key is stored exactly once and every review is
applied. The scenario is ``benchmarks/server_load.py`` at a size that takes about ten
seconds on two cores. It runs once on SQLite with one server and one unit worker, and
once with two server processes and two unit workers on one PostgreSQL database, where
each department talks to either server.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from benchmarks.server_load import LoadResult, LoadSettings, run_load

from tests.server.backends import postgresql_database

SETTINGS = LoadSettings(departments=4, uploads=3, rows=400, readers=2, deadline=50.0)


@pytest.fixture(scope="module", params=["sqlite", "postgresql, 2 servers, 2 workers"])
def result(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoadResult]:
    instance: Path = tmp_path_factory.mktemp("load") / "instance"
    if request.param == "sqlite":
        yield run_load(SETTINGS, instance)
        return
    with postgresql_database() as url:
        yield run_load(dataclasses.replace(SETTINGS, servers=2, workers=2, database=url), instance)


def test_load_finishes_without_errors(result: LoadResult) -> None:
    assert result.errors == []


def test_load_has_no_5xx(result: LoadResult) -> None:
    assert result.server_errors == 0, result.statuses


def test_load_retries_carry_problem_details(result: LoadResult) -> None:
    # A 409 or 429 is allowed when the client retried it; each must explain itself.
    assert result.retried_without_problem == 0, result.retried


def test_load_creates_every_uploaded_row(result: LoadResult) -> None:
    assert result.rows_uploaded == SETTINGS.departments * SETTINGS.uploads * SETTINGS.rows
    assert result.records_created == result.rows_uploaded


def test_load_stores_each_key_once(result: LoadResult) -> None:
    assert result.stored == result.rows_uploaded
    assert result.lost == 0
    assert result.duplicated == 0
    assert result.unexpected == 0


def test_load_applies_every_review(result: LoadResult) -> None:
    assert result.review_mismatches == 0
    assert result.unreviewed == 0
    assert result.approved + result.returned == result.stored
    assert result.returned > 0


def test_load_province_sees_approved_only(result: LoadResult) -> None:
    assert result.province_visible == result.approved


def test_load_readers_ran_alongside(result: LoadResult) -> None:
    assert result.latencies["list"].count > 0
    assert result.latencies["upload"].count >= result.uploads
    assert result.latencies["review"].count > 0
