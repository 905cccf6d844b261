"""The parser reads the météo page by meaning, and refuses pages that cannot be trusted."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relays.meteo import PageError, classify, find_modes, parse_page
from relays.snapshot import ItemKind, ServiceState

SAMPLES = Path(__file__).resolve().parents[3] / "relays" / "samples" / "scenario"


def page(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def test_calm_page_has_the_planned_interruption_and_a_green_table() -> None:
    snap = parse_page(page("01-calme.html"), location="01")
    (item,) = snap.items
    assert item.kind is ItemKind.PLANNED
    assert item.services == ("DELTA G", "DELTA X Import", "DELTA X Export", "DELTA T", "ICS2")
    assert item.modes == ("EDI", "DTI")
    assert item.starts_at == datetime(2026, 12, 8, 8, tzinfo=UTC)
    assert item.ends_at == datetime(2026, 12, 8, 16, tzinfo=UTC)
    assert snap.table_all_ok()
    assert snap.state_of("GAMMA", "DTI") is ServiceState.OK


def test_alert_with_nested_bulletins_links_each_bulletin_to_its_alert() -> None:
    snap = parse_page(page("04-bip-2-et-ics2.html"))
    kinds = [(i.kind, i.services, i.number) for i in snap.items]
    assert kinds == [
        (ItemKind.ALERT, ("ICS2",), None),
        (ItemKind.ALERT, ("DELTA G",), None),
        (ItemKind.BULLETIN, ("DELTA G",), 1),
        (ItemKind.BULLETIN, ("DELTA G",), 2),
        (ItemKind.PLANNED, ("DELTA G", "DELTA X Import", "DELTA X Export", "DELTA T", "ICS2"), None),
    ]
    assert snap.items[2].parent == 1 and snap.items[3].parent == 1
    # The level is what the message says; the table's (red for DELTA G) is the lifecycle's fallback.
    assert snap.items[0].level == "black" and snap.items[1].level is None
    assert snap.state_of("DELTA G", "EDI") is ServiceState.ALERT
    assert snap.items[1].text.startswith("Le CID constate")  # the "Publié le" line is metadata
    assert snap.state_of("ICS2", "EDI") is ServiceState.DOWN


def test_a_cosmetic_redesign_is_read_the_same() -> None:
    html = """<html><body><div class="x1"><h5>Les messages</h5>
    <div class="card"><strong>Alerte rouge – Delta-X import / EDI</strong>
    <span>publié le 3 décembre 2026 à 10 h 32</span><div>Les déclarations ne passent plus.</div></div>
    <div class="card"><strong>BIP n° 4 – DeltaX Import</strong><span>du 03/12/2026 à 12h00</span>
    <div>Investigations en cours.</div></div></div></body></html>"""
    snap = parse_page(html)
    alert, bip = snap.items
    assert (alert.kind, alert.services, alert.modes, alert.level) == (
        ItemKind.ALERT,
        ("DELTA X Import",),
        ("EDI",),
        "red",
    )
    assert alert.published_at == datetime(2026, 12, 3, 9, 32, tzinfo=UTC)
    assert (bip.kind, bip.number, bip.parent, bip.published_at) == (
        ItemKind.BULLETIN,
        4,
        0,
        datetime(2026, 12, 3, 11, 0, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("title", "kind"),
    [
        ("FIN D'ALERTE - DELTA G - EDI", ItemKind.END),
        ("Fin de l’alerte ICS2", ItemKind.END),
        ("Bulletin d'information périodique n° 2 relatif à l'alerte DELTA X Import", ItemKind.BULLETIN),
        ("BIP n°3 – DELTA T", ItemKind.BULLETIN),
        ("Interruption programmée des services en ligne", ItemKind.PLANNED),
        ("ALERTE NOIRE - ICS2 - EDI et DTI", ItemKind.ALERT),
        ("Incident sur GAMMA", ItemKind.ALERT),
        ("Nouvelle version de la documentation", ItemKind.INFORMATION),
    ],
)
def test_messages_are_classified_by_their_words(title: str, kind: ItemKind) -> None:
    assert classify(title) is kind


def test_an_interruption_notice_mentioning_the_end_of_alert_is_not_an_end() -> None:
    body = (
        "Une opération de maintenance est prévue le 8 décembre 2026 de 9h00 à 17h00. "
        "Jusqu'au message de fin d'alerte, passez en procédure de secours."
    )
    assert classify("Information", body) is ItemKind.PLANNED


@pytest.mark.parametrize(
    ("text", "modes"),
    [
        ("EDI et DTI", ("EDI", "DTI")),
        ("en EDI comme en DTI", ("EDI", "DTI")),
        ("mode EDI", ("EDI",)),
        ("DTI", ("DTI",)),
        ("rien", ()),
    ],
)
def test_modes(text: str, modes: tuple[str, ...]) -> None:
    assert find_modes(text) == modes


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty"),
        (b"   \n ", "empty"),
        (page("02-alerte-delta-g.html")[:1800], "truncated"),
        (b"<html><body><h1>Site en maintenance</h1><p>Revenez plus tard.</p></body></html>", "maintenance"),
        (b"<html><body><p>Please complete the CAPTCHA to continue</p></body></html>", "captcha"),
        (b"<html><body><h1>Accueil</h1><p>Bienvenue sur le portail.</p></body></html>", "unrecognised"),
    ],
)
def test_untrustworthy_pages_raise_a_page_error_with_a_reason(body: bytes, reason: str) -> None:
    with pytest.raises(PageError) as info:
        parse_page(body)
    assert info.value.reason == reason


def test_a_windows_1252_page_is_decoded_from_its_meta_charset() -> None:
    html = (
        '<html><head><meta charset="windows-1252"></head><body><h3>Alerte - Delta G - EDI</h3>'
        "<p>Publié le 03/12/2026 à 10h32</p><p>Déclarations bloquées.</p></body></html>"
    ).encode("cp1252")
    (item,) = parse_page(html).items
    assert item.text == "Déclarations bloquées."
    assert item.published_at == datetime(2026, 12, 3, 9, 32, tzinfo=UTC)


def test_an_rss_feed_of_the_messages_is_read_like_the_page() -> None:
    feed = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Meteo</title>
    <item><title>ALERTE - DELTA G - EDI</title><pubDate>Thu, 03 Dec 2026 09:32:00 GMT</pubDate>
    <description>Dysfonctionnement de DELTA G en EDI.</description></item>
    <item><title>BIP n°1 - DELTA G</title><description>Publié le 03/12/2026 à 11h30. Suite.</description></item>
    </channel></rss>""".encode()
    alert, bip = parse_page(feed).items
    assert alert.kind is ItemKind.ALERT and alert.published_at == datetime(2026, 12, 3, 9, 32, tzinfo=UTC)
    assert bip.kind is ItemKind.BULLETIN and bip.number == 1 and bip.parent == 0


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4000))
def test_any_bytes_give_a_snapshot_or_a_clean_page_error(body: bytes) -> None:
    try:
        parse_page(body)
    except PageError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400), st.sampled_from(["h3", "h4", "strong", "p", "td", "div"]))
