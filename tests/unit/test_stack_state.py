"""The state files through which `oie` commands find the local stacks that run."""

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from oie.devstack import state
from oie.devstack.stack import _refusal
from oie.devstack.state import StackState

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def stack(root, port, *, pid=None, minutes=0):
    return StackState(
        pid=pid or os.getpid(),
        port=port,
        firestore_port=port + 1,
        data_dir=state.stack_data_dir(root, port),
        started_at=T0 + timedelta(minutes=minutes),
    )


def dead_pid():
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_each_port_but_the_default_has_a_data_folder_of_its_own(tmp_path):
    assert state.stack_data_dir(tmp_path, 8080) == tmp_path
    assert state.stack_data_dir(tmp_path, 9000) == tmp_path / "stacks" / "9000"


def test_commands_pick_the_default_port_then_the_newest_and_port_picks_any(tmp_path):
    for published in (stack(tmp_path, 9000), stack(tmp_path, 9100, minutes=5)):
        state.write(tmp_path, published)
    running = state.running(tmp_path)
    assert state.pick(running).port == 9100
    assert state.pick(running, 9000).port == 9000 and state.pick(running, 1) is None
    state.write(tmp_path, stack(tmp_path, 8080, minutes=1))
    assert state.pick(state.running(tmp_path)).port == 8080


def test_a_stack_that_is_gone_is_not_running_and_its_file_is_cleaned(tmp_path):
    state.write(tmp_path, stack(tmp_path, 9000, pid=dead_pid()))
    assert state.running(tmp_path) == []
    assert [s.port for s in state.clean_stale(tmp_path)] == [9000]
    assert list((tmp_path / "run").iterdir()) == []


def test_a_stack_removes_only_its_own_file(tmp_path):
    mine, newer = stack(tmp_path, 9000, pid=dead_pid()), stack(tmp_path, 9000)
    state.write(tmp_path, newer)
    state.remove(tmp_path, mine)
    assert state.running(tmp_path) == [newer]


def test_a_second_stack_may_not_share_the_data_folder_of_one_that_runs(tmp_path):
    running = stack(tmp_path, 9000)
    state.write(tmp_path, running)
    refused = _refusal(tmp_path, 9200, running.data_dir, None)
    assert refused is not None and "port 9000" in refused and "--data" in refused


def test_the_emulator_a_killed_stack_left_running_is_ended_with_its_file(tmp_path):
    # Stands in for gcloud's emulator: its own session, "firestore" on its command line.
    leftover = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", "firestore"], start_new_session=True
    )
    try:
        gone = stack(tmp_path, 9000, pid=dead_pid()).model_copy(update={"firestore_pid": leftover.pid})
        state.write(tmp_path, gone)
        state.clean_stale(tmp_path)
        assert leftover.wait(timeout=10) == -9
    finally:
        if leftover.poll() is None:
            leftover.kill()
            leftover.wait()
