"""`gateway demo`: a week through the real HTTP API of an embedded gateway, with a live view."""
from __future__ import annotations

import asyncio
import email
import secrets
import time
from datetime import date, datetime, timedelta
from email import policy
from pathlib import Path
from typing import Any

import aiohttp
from gateway.ops.terminal import terminal
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from connectors.push_client import SignedClient
from gateway.bootstrap import bootstrap
from gateway.demo.generator import generate_week
from gateway.errors import ConfigError
from gateway.serve import AppThread, ServerThread
from gateway.settings import ClientKey
from connectors.simulator import create_simulator

DEMO_KEY_ID = "demo-command-center"


def _last_monday(today: date) -> date:
    return today - timedelta(days=today.weekday() + 7)


async def _wait_delivered(client: SignedClient, report_id: str, progress: Progress, task: Any, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        answer = await client.get(f"/api/v1/reports/{report_id}")
        status = answer.body
        records = status["records"]
        done = records["normalized"] if status["state"] == "received" else records["received"]
        progress.update(task, completed=done, description=f"{report_id}: {status['state']}")
        if status["state"] == "delivered":
            return status
        if time.monotonic() > deadline:
            raise TimeoutError(f"{report_id} not delivered after {timeout:.0f} s (state {status['state']})")
        await asyncio.sleep(0.2)


async def _push_week(url: str, secret: str, week: Any, console: Console) -> tuple[list[dict[str, Any]], dict[str, float]]:
    timings: dict[str, float] = {}
    async with aiohttp.ClientSession() as session:
        client = SignedClient(session, url, DEMO_KEY_ID, secret)
        statuses = []
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console) as progress:
            for report in (week.weekly, week.urgent):
                task = progress.add_task(f"{report['report_id']}: pushing", total=max(len(report["records"]), 1))
                started = time.monotonic()
                answer = await client.push_report(report)
                if answer.status not in (200, 202):
                    raise RuntimeError(f"push of {report['report_id']} refused: {answer.status} {answer.body}")
                timings[f"{report['report_id']} accepted"] = time.monotonic() - started
                status = await _wait_delivered(client, report["report_id"], progress, task, timeout=300)
                timings[f"{report['report_id']} delivered"] = time.monotonic() - started
                statuses.append(status)
        return statuses, timings


async def _wait_one(url: str, secret: str, report_id: str, console: Console) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session:
        client = SignedClient(session, url, DEMO_KEY_ID, secret)
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console) as progress:
            total = (await client.get(f"/api/v1/reports/{report_id}")).body["records"]["received"]
            task = progress.add_task(report_id, total=max(total, 1))
            return await _wait_delivered(client, report_id, progress, task, timeout=300)


def gateway_outbox(run_dir: Path) -> str:
    import os

    return os.environ.get("GATEWAY_SMTP_URL", "").split("@")[-1] or str(run_dir / "outbox") + "/"


def _show(console: Console, statuses: list[dict[str, Any]], week: Any, run_dir: Path, seconds: float, timings: dict[str, float]) -> None:
    table = Table(title="线索包去向 · where the clue packets went", show_lines=False)
    for col in ("subject", "to", "state", "file"):
        table.add_column(col, overflow="fold")
    largest: tuple[int, Path | None] = (-1, None)
    for status in statuses:
        for p in status["packets"]:
            recipients = ", ".join(d["recipient"] for d in p["deliveries"])
            location = p["location"] or ""
            path = Path(location) / f"{p['packet_id']}-r1.eml" if location and not location.startswith("smtp") else None
            if path and path.exists() and p["clues"] > largest[0]:
                largest = (p["clues"], path)
            table.add_row(p["subject"], recipients, p["state"], path.name if path else location)
    console.print(table)
    first_file = largest[1]

    totals = {k: sum(s["records"][k] for s in statuses) for k in ("received", "excluded", "duplicates", "routed")}
    reasons: dict[str, int] = {}
    for s in statuses:
        for reason, n in s["records"]["excluded_by_reason"].items():
            reasons[reason] = reasons.get(reason, 0) + n
    packets = sum(len(s["packets"]) for s in statuses)
    clues = sum(s["clues"] for s in statuses)
    console.print(Panel.fit(
        f"work orders in: {week.work_orders}   stored: {totals['received']}   excluded: {totals['excluded']} {reasons}\n"
        f"routed into clues: {totals['routed']}   clues: {clues}   packets: {packets}\n"
        f"weekly report: accepted in {timings[week.weekly['report_id'] + ' accepted']:.2f} s, all packets out {timings[week.weekly['report_id'] + ' delivered']:.1f} s after the push\n"
        f"urgent report: packet out {timings[week.urgent['report_id'] + ' delivered']:.1f} s after the push\n"
        f"total {seconds:.1f} s\n"
        f"database: {run_dir / 'gateway.db'}\n"
        f"packets:  {gateway_outbox(run_dir)}",
        title="demo figures",
    ))
    if first_file:
        message = email.message_from_bytes(first_file.read_bytes(), policy=policy.default)
        body = message.get_body(("plain",))
        text = body.get_content() if body else ""
        lines = text.splitlines()
        excerpt = "\n".join(lines[:28]) + ("\n…" if len(lines) > 28 else "")
        console.print(Panel(excerpt, title=f"{first_file.name} · Subject: {message['Subject']}", expand=False))