def test_arbitrary_text_inside_a_real_page_never_crashes_the_parser(text: str, tag: str) -> None:
    html = (
        page("03-bip-1.html").decode("utf-8").replace("Messages</h2>", f"Messages</h2><{tag}>{text}</{tag}>")
    )
    try:
        parse_page(html)
    except PageError:
        pass


def _messages(body: str, charset: str = "utf-8") -> bytes:
    return (
        f'<html><head><meta charset="utf-8"><title>Météo</title></head><body><main><h1>Météo</h1>{body}'
        "</main></body></html>"
    ).encode(charset)


def test_windows_1252_bytes_served_as_utf8_are_read_as_french() -> None:
    body = "<article><h3>FIN D’ALERTE – DELTA IE – EDI</h3><p>Publié le 04/02/2027 à 16h45</p><p>Rétabli.</p></article>"
    (item,) = [i for i in parse_page(_messages(body, "windows-1252")).items if i.services]
    assert item.kind is ItemKind.END and item.title == "FIN D’ALERTE – DELTA IE – EDI"


def test_a_level_pictogram_beside_the_title_column_gives_the_level() -> None:
    text = "Le SAU constate un dysfonctionnement de DELTA T en mode EDI : les messages ne sont pas intégrés. " * 2
    body = (
        '<div class="row"><div class="col-2"><img alt="Alerte noire" src="orage-noir.svg"></div>'
        f'<div class="col-10"><h3>ALERTE – DELTA T – EDI</h3><p>Publié le 16/06/2026 à 11h20</p><p>{text}</p></div></div>'
    )
    (item,) = [i for i in parse_page(_messages(body)).items if i.services]
    assert item.kind is ItemKind.ALERT and item.level == "black"


