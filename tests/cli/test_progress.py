"""Progress lines: the step and its time, without rich's log path."""

from __future__ import annotations

import re

import pytest

from klimakort.cli.progress import steps


def test_progress_lines_carry_step_times_but_no_source_path(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with steps("Testing") as say:
        say("first step")
        say("second step")
    err = capsys.readouterr().err
    assert "progress.py" not in err
    assert re.search(r"first step \(\d+\.\d s\)", err)
    assert re.search(r"second step \(\d+\.\d s\)", err)
    assert "Testing done in" in err


def test_steps_on_worker_threads_print_their_own_duration(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with steps("Parallel") as say, ThreadPoolExecutor(1) as pool:
        say("main step")
        pool.submit(say.run, "side step", lambda: None).result()
    err = capsys.readouterr().err
    assert re.search(r"side step \(\d+\.\d s, in parallel\)", err)
    assert re.search(r"main step \(\d+\.\d s\)", err)
    assert err.index("side step") < err.index("main step")  # printed when it finished