async def _file_results(url: str, gateway: Any, console: Console, activity: date) -> list[dict[str, Any]]:
    """Workstations file Table 1s for the week's 协商议事备选议题, each with its own key, as they would after their meetings."""
    from sqlalchemy import select

    from gateway.db.models import Clue

    with gateway.uow.read_session() as session:
        clues = session.scalars(select(Clue).where(Clue.clue_type == "consultation_topic").order_by(Clue.id).limit(3)).all()
    receipts = []
    async with aiohttp.ClientSession() as http:
        for n, clue in enumerate(clues, start=1):
            station = clue.workstations[0] if clue.workstations else "城建界别活动组"
            key_id, secret = f"demo-ws-{n}", secrets.token_hex(24)
            gateway.config.clients[key_id] = ClientKey(key_id=key_id, secrets=[secret], workstation=station)
            topic = clue.title.split("：")[0].split("·")[-1] + "问题协商"
            table1 = {
                "activity_id": f"demo-{clue.clue_id}", "workstation": station, "topic": topic,
                "period": {"start": activity.isoformat(), "end": activity.isoformat()},
                "members": ["张委员", "李委员", "王委员"], "responsible_person": "刘站长", "committee_director": "陈主任",
                "items": [
                    {"text": f"{topic}：现场协调相关单位当场答复", "outcome": "on_site", "clue_ids": [clue.clue_id]},
                    {"text": f"{topic}：协调职能部门限期整改", "outcome": "short_term", "clue_ids": [clue.clue_id], "assigned_unit": "区城市管理委"},
                    {"text": f"{topic}：涉及规划调整，形成提案线索", "outcome": "unresolved", "clue_ids": [clue.clue_id]},
                ][: 3 if n != 2 else 2],
            }
            answer = await SignedClient(http, url, key_id, secret).send_json("POST", "/api/v1/consultations", table1)
            if answer.status in (200, 201):
                receipts.append(answer.body)
                console.print(f"附表1 from {station} ({key_id}): {answer.body['consultation_id']}, due {answer.body['due_on']}, "
                              + ("late" if answer.body["late"] else "on time") + f", supervision {', '.join(answer.body['supervision_ids']) or '—'}")
            else:
                console.print(f"附表1 from {station} refused: {answer.status} {answer.body}", style="red")
    return receipts


async def _pull(gateway: Any, console: Console, simulator_url: str) -> Any:
    from gateway.intake.pull_sync import sync_once

    with Progress(TextColumn("{task.description}"), console=console, transient=True) as progress:
        task = progress.add_task(f"nightly pull from the command-center simulator at {simulator_url}")
        summary = await sync_once(gateway.puller(), on_page=lambda page: progress.update(task, description=f"pulled page: {page.reports} new, {page.duplicates} already received"))
    return summary


DEMO_USERS = [  # one of each role (docs/office.md)
    ("bangongshi", "office", None, None, "区政协办公室 王主任"),
    ("chengjian", "committee", "urban", None, "城建环保委 李主任"),
    ("liyuan", "workstation", None, "梨园镇委员工作站", "梨园镇委员工作站 刘站长"),
]


def _office_users(gateway: Any, console: Console, url: str, run_dir: Path) -> None:
    """A user of each role, with a fresh password, and where they log in."""
    from gateway.office.accounts import add_user

    table = Table(title="区政协线索工作台 · the office's pages")
    for column in ("user", "password", "role", "sees"):
        table.add_column(column)
    with gateway.uow.session_factory() as session:
        for username, role, committee, workstation, name in DEMO_USERS:
            password = secrets.token_urlsafe(9)
            add_user(session, gateway.routing, username=username, password=password, role=role, committee_id=committee,
                     workstation=workstation, display_name=name, by="demo")
            sees = {"office": "every clue, 附表1, 督办", "committee": f"the clues of {committee}; 转交 to its stations",
                    "workstation": "what is forwarded to it; files 附表1 online (/office/table1/new)"}[role]
            table.add_row(username, password, role + (f" ({committee or workstation})" if committee or workstation else ""), sees)
        session.commit()
    forwarded = _forward_one(gateway)
    console.print(table)
    if forwarded:
        console.print(f"chengjian forwarded {forwarded} to 梨园镇委员工作站 (转交): liyuan sees it at {url}/office/ and can file its 附表1 online")
    console.print(f"office pages: {url}/office/ while the demo runs; afterwards `GATEWAY_DATA_DIR={run_dir} gateway run` "
                  "and http://127.0.0.1:8080/office/ with the same users")


