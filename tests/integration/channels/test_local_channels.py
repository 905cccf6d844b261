"""The console channel (demo, dry runs) and the in-memory channel (tests)."""

from __future__ import annotations

import copy
import io
import pickle

import pytest

from relays.channels.base import BlockedError, Channel, NotFoundError, Outgoing, TransientError
from relays.channels.console import ConsoleChannel
from relays.channels.memory import MemoryChannel


async def test_console_prints_a_header_naming_the_address_then_the_text() -> None:
    stream = io.StringIO()
    console = ConsoleChannel(stream)
    first = await console.send(Outgoing("42", "<b>Alerte</b>\n", format="html"))
    await console.send(Outgoing("42", "fin", thread_ref=first))

    lines = stream.getvalue().splitlines()
    assert isinstance(console, Channel) and first == "42:1"
    assert lines[0].startswith("── console → 42 [html]") and lines[1] == "<b>Alerte</b>"
    assert "(reply to 42:1)" in lines[3] and lines[4] == "fin"


async def test_console_writes_to_stdout_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    await ConsoleChannel().send(Outgoing("C1", "bonjour"))
    assert "bonjour" in capsys.readouterr().out


async def test_memory_records_and_fails_as_programmed() -> None:
    memory = MemoryChannel()
    memory.fail_next(1, retry_after=5)
    memory.fail_address("blocked")
    memory.fail_address("gone", NotFoundError)

    with pytest.raises(TransientError) as transient:
        await memory.send(Outgoing("1", "a"))
    ref = await memory.send(Outgoing("1", "a"))
    with pytest.raises(BlockedError):
        await memory.send(Outgoing("blocked", "b"))
    with pytest.raises(NotFoundError):
        await memory.send(Outgoing("gone", "c"))
    memory.heal("blocked")
    await memory.send(Outgoing("blocked", "b"))

    assert isinstance(memory, Channel) and transient.value.retry_after == 5
    assert ref == "1:1" and memory.attempts == 5
    assert [m.text for m in memory.sent] == ["a", "b"] and memory.sent_to("1") == [Outgoing("1", "a")]


def test_delivery_errors_survive_pickling_and_copying() -> None:
    error = TransientError("flood", channel="telegram", address="42", reason="rate_limited", retry_after=3.0)
    for clone in (pickle.loads(pickle.dumps(error)), copy.copy(error)):
        assert type(clone) is TransientError and str(clone) == str(error)
        assert (clone.channel, clone.address, clone.reason, clone.retry_after) == (
            "telegram",
            "42",
            "rate_limited",
            3.0,
        )
