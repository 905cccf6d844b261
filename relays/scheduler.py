"""APScheduler wiring: the poll job.

The poll job never overlaps itself (``max_instances=1``) and a burst of missed runs (a laptop
waking up, a long GC pause) collapses into one (``coalesce=True``). Jitter spreads polls so a
fleet of relays does not hit the portal at the same second.

With ``due`` (the poller's :meth:`~relays.poller.Poller.until_due`), the pace is the poller's
own: after each run the job is moved to the moment the poller chose (30 s calm, 15 s active,
backed off, or what the server asked — see ``relays.cadence``) plus up to ``jitter`` seconds.
``interval`` is then a heartbeat: the job never waits longer than that, so the instance that
leads keeps renewing its leadership during a long back-off, and a standby (which does not poll:
nothing is due from it) checks every ``interval`` whether it must take over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

POLL_JOB = "poll"

log = logging.getLogger(__name__)


def build_scheduler() -> AsyncIOScheduler:
    return AsyncIOScheduler(
        timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30}
    )


def next_wait(due: float, interval: float, jitter: float, draw: float) -> float:
    """Seconds until the job runs again: when the poll is due (``due`` > 0), else the heartbeat,
    never more than the heartbeat; plus ``draw`` × ``jitter`` (``draw`` in [0, 1])."""
    return min(due, interval) + draw * jitter if due > 0 else interval + draw * jitter


def add_poll_job(
    scheduler: AsyncIOScheduler,
    job: Callable[[], Awaitable[Any]],
    *,
    interval: float,
    jitter: float = 0.0,
    first_run: datetime | None = None,
    due: Callable[[], float] | None = None,
) -> None:
    run: Callable[[], Awaitable[Any]] = job
    if due is not None:
        until_due = due

        async def paced() -> None:
            try:
                await job()
            finally:
                wait = next_wait(until_due(), interval, jitter, random.random())
                with contextlib.suppress(JobLookupError):  # the scheduler is shutting down
                    scheduler.modify_job(POLL_JOB, next_run_time=datetime.now(UTC) + timedelta(seconds=wait))

        run = paced

    async def stoppable() -> None:
        # ``run`` stops the scheduler without waiting (``shutdown(wait=False)``), which cancels a
        # poll in flight: an expected stop, not a job failure for APScheduler to log with a
        # traceback. What the poll had not stored is polled again at the next start.
        try:
            await run()
        except asyncio.CancelledError:
            log.info("poll interrupted by the shutdown")

    scheduler.add_job(
        stoppable,
        IntervalTrigger(seconds=interval, jitter=jitter or None),
        id=POLL_JOB,
        replace_existing=True,
        next_run_time=first_run or datetime.now(UTC),
    )
