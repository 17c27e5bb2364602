"""The office pages' rules without a browser: who sees which clue, sessions, CSRF, throttling, the audit log (aiohttp's test client)."""
from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from gateway.bootstrap import Gateway, bootstrap
from gateway.db.models import AuditEntry, Packet
from gateway.delivery.acknowledge import packet_for_token
from tests.helpers.office import PASSWORD, add, csrf_of, seed
from tests.integration.office.client import run, seeded


@pytest.fixture
def gw(tmp_path: Path) -> Iterator[Gateway]:
    gateway = seeded(tmp_path)
    add(gateway, "tian1", "committee", committee="proposals")
    add(gateway, "liyuan1", "workstation", workstation="梨园镇委员工作站")
    yield gateway
    gateway.close()


async def login(client: TestClient[Any, Any], username: str, password: str = PASSWORD, *, next_: str = "/office/") -> ClientResponse:
    form = await client.get("/office/login")
    token = csrf_of(await form.text())
    return await client.post("/office/login", data={"_csrf": token, "username": username, "password": password, "next": next_},
                             allow_redirects=False)


def audit_actions(gw: Gateway) -> list[tuple[str | None, str, str | None]]:
    with gw.uow.read_session() as s:
        return [(e.username, e.action, e.target) for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def test_a_page_without_login_leads_to_the_login_form_and_back(gw: Gateway) -> None:
    async def test(client: TestClient[Any, Any]) -> None:
        answer = await client.get("/office/clues/C-URBAN-1", allow_redirects=False)
        assert answer.status == 303 and answer.headers["Location"] == "/office/login?next=/office/clues/C-URBAN-1"
        answer = await login(client, "urban1", next_="/office/clues/C-URBAN-1")
        assert answer.status == 303 and answer.headers["Location"] == "/office/clues/C-URBAN-1"
        page = await client.get("/office/clues/C-URBAN-1")
        assert page.status == 200 and "道路积水等问题" in await page.text()

    run(gw, test)
    assert ("urban1", "login", None) in audit_actions(gw)


def test_the_session_cookie_is_encrypted_http_only_same_site_lax_and_expiring(gw: Gateway) -> None:
    async def test(client: TestClient[Any, Any]) -> None:
        answer = await login(client, "office1")
        cookie = answer.headers["Set-Cookie"]
        assert cookie.startswith("gateway_office=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert "Max-Age=28800" in cookie and "Path=/office" in cookie
        assert "office1" not in cookie and '"uid"' not in cookie  # encrypted, not merely signed

    run(gw, test)


def test_the_office_sees_every_committee_s_clues_hottest_first(gw: Gateway) -> None:
    async def test(client: TestClient[Any, Any]) -> None:
        await login(client, "office1")
        text = await (await client.get("/office/")).text()
        assert text.index("道路积水等问题") < text.index("幼儿园学位不足") < text.index("噪音扰民")
        assert "共 3 条" in text
        for clue in ("C-URBAN-1", "C-EDU-1", "C-OFFICE-1"):
            assert (await client.get(f"/office/clues/{clue}")).status == 200
        only = await (await client.get("/office/?committee=education")).text()
        assert "幼儿园学位不足" in only and "道路积水" not in only

    run(gw, test)


def test_a_committee_user_sees_only_its_committee_s_clues_and_gets_403_on_another_s(gw: Gateway) -> None:
    async def test(client: TestClient[Any, Any]) -> None:
        await login(client, "urban1")
        text = await (await client.get("/office/")).text()
        assert "道路积水等问题" in text and "幼儿园学位不足" not in text and "噪音扰民" not in text
        # a committee filter in the URL does not widen its view
        assert "幼儿园学位不足" not in await (await client.get("/office/?committee=education")).text()
        refused = await client.get("/office/clues/C-EDU-1")
        assert refused.status == 403 and refused.content_type == "text/html"
        assert "这条线索不属于本单位承办，无权查看" in await refused.text()
        assert (await client.post("/office/clues/C-EDU-1/notes", data={"_csrf": csrf_of(text), "text": "看看"})).status == 403
        assert (await client.get("/office/clues/NO-SUCH")).status == 404

    run(gw, test)


def test_the_proposals_committee_sees_the_proposal_it_got_in_copy(gw: Gateway) -> None:
    async def test(client: TestClient[Any, Any]) -> None:
        await login(client, "tian1")
        text = await (await client.get("/office/")).text()
        assert "幼儿园学位不足" in text and "道路积水" not in text
        page = await (await client.get("/office/clues/C-EDU-1")).text()
        assert "抄送" in page and "P000001-education" not in page  # its own copy, not the other committee's packet

    run(gw, test)


def test_a_workstation_user_sees_nothing_until_clues_are_forwarded_to_it(gw: Gateway) -> None:
    async def test(client: TestClient[Any, Any]) -> None:
        await login(client, "liyuan1")
        text = await (await client.get("/office/")).text()
        assert "暂无转交本工作站的线索" in text and "道路积水" not in text
        assert (await client.get("/office/clues/C-URBAN-1")).status == 403

    run(gw, test)


def test_acknowledging_a_clue_is_the_email_link_s_acknowledgement_with_who_in_the_audit_log(gw: Gateway) -> None:
    async def test(client: TestClient[Any, Any]) -> None:
        await login(client, "urban1")
        page = await (await client.get("/office/clues/C-URBAN-1")).text()
        assert "未签收" in page and "签收线索包" in page
        done = await client.post("/office/clues/C-URBAN-1/acknowledge", data={"_csrf": csrf_of(page)}, allow_redirects=False)
        assert done.status == 303
        page = await (await client.get(done.headers["Location"])).text()
        assert "已签收" in page and "urban1" in page and "签收线索包</button>" not in page
        listed = await (await client.get("/office/?state=acknowledged")).text()
        assert "道路积水" in listed
        assert "道路积水" not in await (await client.get("/office/?state=new")).text()

    run(gw, test)
    with gw.uow.session_factory() as s:
        packet = s.scalar(select(Packet).where(Packet.packet_id == "P000001-urban"))
        assert packet is not None and packet.acknowledged_at is not None
        # the email's link now finds it acknowledged: one event, whichever way it came
        token = gw.ack_links.token(packet.packet_id, packet.revision, packet.created_at)
        again = packet_for_token(s, gw.ack_links, token, confirm=True)
        assert again.acknowledged_at == packet.acknowledged_at and not again.first_time
    assert ("urban1", "acknowledge", "P000001-urban") in audit_actions(gw)


def test_the_office_signs_only_for_its_own_triage_packet(gw: Gateway) -> None:
    async def test(client: TestClient[Any, Any]) -> None:
        await login(client, "office1")
        page = await (await client.get("/office/clues/C-URBAN-1")).text()
        assert "签收线索包</button>" not in page
        refused = await client.post("/office/clues/C-URBAN-1/acknowledge", data={"_csrf": csrf_of(page)})
        assert refused.status == 403 and "由承办委室签收" in await refused.text()
        page = await (await client.get("/office/clues/C-OFFICE-1")).text()
        assert (await client.post("/office/clues/C-OFFICE-1/acknowledge", data={"_csrf": csrf_of(page)})).status == 200

    run(gw, test)
    with gw.uow.read_session() as s:
        acknowledged = dict(s.execute(select(Packet.committee_id, Packet.acknowledged_at)).all())
    assert acknowledged["office"] is not None and acknowledged["urban"] is None


def test_a_post_without_or_with_a_wrong_csrf_token_is_refused(gw: Gateway) -> None:
    async def test(client: TestClient[Any, Any]) -> None:
        refused = await client.post("/office/login", data={"username": "urban1", "password": PASSWORD})
        assert refused.status == 403 and "安全校验码" in await refused.text()
        await login(client, "urban1")
        page = await (await client.get("/office/clues/C-URBAN-1")).text()
        for data in ({}, {"_csrf": "forged"}, {"_csrf": csrf_of(page) + "x"}):
            assert (await client.post("/office/clues/C-URBAN-1/acknowledge", data=data)).status == 403
            assert (await client.post("/office/clues/C-URBAN-1/notes", data={**data, "text": "备注"})).status == 403
        assert (await client.post("/office/logout", data={})).status == 403

    run(gw, test)
    with gw.uow.read_session() as s:
        assert s.scalar(select(Packet.acknowledged_at).where(Packet.packet_id == "P000001-urban")) is None
    assert not [a for a in audit_actions(gw) if a[1] in ("acknowledge", "note", "logout")]


def test_five_wrong_passwords_throttle_the_user_and_the_address_with_429(gw: Gateway) -> None:
    async def test(client: TestClient[Any, Any]) -> None:
        for _ in range(5):
            wrong = await login(client, "urban1", "not-the-password")
            assert wrong.status == 401 and "用户名或密码错误" in await wrong.text()
        throttled = await login(client, "urban1")  # the right password, too late
        assert throttled.status == 429 and "登录失败次数过多" in await throttled.text()
        assert throttled.headers["Retry-After"] == "900"
        assert (await login(client, "office1")).status == 429  # the same address, another user

    run(gw, test)
    actions = [a[1] for a in audit_actions(gw)]
    assert actions.count("login_failed") == 5 and actions.count("login_throttled") == 2 and "login" not in actions


def test_a_user_s_failures_are_counted_since_its_last_good_login(gw: Gateway) -> None:
    from gateway.office.accounts import log_in

    with gw.uow.session_factory() as s:
        for _ in range(4):
            assert log_in(s, "urban1", "wrong", address=None).user is None
        assert log_in(s, "urban1", PASSWORD, address=None).user is not None
        for _ in range(4):
            assert not log_in(s, "urban1", "wrong", address=None).throttled
        assert log_in(s, "urban1", PASSWORD, address=None).user is not None
        assert log_in(s, "nobody", PASSWORD, address=None).user is None


def test_logout_and_disable_end_the_sessions_the_cookie_still_carries(gw: Gateway) -> None:
    async def test(client: TestClient[Any, Any]) -> None:
        await login(client, "urban1")
        kept = {c.key: c.value for c in client.session.cookie_jar}
        page = await (await client.get("/office/")).text()
        assert (await client.post("/office/logout", data={"_csrf": csrf_of(page)}, allow_redirects=False)).status == 303
        client.session.cookie_jar.update_cookies(kept)  # a copied cookie, replayed after the logout
        assert (await client.get("/office/", allow_redirects=False)).status == 303

        await login(client, "office1")
        assert (await client.get("/office/", allow_redirects=False)).status == 200
        from gateway.office.accounts import disable_user

        with gw.uow.session_factory() as s:
            disable_user(s, "office1", by="test")
            s.commit()
        assert (await client.get("/office/", allow_redirects=False)).status == 303
        assert (await login(client, "office1")).status == 401

    run(gw, test)
    assert ("urban1", "logout", None) in audit_actions(gw) and ("test", "user_disable", "office1") in audit_actions(gw)


def test_a_login_expires_after_the_session_hours(tmp_path: Path) -> None:
    gateway = bootstrap(data_dir=tmp_path / "data", session_hours=0.0003)  # about a second
    try:
        seed(gateway)
        add(gateway, "urban1", "committee", committee="urban")

        async def test(client: TestClient[Any, Any]) -> None:
            await login(client, "urban1")
            assert (await client.get("/office/", allow_redirects=False)).status == 200
            time.sleep(1.5)
            assert (await client.get("/office/", allow_redirects=False)).status == 303

        run(gateway, test)
    finally:
        gateway.close()


def test_a_note_is_kept_masked_with_who_and_when(gw: Gateway) -> None:
    async def test(client: TestClient[Any, Any]) -> None:
        await login(client, "urban1")
        page = await (await client.get("/office/clues/C-URBAN-1")).text()
        done = await client.post("/office/clues/C-URBAN-1/notes", data={"_csrf": csrf_of(page), "text": "已电话联系13812345678，转梨园镇研究"})
        text = await done.text()
        assert done.status == 200 and "备注已保存" in text and "138****5678" in text and "13812345678" not in text
        empty = await client.post("/office/clues/C-URBAN-1/notes", data={"_csrf": csrf_of(text), "text": "  "})
        assert empty.status == 422 and "备注内容不能为空" in await empty.text()

    run(gw, test)
    assert ("urban1", "note", "C-URBAN-1") in audit_actions(gw)


def test_search_by_word_place_and_ticket_number(gw: Gateway) -> None:
    async def test(client: TestClient[Any, Any]) -> None:
        await login(client, "office1")

        async def found(q: str) -> set[str]:
            text = await (await client.get("/office/", params={"q": q})).text()
            return {c for c in ("C-URBAN-1", "C-EDU-1", "C-OFFICE-1") if c in text}

        assert await found("幼儿园") == {"C-EDU-1"}
        assert await found("梨园镇") == {"C-URBAN-1"}  # a place of its work orders
        assert await found("云景里") == {"C-URBAN-1"}  # a place its texts name
        assert await found("2611160000002") == {"C-OFFICE-1"}  # the ticket behind it
        assert await found("没有的词") == set()
        assert (await client.get("/office/", params={"type": "proposal", "page": "x", "state": "bogus"})).status == 200

    run(gw, test)


def test_after_login_the_user_goes_only_to_a_page_of_the_office(gw: Gateway) -> None:
    async def test(client: TestClient[Any, Any]) -> None:
        for target in ("//evil.example/", "https://evil.example/", "/office/\\evil", "/api/v1/docs"):
            answer = await login(client, "urban1", next_=target)
            assert answer.headers["Location"] == "/office/"

    run(gw, test)


def test_every_office_page_says_no_frames_no_scripts_no_caching(gw: Gateway) -> None:
    async def test(client: TestClient[Any, Any]) -> None:
        for path in ("/office/login", "/office/nothing-here"):
            answer = await client.get(path)
            assert answer.headers["X-Frame-Options"] == "DENY" and answer.headers["Cache-Control"] == "no-store"
            assert "default-src 'none'" in answer.headers["Content-Security-Policy"] and answer.content_type == "text/html"
        assert (await client.get("/office/nothing-here")).status == 404

    run(gw, test)
