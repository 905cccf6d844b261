"""APScheduler wiring: the poll job.

The poll job never overlaps itself (``max_instances=1``) and a burst of missed runs (a laptop
waking up, a long GC pause) collapses into one (``coalesce=True``). Jitter spreads polls so a
fleet of relays does not hit the portal at the same second.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

POLL_JOB = "poll"


def build_scheduler() -> AsyncIOScheduler:
    return AsyncIOScheduler(
        timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30}
    )


def add_poll_job(
    scheduler: AsyncIOScheduler,
    job: Callable[[], Awaitable[Any]],
    *,
    interval: float,
    jitter: float = 0.0,
    first_run: datetime | None = None,
) -> None:
    scheduler.add_job(
        job,
        IntervalTrigger(seconds=interval, jitter=jitter or None),
        id=POLL_JOB,
        replace_existing=True,
        next_run_time=first_run or datetime.now(UTC),
    )
