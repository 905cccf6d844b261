"""Messages say what fiche 9 requires, in the subscriber's language, with scraped text escaped."""

from datetime import UTC, datetime

import pytest

from relays.events import (
    AlertClosed,
    AlertOpened,
    AlertUpdated,
    BulletinPublished,
    InterruptionPlanned,
    SourceDegraded,
    UnattributedMessage,
)
from relays.render import render, split_text

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
HOSTILE = "Panne <b>grave</b> & <script>x()</script> <!channel> <https://evil|clic>"


def opened(**kw: object) -> AlertOpened:
    base: dict[str, object] = dict(
        id="A1:opened",
        source="s",
        detected_at=NOW,
        alert_id="A1",
        services=("DELTA G",),
        modes=("EDI",),
        level="red",
        title="ALERTE - DELTA G - EDI",
        text=HOSTILE,
        published_at=datetime(2026, 12, 3, 9, 32, tzinfo=UTC),
    )
    base.update(kw)
    return AlertOpened(**base)  # type: ignore[arg-type]


def test_telegram_html_escapes_everything_scraped() -> None:
    text = render(opened(), "notify", lang="fr", fmt="html")
    assert "&lt;b&gt;grave&lt;/b&gt; &amp; &lt;script&gt;x()&lt;/script&gt;" in text
    assert "<script>" not in text and text.startswith("🔴 <b>ALERTE ROUGE — DELTA G (EDI)</b>")


def test_slack_mrkdwn_defuses_mentions_and_links() -> None:
    text = render(opened(), "notify", lang="fr", fmt="mrkdwn")
    assert "&lt;!channel&gt;" in text and "&lt;https://evil|clic&gt;" in text and "<!channel>" not in text


def test_an_alert_carries_services_modes_level_time_and_the_fallback_steps() -> None:
    text = render(opened(), "notify", lang="fr", fmt="plain")
    assert "DELTA G (EDI)" in text and "ALERTE ROUGE" in text
    assert "Publié par le CID le 03/12/2026 10:32" in text  # Paris time
    assert "Procédure de secours – DELTA G" in text and "Fiche 1" in text


def test_english_subscribers_get_english_labels_and_the_official_french_wording() -> None:
    text = render(opened(level="black"), "notify", lang="en", fmt="plain")
    assert "BLACK ALERT — DELTA G (EDI)" in text and "Published by the CID on 03/12/2026 10:32" in text
    assert "official French wording" in text


def test_the_end_of_alert_gives_the_reintegration_deadline_for_delta_services() -> None:
    end = AlertClosed(
        id="A1:closed",
        source="s",
        detected_at=NOW,
        alert_id="A1",
        services=("DELTA X Import",),
        modes=("EDI",),
        title="FIN D'ALERTE",
        text="Résolu.",
        published_at=datetime(2026, 12, 3, 14, 2, tzinfo=UTC),
    )
    text = render(end, "notify", lang="fr", fmt="plain")
    assert "avant le 04/12/2026 15:02 (24 h après la fin d'alerte, Fiche 4, étape 4)" in text
    reminder = render(end, "deadline_reminder", lang="fr", fmt="html")
    assert reminder.startswith("⏰ <b>RAPPEL — réintégration avant le 04/12/2026 15:02</b>")


def test_no_deadline_is_invented_for_services_without_one() -> None:
    end = AlertClosed(
        id="B:closed",
        source="s",
        detected_at=NOW,
        alert_id="B",
        services=("ICS2",),
        modes=(),
        title="FIN",
        text="OK",
        published_at=NOW,
    )
    assert "Réintégrez" not in render(end, "notify", lang="fr", fmt="plain")


def test_an_inferred_end_says_so() -> None:
    end = AlertClosed(
        id="A1:closed",
        source="s",
        detected_at=NOW,
        alert_id="A1",
        services=("DELTA G",),
        modes=("EDI",),
        inferred=True,
    )
    assert "sans message de fin d'alerte" in render(end, "notify", lang="fr", fmt="plain")