def _forward_one(gateway: Any) -> str | None:
    """城建环保委 forwards its hottest clue to 梨园镇委员工作站, so that the workstation's user has something to see."""
    from sqlalchemy import select

    from gateway.db.models import Clue, User
    from gateway.office.accounts import viewer_of
    from gateway.office.forwarding import forward_clue

    with gateway.uow.session_factory() as session:
        clue = session.scalar(select(Clue).where(Clue.committee_id == "urban").order_by(Clue.score.desc()).limit(1))
        user = session.scalar(select(User).where(User.username == "chengjian"))
        if clue is None or user is None:
            return None
        forward_clue(session, viewer_of(user), gateway.routing, clue.clue_id, "梨园镇委员工作站", "请结合本站联系社区调研，确定是否列入协商议题")
        return clue.clue_id


def run_demo(*, records: int, base_dir: Path, week_start: str | None) -> int:
    console = terminal()
    run_dir = base_dir / datetime.now().strftime("run-%Y%m%d-%H%M%S")
    secret = secrets.token_hex(24)
    monday = date.fromisoformat(week_start) if week_start else _last_monday(date.today())
    if monday.weekday() != 0:
        raise ConfigError(f"--week-start {monday} is not a Monday")
    console.print(f"Embedded gateway in {run_dir} (SQLite, in-process workers, mail to .eml files unless GATEWAY_SMTP_URL is set)")
    week = generate_week(monday, records=records)
    pull_secret = secrets.token_hex(24)
    # The command center also serves its reports for the nightly pull: this week's
    # express report, and the weekly one again (recognised, not stored twice).
    simulator = AppThread(create_simulator([week.weekly, week.express], {"demo-puller": ClientKey(key_id="demo-puller", secrets=[pull_secret])})).start()
    gateway = bootstrap(data_dir=run_dir, client_keys=f"{DEMO_KEY_ID}:{secret}", retry_min_backoff_ms=500,
                        pull_url=simulator.url, pull_key=f"demo-puller:{pull_secret}", pull_client_id=DEMO_KEY_ID, pull_schedule="",
                        command_center_signature="v2")
    server = ServerThread(gateway).start()
    try:
        console.print(f"pushing {len(week.weekly['records'])} work orders ({week.weekly['report_id']}) and an urgent report ({week.urgent['report_id']}) to {server.url}, signed as {DEMO_KEY_ID}")
        started = time.monotonic()
        statuses, timings = asyncio.run(_push_week(server.url, secret, week, console))
        pulled = asyncio.run(_pull(gateway, console, simulator.url))
        console.print(f"nightly pull: {pulled.pages} page(s), {pulled.reports} new report ({week.express['report_id']}), {pulled.duplicates} already received ({week.weekly['report_id']})")
        statuses.append(asyncio.run(_wait_one(server.url, secret, week.express["report_id"], console)))
        timings[week.express["report_id"] + " delivered"] = time.monotonic() - started
        _show(console, statuses, week, run_dir, time.monotonic() - started, timings)
        from gateway.delivery.notices import office_recipients, send_digest
        from gateway.periods import SHANGHAI

        today = datetime.now(SHANGHAI).date()
        activity = monday + timedelta(days=4)  # the week's Friday: the workstations met on the topics
        asyncio.run(_file_results(server.url, gateway, console, activity))
        from gateway.loop.feedback_push import push_month
        from gateway.loop.table2 import monthly_summary, render_text

        month = f"{activity.year}-{activity.month:02d}"
        with gateway.uow.read_session() as session:
            console.print(Panel(render_text(monthly_summary(session, month), gateway.settings.hall_name), title=f"gateway report monthly {month}", expand=False))
        pushed = push_month(gateway.feedback(), month)
        console.print(f"feedback to the command center (simulator): {pushed.idempotency_key} {pushed.state} after {pushed.attempts} attempt(s)")
        send_digest(gateway.mailer, gateway.routing, today, chase_after_h=gateway.settings.ack_chase_after_h)  # normally each morning for the day before; here at once, for today
        console.print(f"office digest (每日汇总) of {today} to {', '.join(office_recipients(gateway.routing))}: "
                      f"{gateway_outbox(run_dir)}digest-{today.isoformat()}.eml  ·  `gateway packets show P000001-urban` shows a packet and its send log "
                      f"(with GATEWAY_DATA_DIR={run_dir})")
        _office_users(gateway, console, server.url, run_dir)
    finally:
        server.stop()
        simulator.stop()
        gateway.close()
    return 0
