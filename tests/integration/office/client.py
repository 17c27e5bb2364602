"""The office app under aiohttp's test client: a seeded gateway, one client a test, logging in and posting a page's form."""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from connectors.http import create_app
from gateway.bootstrap import Gateway, bootstrap
from tests.helpers.office import PASSWORD, add, csrf_of, seed

Client = TestClient[Any, Any]


def seeded(tmp_path: Path) -> Gateway:
    """The seeded report (tests.helpers.office.seed) with office1 of the office and urban1 of 城建环保委; the caller closes it."""
    gateway = bootstrap(data_dir=tmp_path / "data")
    seed(gateway)
    add(gateway, "office1", "office")
    add(gateway, "urban1", "committee", committee="urban")
    return gateway


def run(gw: Gateway, test: Callable[[Client], Awaitable[None]]) -> None:
    async def main() -> None:
        async with TestClient(TestServer(create_app(gw))) as client:
            await test(client)

    asyncio.run(main())


async def login(client: Client, username: str) -> None:
    token = csrf_of(await (await client.get("/office/login")).text())
    answer = await client.post("/office/login", data={"_csrf": token, "username": username, "password": PASSWORD, "next": "/office/"},
                               allow_redirects=False)
    assert answer.status == 303


async def post(client: Client, path: str, *, token_from: str, **data: str) -> tuple[int, str]:
    """The form at `path` sent with the CSRF token of the page `token_from`, as a browser would; the status and text of the answer."""
    token = csrf_of(await (await client.get(token_from)).text())
    answer = await client.post(path, data={"_csrf": token, **data})
    return answer.status, await answer.text()