@pytest.mark.parametrize("purpose", ["notify", "interruption_reminder", "interruption_start"])
def test_planned_interruptions_have_three_messages(purpose: str) -> None:
    planned = InterruptionPlanned(
        id="I1",
        source="s",
        detected_at=NOW,
        services=("DELTA T",),
        modes=("EDI", "DTI"),
        starts_at=datetime(2026, 12, 8, 8, tzinfo=UTC),
        ends_at=datetime(2026, 12, 8, 16, tzinfo=UTC),
        title="Interruption",
        text="…",
    )
    text = render(planned, purpose, lang="fr", fmt="plain")
    assert "DELTA T (EDI/DTI)" in text
    assert ("08/12/2026 09:00" in text) or ("08/12/2026 17:00" in text)


def test_admin_messages_have_no_client_footer() -> None:
    degraded = SourceDegraded(id="S", source="s", detected_at=NOW, reason="timeout", failures=3, since=NOW)
    text = render(degraded, "notify", lang="fr", fmt="plain")
    assert "SOURCE EN PANNE" in text and "3 relevés en échec : timeout" in text and "Source :" not in text


def test_long_messages_are_split_into_numbered_parts_and_never_cut() -> None:
    words = " ".join(f"mot{i}" for i in range(1500))  # one 9,000-character paragraph
    bip = BulletinPublished(
        id="A1:bip:1",
        source="s",
        detected_at=NOW,
        alert_id="A1",
        services=("DELTA G",),
        modes=("EDI",),
        text="x & y " * 400 + "\n" + words,
        number=1,
    )
    text = render(bip, "notify", lang="fr", fmt="html")
    parts = split_text(text, 4096)
    assert len(parts) >= 3 and all(len(p) <= 4096 for p in parts)
    assert parts[1].startswith(f"(2/{len(parts)})")
    joined = " ".join(p.split("\n", 1)[1] if i else p for i, p in enumerate(parts))
    assert "mot0 " in joined and "mot1499" in joined and "Source :" in parts[-1]
    assert all(p.count("&amp;") == p.count("&") for p in parts)  # no entity cut in two


def test_a_requalification_says_the_new_level_and_what_it_means_for_gamma() -> None:
    update = AlertUpdated(
        id="A1:updated:x",
        source="s",
        detected_at=NOW,
        alert_id="A1",
        services=("GAMMA",),
        modes=("DTI",),
        level="black",
        title="BIP n°2 – GAMMA",
        text="L'alerte rouge est requalifiée en alerte noire.",
        published_at=NOW,
        changes=("level",),
    )
    fr = render(update, "notify", lang="fr", fmt="html")
    assert fr.startswith("⚫ <b>Alerte requalifiée en alerte noire — GAMMA (DTI)</b>")
    assert "alerte rouge ou noire" in fr  # GAMMA: a red or black alert is what authorises the fallback
    en = render(update, "notify", lang="en", fmt="plain")
    assert "ALERT REQUALIFIED AS A BLACK ALERT" in en  # plain text: the head line in capitals


def test_a_widened_alert_says_what_it_now_covers() -> None:
    update = AlertUpdated(
        id="A1:updated:y",
        source="s",
        detected_at=NOW,
        alert_id="A1",
        services=("DELTA X Import", "DELTA X Export"),
        modes=("EDI", "DTI"),
        level="red",
        changes=("services", "modes"),
    )
    text = render(update, "notify", lang="fr", fmt="plain")
    assert text.startswith("📣 ALERTE ÉTENDUE")
    assert "désormais : DELTA X Import, DELTA X Export (EDI/DTI)" in text


def test_an_unattributed_message_tells_the_admins_it_went_to_no_client() -> None:
    held = UnattributedMessage(
        id="U1", source="https://www.douane.gouv.fr/meteo", detected_at=NOW, item_kind="alert", title="ALERTE"
    )
    text = render(held, "notify", lang="fr", fmt="plain")
    assert (
        "MESSAGE NON ATTRIBUÉ" in text
        and "transmis à aucun client" in text
        and "douane.gouv.fr/meteo" in text
    )
