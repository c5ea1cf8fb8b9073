from datetime import UTC, datetime

import pytest

from oie.devstack.scheduler import next_runs
from oie.errors import BackendUnavailable
from oie.jobs.click_spool import drain_click_spool
from oie.jobs.registry import JobSpec, load_registry
from oie.jobs.runner import JOBS
from tests.fakes import FakeSpool, FakeWarehouse


def test_every_registered_job_has_a_runner_and_every_runner_is_registered():
    assert set(load_registry()) == set(JOBS)


def test_next_runs_follow_cron_in_the_jobs_time_zone():
    jobs = {
        "a": JobSpec(name="every5", schedule="*/5 * * * *", description="x"),
        "b": JobSpec(name="weekly", schedule="0 2 * * 0", timezone="America/New_York", description="x"),
    }
    runs = next_runs(jobs, datetime(2026, 3, 4, 10, 2, tzinfo=UTC))  # a Wednesday
    assert runs["a"] == datetime(2026, 3, 4, 10, 5, tzinfo=UTC)
    assert runs["b"] == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)  # Sunday 02:00 EST


def test_draining_the_spool_moves_every_click_once():
    spool, warehouse = FakeSpool(), FakeWarehouse()
    for n in range(1200):
        spool.add({"click_id": f"c{n}"}, row_id=f"c{n}")
    assert drain_click_spool(spool, warehouse) == {"rows": 1200}
    assert len(warehouse.tables["email_clicks"]) == 1200 and not spool.items
    assert drain_click_spool(spool, warehouse) == {"rows": 0}


def test_a_failed_drain_keeps_the_clicks_for_the_next_run():
    spool = FakeSpool()
    spool.add({"click_id": "c1"}, row_id="c1")
    with pytest.raises(BackendUnavailable):
        drain_click_spool(spool, FakeWarehouse(down=True))
    assert "c1" in spool.items