def test_a_report_listing_several_alerts_is_not_an_alert() -> None:
    rows = "".join(
        f'<tr><td>{d}/10/2026</td><td>{s}</td><td><p class="fr-badge">{lvl}</p></td></tr>'
        for d, s, lvl in [(3, "DELTA G", "Alerte rouge"), (9, "ICS2", "Alerte noire"), (21, "ECS", "Alerte rouge")]
    )
    body = f"<h2>Bilan de disponibilité – octobre 2026</h2><p>Publié le 02/11/2026 à 9h30</p><table>{rows}</table>"
    items = parse_page(_messages(body)).items
    assert all(i.kind is ItemKind.INFORMATION for i in items), [(i.kind, i.title) for i in items]


def test_model_messages_shown_as_examples_are_not_messages() -> None:
    body = (
        "<h2>Comment lire les messages du SAU</h2>"
        '<div class="callout"><p class="title">ALERTE ROUGE – DELTA G – EDI</p><p>Publié le 12/02/2027 à 09h30</p>'
        "<p>Exemple : « Le SAU informe les opérateurs d'un dysfonctionnement de DELTA G en mode EDI. »</p></div>"
    )
    assert all(i.kind is ItemKind.INFORMATION for i in parse_page(_messages(body)).items)


def test_the_text_of_a_message_opened_in_a_modal_belongs_to_its_entry() -> None:
    body = (
        '<ul><li><h3>BIP n°1 – ICS2 – EDI</h3><p>Publié le 19/01/2027 à 10h20</p>'
        '<button aria-controls="m1">Lire le message</button></li>'
        '<li><h3>ALERTE ROUGE – ICS2 – EDI</h3><p>Publié le 19/01/2027 à 08h50</p></li></ul>'
        '<dialog id="m1" class="fr-modal"><h1>BIP n°1 – ICS2 – EDI</h1>'
        "<p>L'alerte rouge est requalifiée en alerte noire.</p></dialog>"
    )
    items = parse_page(_messages(body)).items
    (bip,) = [i for i in items if i.kind is ItemKind.BULLETIN]
    assert bip.level == "black" and bip.published_at == datetime(2027, 1, 19, 9, 20, tzinfo=UTC)


def test_a_badge_naming_the_bulletin_number_makes_the_message_a_bulletin() -> None:
    body = (
        '<div class="message"><div class="row"><h3>DELTA H7 – EDI</h3><p class="fr-badge">BIP n°1</p></div>'
        '<p><time datetime="2026-07-03T13:15:00+02:00">3 juil. 2026 à 13:15</time></p>'
        "<p>La base de données est en cours de restauration.</p></div>"
    )
    (item,) = [i for i in parse_page(_messages(body)).items if i.services]
    assert item.kind is ItemKind.BULLETIN and item.number == 1
