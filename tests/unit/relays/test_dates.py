"""French dates as the SAU writes them become the right UTC instants (Paris offsets included)."""

from datetime import UTC, datetime

import pytest

from relays.dates import parse_datetime, parse_published, parse_window


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Publié le 03/12/2026 à 10h32", utc(2026, 12, 3, 9, 32)),
        ("publié le 3 décembre 2026 à 10 h 32", utc(2026, 12, 3, 9, 32)),
        ("Bulletin d'information n°1 du 03/12/2026 à 11h30", utc(2026, 12, 3, 10, 30)),
        ("Mis à jour le 15/07/2026 à 10h00", utc(2026, 7, 15, 8, 0)),  # summer time: +02:00
        ("Publié le 26/10/2026 à 09h00", utc(2026, 10, 26, 8, 0)),  # the day after the change
        ("publiée le 1er août 2023 à 9h", utc(2023, 8, 1, 7, 0)),
    ],
)
def test_publication_lines_are_read_as_paris_time(text: str, expected: datetime) -> None:
    assert parse_published(text) == expected


def test_a_short_numeric_date_with_a_clock_time_is_read() -> None:
    assert parse_datetime("03/12/26 - 10:32 Alerte DELTA G") == utc(2026, 12, 3, 9, 32)


def test_text_without_a_date_gives_none() -> None:
    assert parse_published("Le CID constate un dysfonctionnement") is None
    assert parse_datetime("aucune date ici, 45/78 non plus") is None


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("prévue le mardi 8 décembre 2026 de 9h00 à 17h00.", utc(2026, 12, 8, 8), utc(2026, 12, 8, 16)),
        ("le mardi 8 août 2023 de 9h00 à 17h00", utc(2023, 8, 8, 7), utc(2023, 8, 8, 15)),
        (
            "du lundi 14 décembre 2026 à 20h00 au mardi 15 décembre 2026 à 6h00",
            utc(2026, 12, 14, 19),
            utc(2026, 12, 15, 5),
        ),
        ("le 8 décembre 2026 entre 22h et 2h", utc(2026, 12, 8, 21), utc(2026, 12, 9, 1)),
    ],
)
def test_planned_windows_are_read_with_both_ends(text: str, start: datetime, end: datetime) -> None:
    window = parse_window(text)
    assert window is not None
    assert (window.starts_at, window.ends_at) == (start, end)


def test_a_window_needs_times() -> None:
    assert parse_window("le 8 décembre 2026, toute la journée") is None
