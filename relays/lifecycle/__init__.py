"""From "what the page shows now" to "what changed": a pure function over the stored state.

:func:`observe` takes what the store knows (open alerts, recently closed ones, ids already
recorded, the source's health) and one observation (a snapshot, or the reason a poll failed) and
returns the new events and the new state. It does no I/O, so every rule that protects users is
unit-tested directly. The invariants:

* **Nothing is invented.** A message that names no téléservice never reaches clients: it becomes
  an ``UnattributedMessage`` for the admins and opens nothing. A bad poll (unreachable, empty,
  truncated, maintenance/captcha, unrecognisable, a feed that is not well-formed, or a page with
  no message at all while alerts are open) adds and closes nothing; after ``degraded_after`` of
  them in a row ``SourceDegraded`` goes to the admins once, ``SourceRecovered`` when one is good.
* **Nothing is doubled.** Ids are deterministic (an alert is its services, modes and publication;
  a bulletin is its alert and number), so re-polling, restarting or a page that reorders its items
  yields nothing new. An alert keeps its identity when its message is re-titled, re-dated, edited
  or loses its date: a later message on the same téléservices and modes while it is open (and not
  ended on the page) is that alert again. A stale copy of the page (older than the newest thing
  this source has shown) never re-opens an alert, and an old message that resembles a closed alert
  is that closed alert, not a new one.
* **Nothing is missed or left wrong.** An open alert that is requalified (red ↔ black, by its own
  message or by a bulletin) or whose téléservices or modes widen gives ``AlertUpdated``; later
  bulletins carry the new level. An alert closes on an explicit fin d'alerte published after it
  (a fin naming part of it closes that part); one that silently vanishes from healthy pages closes
  after ``close_after_absent`` polls, marked ``inferred``, unless the status table still shows it
  down; if it comes back it never ended, and is reopened.
* **History is not news.** On a source's first good poll, an alert already ended on the page more
  than a day before the page's newest date (past the 24 h reintegration window) is recorded closed
  and told to nobody, with its bulletins; a planned interruption whose window ended before the
  page's newest date is never announced. A relay started on a page listing thirty past incidents
  sends nothing; one started within a day of a fin still tells it (the deadline runs from it).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from ..events import AlertClosed, AlertEvent, AlertOpened, Event, SourceDegraded, SourceRecovered, stable_id
from ..snapshot import ItemKind, Snapshot
from .alerts import alerts as _alerts
from .bulletins import bulletins as _bulletins
from .ends import absences as _absences
from .ends import ends as _ends
from .ids import alert_id, bulletin_id, candidate_ids, interruption_id, unattributed_id
from .notices import interruptions as _interruptions
from .notices import unattributed as _unattributed
from .state import AlertState, Failure, Outcome, Prior, Rules, SourceState, Work

__all__ = [
    "AlertState",
    "Failure",
    "Outcome",
    "Prior",
    "Rules",
    "SourceState",
    "alert_id",
    "bulletin_id",
    "candidate_ids",
    "interruption_id",
    "observe",
    "unattributed_id",
]


def observe(
    prior: Prior, observation: Snapshot | Failure, *, location: str, now: datetime, rules: Rules = Rules()
) -> Outcome:
    """Diff one observation against the prior state. Pure: same inputs, same outcome."""
    if isinstance(observation, Failure):
        return _bad_poll(prior, observation.reason, location, now, rules)
    snapshot = observation
    message_items = [i for i in snapshot.items if i.kind is not ItemKind.INFORMATION]
    if prior.open_alerts and not message_items and not (snapshot.table_all_ok() or snapshot.all_clear):
        return _bad_poll(prior, "no recognisable item while alerts are open", location, now, rules)
    high_water = prior.source.high_water
    newest = (
        snapshot.newest if snapshot.newest is None or snapshot.newest <= now + timedelta(days=1) else None
    )
    work = Work(
        prior=prior,
        snapshot=snapshot,
        now=now,
        location=location,
        stale=newest is not None and high_water is not None and newest < high_water,
        newest=newest,
        open={a.id: a for a in prior.open_alerts},
    )
    source = _good_poll(prior.source, work)
    if newest is not None and (high_water is None or newest > high_water):
        source = replace(source, high_water=newest)
    _alerts(work)
    _bulletins(work)
    _ends(work)
    _absences(work, rules)
    _interruptions(work)
    _unattributed(work)
    if newest is not None and prior.source.last_ok_at is None and not prior.known_alerts:
        _history(work, newest - HISTORY)
    return Outcome(tuple(work.events), tuple(work.changed.values()), source)


#: how long after its fin an alert first seen already ended is still news (fiche 4: declarations made
#: under the fallback procedure are reintegrated within 24 hours of the fin d'alerte)
HISTORY = timedelta(hours=24)


def _history(work: Work, before: datetime) -> None:
    """First sight of a page: alerts that opened and ended on it, the fin older than ``before``, are
    kept (closed, so they are never told later) but their events are dropped."""
    opened = {e.alert_id for e in work.events if isinstance(e, AlertOpened)}
    ended: dict[str, datetime | None] = {}
    for event in work.events:
        if isinstance(event, AlertClosed) and event.alert_id in opened:
            ended[event.alert_id] = None if event.inferred else event.published_at
    past = {
        aid
        for aid, at in ended.items()
        if at is not None and at <= before and (state := work.changed.get(aid)) and state.status == "closed"
    }
    if past:
        work.events[:] = [e for e in work.events if not (isinstance(e, AlertEvent) and e.alert_id in past)]


def _bad_poll(prior: Prior, reason: str, location: str, now: datetime, rules: Rules) -> Outcome:
    source = prior.source
    bad_since = source.bad_since or now
    source = replace(
        source, consecutive_bad=source.consecutive_bad + 1, bad_since=bad_since, last_error=reason
    )
    events: list[Event] = []
    if source.consecutive_bad >= rules.degraded_after and not source.degraded:
        source = replace(source, degraded=True)
        events.append(
            SourceDegraded(
                id=f"S{stable_id(source.name)}:degraded:{bad_since.isoformat()}",
                source=location,
                detected_at=now,
                reason=reason,
                failures=source.consecutive_bad,
                since=bad_since,
            )
        )
    return Outcome(tuple(events), (), source)


def _good_poll(source: SourceState, work: Work) -> SourceState:
    if source.degraded and source.bad_since is not None:
        work.events.append(
            SourceRecovered(
                id=f"S{stable_id(source.name)}:recovered:{source.bad_since.isoformat()}",
                source=work.location,
                detected_at=work.now,
                since=source.bad_since,
            )
        )
    return replace(
        source, consecutive_bad=0, degraded=False, bad_since=None, last_error=None, last_ok_at=work.now
    )
