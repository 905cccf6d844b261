"""Messages say what fiche 9 requires, in the subscriber's language, with scraped text escaped."""

from datetime import UTC, datetime

import pytest

from relays.events import AlertClosed, AlertOpened, BulletinPublished, InterruptionPlanned, SourceDegraded
from relays.render import render

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


def test_long_messages_fit_telegram() -> None:
    bip = BulletinPublished(
        id="A1:bip:1",
        source="s",
        detected_at=NOW,
        alert_id="A1",
        services=("DELTA G",),
        modes=("EDI",),
        text="x" * 3000 + "\n" + "y" * 3000,
        number=1,
    )
    assert len(render(bip, "notify", lang="fr", fmt="html")) <= 4096
