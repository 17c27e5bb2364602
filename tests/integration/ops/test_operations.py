"""What operators rely on: alert rules proven with promtool, the dashboard, a real Prometheus scrape, readiness, logs."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from gateway.bootstrap import bootstrap
from ops.chaos.crash import wait_until_up
from tests.helpers import CLIENT_KEY_ID, CLIENT_SECRET
from tests.helpers.gateway import running_gateway
from tests.helpers.processes import gateway_env, gateway_process
from tests.helpers.reports import CALLER_NAME, CALLER_PHONE, call, wait_for_state, weekly
from tests.helpers.services import required
from tests.helpers.smtp import SmtpServer, free_port

OPS = Path(__file__).resolve().parents[3] / "ops"


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        message = f"{name} is not installed; install Debian's prometheus package: apt-get install -y prometheus"
        if required():
            pytest.fail(message + " (GATEWAY_REQUIRE_SERVICES=1 makes this a failure)")
        pytest.skip(message)
    return found


def test_alert_rules_are_valid_and_their_unit_tests_pass() -> None:
    promtool = _tool("promtool")
    checked = subprocess.run([promtool, "check", "rules", "gateway-rules.yml"], cwd=OPS / "prometheus", capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0 and "SUCCESS: 11 rules found" in checked.stdout, checked.stdout + checked.stderr
    tested = subprocess.run([promtool, "test", "rules", "gateway-rules.test.yml"], cwd=OPS / "prometheus", capture_output=True, text=True, timeout=120)
    assert tested.returncode == 0 and "SUCCESS" in tested.stdout, tested.stdout + tested.stderr
    # Every alert of the file has a test that sees it fire.
    alerts = set(re.findall(r"- alert: (\w+)", (OPS / "prometheus" / "gateway-rules.yml").read_text()))
    fired = set(re.findall(r"alertname: (\w+)\n\s+exp_alerts:\n\s+- exp_labels", (OPS / "prometheus" / "gateway-rules.test.yml").read_text()))
    assert alerts == fired, f"alerts without a firing test: {alerts - fired}"


def _exported_names(text: str) -> set[str]:
    names = set()
    for match in re.finditer(r"^# TYPE (\S+) (\w+)$", text, re.M):
        name, kind = match.groups()
        names.add(name)
        suffixes = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count", "_created"), "summary": ("_sum", "_count")}
        names.update(name.removesuffix("_total") + s for s in suffixes.get(kind, ()))
    return names


def test_dashboard_is_valid_and_every_query_names_an_exported_metric(tmp_path: Path) -> None:
    dashboard = json.loads((OPS / "grafana" / "gateway-dashboard.json").read_text(encoding="utf-8"))
    queries = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    assert len(queries) >= 20
    gateway = bootstrap(data_dir=tmp_path)
    try:
        exported = _exported_names(gateway.metrics.exposition().decode()) | {"up"}
    finally:
        gateway.close()
    used = {name for q in queries for name in re.findall(r"\b(gateway_[a-z0-9_]+|up)\b", q)}
    assert used and used <= exported, f"not exported by the gateway: {sorted(used - exported)}"
    # The SLAs of the issue each have a panel.
    for metric in ("gateway_urgent_undelivered_oldest_age_seconds", "gateway_sync_last_success_timestamp_seconds", "gateway_table1",
                   "gateway_feedback_pushes_total", "gateway_deliveries_total", "gateway_dead_letters", "gateway_queue_depth"):
        assert metric in used, metric


def _prom_query(base: str, query: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{base}/api/v1/query?{urllib.parse.urlencode({'query': query})}", timeout=10) as response:
        body = json.load(response)
    assert body["status"] == "success", body
    return body["data"]["result"]  # type: ignore[no-any-return]


def test_a_real_prometheus_scrapes_the_gateway(tmp_path: Path, smtp: SmtpServer) -> None:
    prometheus = _tool("prometheus")
    with running_gateway(tmp_path / "gw", smtp_url=smtp.url) as (_, server):
        port = free_port()
        target = server.url.split("//")[1]
        config = tmp_path / "prometheus.yml"
        config.write_text(
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
            f"rule_files: ['{OPS / 'prometheus' / 'gateway-rules.yml'}']\n"
            f"scrape_configs:\n  - job_name: gateway\n    static_configs: [{{targets: ['{target}']}}]\n", encoding="utf-8")
        log = open(tmp_path / "prometheus.log", "w")
        process = subprocess.Popen([prometheus, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
                                    f"--web.listen-address=127.0.0.1:{port}"], stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            assert call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "push_report", weekly()).status == 202
            wait_for_state(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "TZ-2026-W47")
            deadline = time.monotonic() + 60
            received: list[dict[str, Any]] = []
            while time.monotonic() < deadline:
                try:
                    received = _prom_query(base, "gateway_reports_received_total")
                    routed = _prom_query(base, "sum(gateway_received_to_routed_seconds_count)")
                    clues = _prom_query(base, "sum by (committee, type) (gateway_clues_total)")
                    up = _prom_query(base, 'up{job="gateway"}')
                except OSError:
                    received = []
                if received and routed and float(routed[0]["value"][1]) >= 1:
                    break
                time.sleep(0.5)
            with urllib.request.urlopen(f"{base}/api/v1/rules", timeout=10) as response:
                rules = json.load(response)["data"]["groups"][0]["rules"]
        finally:
            process.terminate()
            process.wait(30)
            log.close()
    print("Prometheus query gateway_reports_received_total:", json.dumps(received, ensure_ascii=False))
    assert received, (tmp_path / "prometheus.log").read_text()[-2000:]
    (series,) = received
    assert series["metric"]["client"] == CLIENT_KEY_ID and series["metric"]["kind"] == "weekly" and float(series["value"][1]) == 1
    assert float(up[0]["value"][1]) == 1
    assert {(c["metric"]["committee"], c["metric"]["type"]) for c in clues} >= {("urban", "public_opinion"), ("education", "proposal")}
    assert len(rules) == 11 and all(r["health"] == "ok" for r in rules)


def test_readiness_names_what_is_missing(tmp_path: Path, smtp: SmtpServer) -> None:
    def readyz(url: str) -> tuple[int, dict[str, Any]]:
        try:
            with urllib.request.urlopen(url + "/readyz", timeout=15) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as exc:
            return exc.code, json.load(exc)

    with running_gateway(tmp_path / "ok", smtp_url=smtp.url) as (_, server):
        status, body = readyz(server.url)
    assert status == 200 and body["status"] == "ready"
    assert body["checks"]["database"]["detail"].startswith("reachable, schema") and body["checks"]["mail"]["ok"]
    with running_gateway(tmp_path / "down", smtp_url=f"smtp://127.0.0.1:{free_port()}") as (_, server):
        status, body = readyz(server.url)
        alive = urllib.request.urlopen(server.url + "/healthz", timeout=10).status
    assert status == 503 and body["status"] == "not ready" and alive == 200
    assert body["checks"]["mail"]["ok"] is False and "cannot use the mail server" in body["checks"]["mail"]["detail"]
    assert body["checks"]["database"]["ok"] and body["checks"]["broker"] == {"ok": True, "detail": "in-process"}


def test_json_logs_carry_the_ids_and_never_personal_data(tmp_path: Path, smtp: SmtpServer) -> None:
    port = free_port()
    env = gateway_env(data_dir=str(tmp_path / "gw"), client_keys=f"{CLIENT_KEY_ID}:{CLIENT_SECRET}", smtp_url=smtp.url,
                      log_format="json", log_level="INFO", pull_schedule="", digest_schedule="")
    with gateway_process("run", "--port", str(port), cwd=tmp_path, env=env) as process:
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url)
        call(url, CLIENT_KEY_ID, CLIENT_SECRET, "push_report", weekly())
        wait_for_state(url, CLIENT_KEY_ID, CLIENT_SECRET, "TZ-2026-W47")
        process.terminate()
        process.wait(20)
    text = (tmp_path / "gateway-run.log").read_text(encoding="utf-8")
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    received = [line for line in lines if line["message"] == "report received"]
    assert received and received[0]["report_id"] == "TZ-2026-W47" and received[0]["ticket_count"] == 10
    assert any(line.get("packet_id", "").startswith("P000001-") and "job_id" in line and line.get("actor") == "deliver_packet" for line in lines)
    assert any(line.get("report_id") == "TZ-2026-W47" and line["message"].startswith("report routed") for line in lines)
    assert CALLER_PHONE not in text and CALLER_NAME not in text


def test_log_lines_are_masked_even_when_code_slips() -> None:
    import logging

    from gateway.ops.logs import JsonFormatter, TextFormatter

    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "caller 13812345678 id 11010519491231002X card 6222021234567890123 ticket 2611160000001", None, None)
    for formatter in (JsonFormatter(), TextFormatter()):
        line = formatter.format(record)
        assert "13812345678" not in line and "11010519491231002X" not in line and "6222021234567890123" not in line
        assert "2611160000001" in line  # ticket numbers stay: operators need them
