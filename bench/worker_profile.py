"""The Celery app, counting what each pool process does, for bench/paging.py:
`celery -A bench.worker_profile worker ...` (run from the repository root).

Each pool process counts, per task name and outcome, the tasks it ran, their wall and CPU
seconds and their SQL statements (a few microseconds per task and statement); with
BENCH_CPROFILE=1 it also runs cProfile, timed in CPU seconds (on a shared machine wall
time mostly measures the neighbours), from its start. At exit (a warm shutdown) it writes
<PAGERLINE_VAR_DIR>/profile/<pid>.json and, profiled, <pid>.prof (pstats). cProfile slows
the worker down (about 1.5-2x), so a profiled run shows where the time goes, not how fast
the storm drains.
"""

from __future__ import annotations

import cProfile
import json
import os
import time
from collections import defaultdict
from pathlib import Path

from celery import signals

from config.celery import app

__all__ = ["app"]

_PROFILING = os.environ.get("BENCH_CPROFILE") == "1"
_profile = cProfile.Profile(time.process_time)
_queries = [0]
_started: dict[str, tuple[float, float, int]] = {}
# (task name, outcome) -> [tasks, wall seconds, queries, CPU seconds]
_tasks: dict[tuple[str, str], list] = defaultdict(lambda: [0, 0.0, 0, 0.0])


def _count(execute, sql, params, many, context):
    _queries[0] += 1
    return execute(sql, params, many, context)


@signals.worker_process_init.connect
def _start(**_) -> None:
    from django.db import connection

    connection.execute_wrappers.append(_count)
    if _PROFILING:
        _profile.enable()


@signals.task_prerun.connect
def _before(task_id=None, **_) -> None:
    _started[task_id] = (time.perf_counter(), time.process_time(), _queries[0])


@signals.task_postrun.connect
def _after(task_id=None, task=None, retval=None, **_) -> None:
    now = (time.perf_counter(), time.process_time(), _queries[0])
    began, cpu, queries = _started.pop(task_id, now)
    outcome = retval if isinstance(retval, str) else type(retval).__name__
    row = _tasks[(task.name, outcome)]
    row[0] += 1
    row[1] += now[0] - began
    row[2] += now[2] - queries
    row[3] += now[1] - cpu


@signals.worker_process_shutdown.connect
def _dump(**_) -> None:
    folder = Path(os.environ.get("PAGERLINE_VAR_DIR", ".")) / "profile"
    folder.mkdir(parents=True, exist_ok=True)
    if _PROFILING:
        _profile.disable()
        _profile.dump_stats(folder / f"{os.getpid()}.prof")
    rows = [[name, outcome, *values] for (name, outcome), values in sorted(_tasks.items())]
    (folder / f"{os.getpid()}.json").write_text(json.dumps(rows))
