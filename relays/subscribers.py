"""Who is told what: subscribers, their filters, and the rule that matches them to events.

A subscriber is one address on one channel (a Telegram chat, a Slack channel, an Apprise URL for
email/Teams/webhooks, or the console) for one client, with a language and optional filters:
téléservices, modes (EDI/DTI) and event kinds — a team that only wants the end-of-alert ping
subscribes with ``kinds=["alert_closed"]``. No filter means everything. Admin events (the source
is broken, a subscriber was deactivated) go to subscribers whose role is ``admin`` and never to
clients.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import parse_qsl, unquote, urlsplit

from sqlalchemy import select
from sqlalchemy import update as sql_update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from knowledge.services import canonical, order

from .errors import SubscriberError
from .events import ADMIN_KINDS, CLIENT_KINDS, Event
from .logs import register_secrets
from .outbox import DeliveryStatus
from .snapshot import MODES
from .store import DeliveryRow, Store, SubscriberRow
from .webhook_secrets import issue_new as issue_secrets

T = TypeVar("T")

CHANNELS: tuple[str, ...] = ("telegram", "slack", "apprise", "console", "webhook")
LANGS: tuple[str, ...] = ("fr", "en")
ROLES: tuple[str, ...] = ("client", "admin")


@dataclass(frozen=True, slots=True)
class Subscriber:
    id: int
    channel: str
    address: str
    client: str
    eori: str | None = None
    lang: str = "fr"
    services: tuple[str, ...] = ()
    modes: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    role: str = "client"
    active: bool = True
    paused: bool = False
    profile: dict[str, Any] = field(default_factory=dict)
    deactivated_reason: str | None = None

    def wants(self, event: Event) -> bool:
        """Whether this subscriber must be told of ``event`` (filters, role, active, paused)."""
        if not self.active or self.paused:
            return False
        if event.kind in ADMIN_KINDS:
            return self.role == "admin"
        # whoever wants the alerts wants to know when one is requalified or widened, and whoever
        # wants the planned interruptions, when one is withdrawn
        follows = (event.kind == "alert_updated" and "alert_opened" in self.kinds) or (
            event.kind == "interruption_cancelled" and "interruption_planned" in self.kinds
        )
        if self.kinds and event.kind not in self.kinds and not follows:
            return False
        services = getattr(event, "services", ()) or ()
        if self.services and services and not set(self.services) & set(services):
            return False
        modes = getattr(event, "modes", ()) or ()
        return not (self.modes and modes and not set(self.modes) & set(modes))

    @property
    def shown_address(self) -> str:
        return mask_address(self.channel, self.address)


_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


def _plain_host(host: str) -> bool:
    """Whether ``host`` reads as a server's name or address (safe to show), not a token or a topic
    that Apprise puts where a host would be (``tgram://BOTTOKEN/…``, ``ntfy://TOPIC``)."""
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    labels = host.split(".")
    return (
        host == "localhost"
        or len(labels) >= 2
        and all(_HOST_LABEL.fullmatch(label) for label in labels)
        and labels[-1].isalpha()
        and 2 <= len(labels[-1]) <= 24
    )


def _parts(address: str) -> tuple[str, str, str, bool]:
    """(scheme, the server part as typed — host and port —, its host, whether anything else is
    there: credentials, a path, a query) of an Apprise URL, whatever its form."""
    scheme, sep, rest = address.partition("://")
    if not sep:
        return "", "", "", bool(address)
    netloc, tail = re.match(r"([^/?#]*)(.*)", rest, re.DOTALL).groups()  # type: ignore[union-attr]
    credentials, at, server = netloc.rpartition("@")
    host = server[1 : server.find("]")] if server.startswith("[") else server.split(":", 1)[0]
    return scheme, server, host, bool(at or tail.strip("/"))


def mask_address(channel: str, address: str) -> str:
    """An address fit for people and logs. Chat and channel ids are shown as they are; a URL (an
    Apprise URL, a signed webhook's) only by its scheme and server — ``json://hooks.example.org/…``
    — never its credentials, path, query (tokens, ``?+X-Api-Key=…`` headers) or a topic or token in
    the server's place (``ntfy://…``, ``tgram://…``). Tables show the subscriber's id beside it,
    which tells them apart."""
    if channel == "webhook":  # its path, query and user info may be credentials too
        from .channels.webhook_address import masked_url

        return masked_url(address)
    if channel != "apprise":
        return address
    scheme, _, host, more = _parts(address)
    if not scheme:
        return "***"
    if not _plain_host(host):
        return f"{scheme}://…"
    return f"{scheme}://{host}" + ("/…" if more else "")


def address_secrets(channel: str, address: str) -> list[str]:
    """The parts of an address that are secret (for the logs' redaction, ``relays.logs``): for an
    Apprise or webhook URL, the URL itself, its credentials, the server part when it is not a server's name,
    its path segments but plain words, its query values and fragment; nothing for a chat id."""
    if channel not in ("apprise", "webhook"):
        return []
    found = [address]
    scheme, server, host, _ = _parts(address)
    if not scheme:
        return found
    if not _plain_host(host):
        found += [server, *re.split(r"[:@]", server)]
    try:
        parts = urlsplit(address)
    except ValueError:
        return found
    found += [unquote(v) for v in (parts.username, parts.password) if v]
    for segment in parts.path.split("/"):
        segment = unquote(segment)
        if len(segment) >= 16 or (len(segment) >= 6 and not segment.isalpha()) or segment != segment.lower():
            found.append(segment)
    found += [v for _, v in parse_qsl(parts.query)]
    if parts.fragment:
        found.append(parts.fragment)
    return [value for value in found if value]


def from_row(row: SubscriberRow) -> Subscriber:
    return Subscriber(
        id=row.id,
        channel=row.channel,
        address=row.address,
        client=row.client,
        eori=row.eori,
        lang=row.lang,
        services=tuple(row.services or ()),
        modes=tuple(row.modes or ()),
        kinds=tuple(row.kinds or ()),
        role=row.role,
        active=row.active,
        paused=row.paused,
        profile=dict(row.profile or {}),
        deactivated_reason=row.deactivated_reason,
    )


def normalise_services(names: Sequence[str]) -> tuple[str, ...]:
    out: list[str] = []
    for name in names:
        found = canonical(name)
        if found is None:
            from knowledge.services import find_services

            many = find_services(name)
            if not many:
                raise SubscriberError(
                    f"unknown téléservice {name!r} (e.g. 'DELTA G', 'ICS2', 'GAMMA')",
                    reason="unknown_service",
                )
            out.extend(many)
        else:
            out.append(found)
    return tuple(order(out))


def normalise_modes(modes: Sequence[str]) -> tuple[str, ...]:
    upper = [m.strip().upper() for m in modes]
    for mode in upper:
        if mode not in MODES:
            raise SubscriberError(f"unknown mode {mode!r} (EDI or DTI)", reason="unknown_mode")
    return tuple(m for m in MODES if m in upper)


def normalise_kinds(kinds: Sequence[str]) -> tuple[str, ...]:
    allowed = CLIENT_KINDS + ADMIN_KINDS
    for kind in kinds:
        if kind not in allowed:
            raise SubscriberError(
                f"unknown event kind {kind!r} (one of {', '.join(allowed)})", reason="unknown_kind"
            )
    return tuple(k for k in allowed if k in kinds)


def check_address(channel: str, address: str) -> str:
    address = address.strip()
    if channel not in CHANNELS:
        raise SubscriberError(
            f"unknown channel {channel!r} (one of {', '.join(CHANNELS)})", reason="unknown_channel"
        )
    if not address:
        raise SubscriberError("the address is empty", reason="empty_address")
    # a URL given for a chat id (a column shifted in a CSV file) may hold a password: shown masked
    said = mask_address("apprise", address) if "://" in address else address
    if channel == "telegram" and not re.fullmatch(r"-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{3,}", address):
        raise SubscriberError(
            f"{said!r} is not a Telegram chat id (e.g. 123456789, -1001234567890, @channel)",
            reason="bad_address",
        )
    if channel == "slack" and not re.fullmatch(r"[CGDU][A-Z0-9]{6,}", address):
        raise SubscriberError(
            f"{said!r} is not a Slack channel or user id (e.g. C0123ABCD)", reason="bad_address"
        )
    if channel == "apprise":
        import apprise

        quiet = logging.getLogger("apprise")
        previous, quiet.disabled = quiet.disabled, True  # its own "Unparseable URL" log says less than ours
        try:
            usable = apprise.Apprise.instantiate(address) is not None
        finally:
            quiet.disabled = previous
        if not usable:
            raise SubscriberError(
                f"Apprise cannot use {mask_address(channel, address)!r} "
                "(see https://github.com/caronc/apprise/wiki for URL forms)",
                reason="bad_address",
            )
    if channel == "webhook":
        from .channels.webhook_address import url_problem

        problem = url_problem(address)
        if problem:
            raise SubscriberError(problem, reason="bad_address")
    return address


@dataclass(frozen=True, slots=True)
class NewSubscriber:
    """A subscriber to create, every value checked: build it with :func:`new`."""

    channel: str
    address: str
    client: str
    eori: str | None = None
    lang: str = "fr"
    services: tuple[str, ...] = ()
    modes: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    role: str = "client"
    profile: dict[str, Any] = field(default_factory=dict)


def new(
    *,
    channel: str,
    address: str,
    client: str,
    eori: str | None = None,
    lang: str = "fr",
    services: Sequence[str] = (),
    modes: Sequence[str] = (),
    kinds: Sequence[str] = (),
    role: str = "client",
    profile: dict[str, Any] | None = None,
) -> NewSubscriber:
    """Check and normalise what a new subscriber is made of (nothing is written); the first
    problem found is raised (:func:`checked` finds them all)."""
    spec, problems = checked(
        channel=channel,
        address=address,
        client=client,
        eori=eori,
        lang=lang,
        services=services,
        modes=modes,
        kinds=kinds,
        role=role,
        profile=profile,
    )
    if spec is None:
        raise problems[0]
    return spec


def checked(
    *,
    channel: str,
    address: str,
    client: str,
    eori: str | None = None,
    lang: str = "fr",
    services: Sequence[str] = (),
    modes: Sequence[str] = (),
    kinds: Sequence[str] = (),
    role: str = "client",
    profile: dict[str, Any] | None = None,
) -> tuple[NewSubscriber | None, list[SubscriberError]]:
    """Every value checked on its own: the new subscriber, or every problem found (a CSV import
    reports them all at once)."""
    problems: list[SubscriberError] = []

    def attempt(check: Callable[[], T], default: T) -> T:
        try:
            return check()
        except SubscriberError as exc:
            problems.append(exc)
            return default

    address = attempt(lambda: check_address(channel, address), address)
    if not client.strip():
        problems.append(SubscriberError("the client name is empty", reason="empty_client"))
    if lang not in LANGS:
        problems.append(SubscriberError(f"unknown language {lang!r} (fr or en)", reason="unknown_language"))
    if role not in ROLES:
        problems.append(SubscriberError(f"unknown role {role!r} (client or admin)", reason="unknown_role"))
    none: tuple[str, ...] = ()
    found_services = attempt(lambda: normalise_services(services), none)
    found_modes = attempt(lambda: normalise_modes(modes), none)
    found_kinds = attempt(lambda: normalise_kinds(kinds), none)
    if problems:
        return None, problems
    spec = NewSubscriber(
        channel=channel,
        address=address,
        client=client.strip(),
        eori=eori or None,
        lang=lang,
        services=found_services,
        modes=found_modes,
        kinds=found_kinds,
        role=role,
        profile=dict(profile or {}),
    )
    return spec, []


def insert(session: Session, spec: NewSubscriber, *, now: datetime) -> Subscriber:
    """Write a new subscriber in ``session``; a second subscription of the same address is refused."""
    return insert_many(session, [spec], now=now)[0]


def insert_many(session: Session, specs: Sequence[NewSubscriber], *, now: datetime) -> list[Subscriber]:
    """Write new subscribers in ``session`` at once (one flush: a CSV import); an address already
    subscribed is refused, and nothing of the batch is kept then (the caller's transaction)."""
    rows = [
        SubscriberRow(
            channel=spec.channel,
            address=spec.address,
            client=spec.client,
            eori=spec.eori,
            lang=spec.lang,
            services=list(spec.services),
            modes=list(spec.modes),
            kinds=list(spec.kinds),
            role=spec.role,
            active=True,
            paused=False,
            profile=dict(spec.profile),
            created_at=now,
        )
        for spec in specs
    ]
    register_secrets([secret for spec in specs for secret in address_secrets(spec.channel, spec.address)])
    session.add_all(rows)
    try:
        session.flush()
    except IntegrityError as exc:
        shown = (
            f"{specs[0].channel} {mask_address(specs[0].channel, specs[0].address)} is"
            if len(specs) == 1
            else "one of these addresses is"
        )
        raise SubscriberError(f"{shown} already subscribed", reason="already_subscribed") from exc
    hooks = [row.id for row in rows if row.channel == "webhook"]
    if hooks:  # each signs every post; shown once by the command that created it
        issue_secrets(session, hooks, now=now)
    return [from_row(row) for row in rows]


def add(
    store: Store,
    *,
    channel: str,
    address: str,
    client: str,
    eori: str | None = None,
    lang: str = "fr",
    services: Sequence[str] = (),
    modes: Sequence[str] = (),
    kinds: Sequence[str] = (),
    role: str = "client",
    profile: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Subscriber:
    """Create a subscriber, owed nothing yet (a newcomer mid-outage is enrolled: ``relays.enrolment``)."""
    spec = new(
        channel=channel,
        address=address,
        client=client,
        eori=eori,
        lang=lang,
        services=services,
        modes=modes,
        kinds=kinds,
        role=role,
        profile=profile,
    )
    with store.transaction() as session:
        return insert(session, spec, now=now or datetime.now(UTC))


def all_subscribers(store: Store, *, include_inactive: bool = True) -> list[Subscriber]:
    with store.sessions() as session:
        query = select(SubscriberRow).order_by(SubscriberRow.id)
        if not include_inactive:
            query = query.where(SubscriberRow.active.is_(True))
        return [from_row(r) for r in session.scalars(query)]


def find(store: Store, key: str) -> Subscriber | None:
    """A subscriber by id, or by address (any channel)."""
    with store.sessions() as session:
        row = session.get(SubscriberRow, int(key)) if key.isdigit() else None
        if row is None:
            row = session.scalars(select(SubscriberRow).where(SubscriberRow.address == key)).first()
        return from_row(row) if row else None


def find_by_address(store: Store, channel: str, address: str) -> Subscriber | None:
    with store.sessions() as session:
        row = session.scalars(
            select(SubscriberRow).where(SubscriberRow.channel == channel, SubscriberRow.address == address)
        ).first()
        return from_row(row) if row else None


def update(store: Store, subscriber_id: int, **changes: Any) -> Subscriber:
    """Change filters, language, pause or activity; values are validated like :func:`add`."""
    with store.transaction() as session:
        row = session.get(SubscriberRow, subscriber_id)
        if row is None:
            raise SubscriberError(f"no subscriber {subscriber_id}", reason="unknown_subscriber")
        for name, value in changes.items():
            if name == "services":
                value = list(normalise_services(value))
            elif name == "modes":
                value = list(normalise_modes(value))
            elif name == "kinds":
                value = list(normalise_kinds(value))
            elif name == "lang" and value not in LANGS:
                raise SubscriberError(f"unknown language {value!r} (fr or en)", reason="unknown_language")
            elif name not in {"active", "paused", "profile", "eori", "client", "deactivated_reason", "lang"}:
                raise SubscriberError(f"cannot change {name}", reason="not_changeable")
            setattr(row, name, value)
        if changes.get("active") is True:
            row.deactivated_reason = None
            row.deactivated_at = None
        session.flush()
        return from_row(row)


def deactivate(store: Store, channel: str, address: str, reason: str) -> Subscriber | None:
    """The chat at ``channel``/``address`` removed us (left, kicked, blocked): stop writing to it.

    Returns the subscriber deactivated now, or None when there was no active one.
    """
    with store.transaction() as session:
        row = session.scalars(
            select(SubscriberRow).where(SubscriberRow.channel == channel, SubscriberRow.address == address)
        ).first()
        if row is None or not row.active:
            return None
        row.active, row.deactivated_reason, row.deactivated_at = False, reason, datetime.now(UTC)
        session.flush()
        return from_row(row)


def remove(store: Store, subscriber_id: int) -> bool:
    """Deactivate for good (rows stay for the audit trail); False when there is no such subscriber."""
    with store.transaction() as session:
        row = session.get(SubscriberRow, subscriber_id)
        if row is None:
            return False
        row.active = False
        row.deactivated_reason = "removed by an administrator"
        row.deactivated_at = datetime.now(UTC)
        session.execute(
            sql_update(DeliveryRow)
            .where(DeliveryRow.subscriber_id == subscriber_id, DeliveryRow.status == DeliveryStatus.PENDING)
            .values(status=DeliveryStatus.SKIPPED, last_error="subscriber removed")
        )
        return True

