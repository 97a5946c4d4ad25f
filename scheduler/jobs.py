"""APScheduler wiring: jobs rebuilt from config at every start, with deterministic ids, replaced
rather than duplicated. Only the replica holding the leader lease runs them; the jobs only
nudge, and what is due is decided from the database, so a late start or a restart (or a new
leader after a failover) catches up by itself."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from core.context import Services
from core.privacy import retention
from core.store import leases
from scheduler import checkins, digests, lead_report
from signposting import referrals

log = logging.getLogger(__name__)

TICK_JOB_ID = "checkins-tick"
DIGESTS_JOB_ID = "digests-catch-up"
DIGESTS_EVERY_SECONDS = 15 * 60
LEAD_REPORT_JOB_ID = "lead-report-monthly"
LEAD_REPORT_EVERY_SECONDS = 15 * 60
"""Counts each closed cycle's delivery soon after it closes, and sends the monthly card once."""
COORDINATOR_REMINDER_JOB_ID = "coordinator-backup-reminder"
COORDINATOR_REMINDER_EVERY_SECONDS = 5 * 60
"""Tells backup coordinators about requests nobody picked up (each request once)."""
RETENTION_JOB_ID = "retention-nightly"
RETENTION_EVERY_SECONDS = 60 * 60
"""Hourly; core.privacy.retention.nightly does its work only in the organisation's 02:00 hour."""
LEASE_TICKS = 3
"""The leader lease lasts three ticks: a dead leader is replaced within 3 ticks + 1 tick."""

Job = Callable[[Services], Awaitable[None]]


async def checkins_tick(services: Services) -> None:
    """Open, remind and close check-in cycles as the clock says; tell leads about delivery."""
    await checkins.tick(services, services.clock())


async def digests_catch_up(services: Services) -> None:
    """Freeze and send any closed cycle that missed it (a crash right after closing)."""
    await digests.catch_up(services, services.clock())


async def lead_report_monthly(services: Services) -> None:
    """Keep delivery counts for the report, and send the wellbeing leads' monthly card."""
    await lead_report.monthly(services, services.clock())


async def remind_backup_coordinators(services: Services) -> None:
    """Tell the backup coordinators about requests nobody has picked up in time."""
    await referrals.remind_unpicked_requests(services, services.clock())


async def is_leader(services: Services, holder: str, ttl: timedelta) -> bool:
    """Take or renew the leader lease; only the holder runs scheduled work."""
    async with services.sessions() as session:
        return await leases.acquire(session, leases.LEADER, holder, services.clock(), ttl)


def leader_only(
    job_id: str, job: Job, holder: str, ttl: timedelta
) -> Callable[[Services], Awaitable[None]]:
    """Run `job` only on the leader; a failure is logged by kind and retried next time."""

    async def run(services: Services) -> None:
        try:
            if await is_leader(services, holder, ttl):
                await job(services)
        # The database may be away, or a send fail; the next run tries again. Kind only, no data.
        except Exception as error:
            log.warning("scheduled job %s failed: %s", job_id, type(error).__name__)

    return run


def build_scheduler(
    services: Services,
    tick_seconds: float,
    holder: str,
    extra: dict[str, tuple[Job, float]] | None = None,
) -> AsyncIOScheduler:
    """The scheduler with every job; `extra` adds interval jobs by id (seconds between runs)."""
    scheduler = AsyncIOScheduler(
        timezone="UTC",
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
    )
    ttl = timedelta(seconds=tick_seconds * LEASE_TICKS)
    jobs: dict[str, tuple[Job, float]] = {
        TICK_JOB_ID: (checkins_tick, tick_seconds),
        DIGESTS_JOB_ID: (digests_catch_up, DIGESTS_EVERY_SECONDS),
        LEAD_REPORT_JOB_ID: (lead_report_monthly, LEAD_REPORT_EVERY_SECONDS),
        COORDINATOR_REMINDER_JOB_ID: (
            remind_backup_coordinators,
            COORDINATOR_REMINDER_EVERY_SECONDS,
        ),
        RETENTION_JOB_ID: (retention.nightly, RETENTION_EVERY_SECONDS),
        **(extra or {}),
    }
    for job_id, (function, seconds) in jobs.items():
        scheduler.add_job(
            leader_only(job_id, function, holder, ttl),
            IntervalTrigger(seconds=seconds),
            args=[services],
            id=job_id,
            replace_existing=True,
            next_run_time=datetime.now(UTC),
        )
    return scheduler
