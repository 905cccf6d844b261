"""The machine routes against their own OpenAPI document, with schemathesis: generated requests
(parameters, headers) to the real aiohttp app on 127.0.0.1, every answer checked against the
document (status codes, content types, headers, bodies) and never a server error.

Bounded by default (``SCHEMATHESIS_EXAMPLES``, 25 per operation) so the suite stays fast;
``SCHEMATHESIS_EXAMPLES=500`` searches harder."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, settings

from bot.bootstrap import bootstrap
from bot.openapi import document
from bot.settings import Settings
from bot.web import build_web_app
from relays.store import Store
from tests.fakes._server import BackgroundServer

from .conftest import Clock, fill

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "25"))


class MachineApi(BackgroundServer):
    """The relay's web app, filled with the sample scenario, served on 127.0.0.1."""

    def __init__(self, app: web.Application) -> None:
        super().__init__()
        self._app = app

    def build_app(self) -> web.Application:
        return self._app


@pytest.fixture(scope="module")
def machine_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MachineApi]:
    path: Path = tmp_path_factory.mktemp("contract") / "relay.sqlite3"
    store = Store.open(f"sqlite:///{path}")
    clock = Clock()
    asyncio.run(fill(store, clock))
    relay = bootstrap(Settings.defaults(api_public=True, poll_interval=60.0), store=store, clock=clock)
    with MachineApi(build_web_app(relay)) as server:
        yield server
    store.close()


#: The document the relay serves, loaded at collection (schemathesis' lazy ``from_fixture`` loader
#: does not run under pytest 9); the test below also checks it is the one served.
schema = schemathesis.openapi.from_dict(document())


def test_the_served_document_is_the_one_tested(machine_api: MachineApi) -> None:
    import httpx

    assert httpx.get(f"{machine_api.url}/api/v1/openapi.json").json() == document()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_every_machine_route_keeps_to_its_openapi_document(
    machine_api: MachineApi, case: schemathesis.Case
) -> None:
    case.call_and_validate(base_url=machine_api.url)
