"""The `gateway` command as a user runs it."""
from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.helpers.processes import gateway_env, gateway_process
from tests.helpers.smtp import free_port


def run(*args: str, cwd: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gateway.cli", *args], cwd=cwd, env=gateway_env(**settings), capture_output=True, text=True, timeout=120)


def test_help_explains_every_command(tmp_path: Path) -> None:
    result = run("--help", cwd=tmp_path)
    assert result.returncode == 0
    for command in ("run", "api", "worker", "demo", "db", "schema"):
        assert f"    {command}" in result.stdout
    assert "GATEWAY_CONFIG" in result.stdout
    assert "--port" in run("run", "--help", cwd=tmp_path).stdout


def test_run_in_an_empty_folder_uses_bundled_routing_and_creates_its_database(tmp_path: Path) -> None:
    port = free_port()
    with gateway_process("run", "--port", str(port), cwd=tmp_path, env=gateway_env()) as process:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    assert json.load(response)["status"] == "ok"
                    break
            except OSError:
                assert process.poll() is None, "gateway run exited"
                assert time.monotonic() < deadline, "gateway run did not listen within 60 s"
                time.sleep(0.3)
    assert (tmp_path / "gateway-data" / "gateway.db").exists()
    assert process.returncode == 0  # SIGTERM is a clean stop
    output = (tmp_path / "gateway-run.log").read_text(encoding="utf-8")
    assert "no client keys configured" in output


def test_a_bad_routing_configuration_stops_the_gateway_naming_the_line(tmp_path: Path) -> None:
    (tmp_path / "routing.yaml").write_text(
        "committees:\n  - id: office\n    name: 区政协办公室\n    short: 办公室\n    emails: [office@zx.example]\n"
        "rules:\n  - committee: urban\n    categories: [城乡建设]\ntriage: office\n",
        encoding="utf-8",
    )
    (tmp_path / "gateway.yaml").write_text("routing: routing.yaml\n", encoding="utf-8")
    result = run("run", "--port", str(free_port()), cwd=tmp_path)
    assert result.returncode == 2
    assert "routing.yaml:7: rules.0.committee: unknown committee 'urban'" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_smtp_url_is_explained(tmp_path: Path) -> None:
    result = run("run", cwd=tmp_path, smtp_url="http://mail.example:25")
    assert result.returncode == 2 and "smtp+starttls://" in result.stderr


def test_db_upgrade_and_current(tmp_path: Path) -> None:
    from gateway.db.migrate import head

    assert head() == "0015"
    assert f"revision {head()}" in run("db", "upgrade", cwd=tmp_path).stdout
    assert run("db", "current", cwd=tmp_path).stdout.strip() == head()


def test_worker_without_a_broker_says_what_to_do(tmp_path: Path) -> None:
    run("db", "upgrade", cwd=tmp_path)
    result = run("worker", cwd=tmp_path)
    assert result.returncode == 2 and "GATEWAY_BROKER_URL" in result.stderr


def test_scheduler_without_a_broker_says_what_to_do_and_with_one_serves_metrics(tmp_path: Path) -> None:
    import uuid

    import pytest

    from tests.helpers.services import REDIS_URL, need

    result = run("scheduler", cwd=tmp_path)
    assert result.returncode == 2 and "`gateway scheduler` is part of a distributed deployment" in result.stderr
    need("Redis", 6379)
    port = free_port()
    env = gateway_env(data_dir=str(tmp_path), broker_url=REDIS_URL, queue_prefix="sched-" + uuid.uuid4().hex[:6])
    with gateway_process("scheduler", "--port", str(port), cwd=tmp_path, env=env):
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as response:
                    ready = json.load(response)
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("the scheduler did not answer /readyz in 30 s")
                time.sleep(0.3)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            metrics = response.read().decode()
        with pytest.raises(urllib.error.HTTPError) as refused:  # no API here
            urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/reports", data=b"{}"), timeout=5)
        refused.value.close()
    assert ready["status"] == "ready" and ready["checks"]["broker"]["detail"].startswith("reachable")
    assert 'gateway_queue_depth{queue="normalize_report"} 0.0' in metrics
    assert refused.value.code == 404


def test_schema_writes_json_schemas_of_the_wire_formats(tmp_path: Path) -> None:
    result = run("schema", "--out", "schemas", cwd=tmp_path)
    assert result.returncode == 0
    report = json.loads((tmp_path / "schemas" / "report.schema.json").read_text(encoding="utf-8"))
    assert set(report["properties"]) >= {"report_id", "kind", "period", "records"}
    assert report["$defs"]["WorkOrderRecord"]["required"] == ["ticket_no", "received_at", "content"]
