from pathlib import Path

import pytest

from gateway.errors import ConfigError
from gateway.pipeline.routing_rules import bundled_routing_path, load_routing
from gateway.settings import load_config

BUNDLED = bundled_routing_path().read_text(encoding="utf-8")


def test_bundled_routing_routes_every_first_level_category_of_domain_md() -> None:
    routing = load_routing(bundled_routing_path())
    expected = {
        "城乡建设": "urban", "环境保护": "urban", "交通运输": "urban", "国土资源": "urban",
        "经济管理": "economy", "商贸旅游": "economy", "科技与信息产业": "economy",
        "农村农业": "agriculture", "教育文体": "education", "卫生计生": "education",
        "劳动和社会保障": "society", "民政": "society", "政法": "society", "党务政务": "office",
    }
    assert {cat: routing.route([cat, "x"]) for cat in expected} == expected
    assert routing.route(["纪检监察"]) is None
    assert routing.triage == "office" and routing.proposal_copy == "proposals"


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


def test_unknown_committee_in_a_rule_is_refused_with_its_line(tmp_path: Path) -> None:
    text = BUNDLED.replace("  - committee: economy\n", "  - committee: economics\n")
    path = tmp_path / "routing.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_routing(path)
    assert f"{path}:{_line_of(text, 'committee: economics')}: rules.2.committee: unknown committee 'economics'" in caught.value.detail


def test_bad_email_address_is_refused_with_its_line(tmp_path: Path) -> None:
    text = BUNDLED.replace("emails: [jingji@zhengxie.example]", "emails: [jingji-at-zhengxie]")
    path = tmp_path / "routing.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_routing(path)
    assert f"{path}:{_line_of(text, 'jingji-at-zhengxie')}: committees.1.emails.0" in caught.value.detail
    assert "not an e-mail address" in caught.value.detail


def test_routing_inside_the_main_configuration_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "gateway.yaml"
    config.write_text(
        "settings:\n  queue_prefix: tz\nclients:\n  - key_id: tz\n    secrets: [abcdefghijklmnopqrstu]\n"
        "routing:\n  committees:\n    - id: office\n      name: 区政协办公室\n      short: 办公室\n      emails: [office@zx.example]\n"
        "  triage: office\n  rules:\n    - committee: nobody\n      categories: [城乡建设]\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("GATEWAY_CONFIG", str(config))
    with pytest.raises(ConfigError, match=rf"{config}:14: routing.rules.0.committee: unknown committee 'nobody'"):
        load_config()


def test_environment_wins_over_the_file_and_keys_add_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "gateway.yaml"
    config.write_text("settings:\n  queue_prefix: from-file\n  worker_threads: 3\nclients:\n  - key_id: a\n    secrets: [aaaaaaaaaaaaaaaaaaaa]\n", encoding="utf-8")
    monkeypatch.setenv("GATEWAY_CONFIG", str(config))
    monkeypatch.setenv("GATEWAY_QUEUE_PREFIX", "from-env")
    monkeypatch.setenv("GATEWAY_CLIENT_KEYS", "b:bbbbbbbbbbbbbbbbbbbb")
    loaded = load_config()
    assert loaded.settings.queue_prefix == "from-env"
    assert loaded.settings.worker_threads == 3
    assert sorted(loaded.clients) == ["a", "b"]


def test_short_client_secret_in_the_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_CLIENT_KEYS", "cc:short")
    with pytest.raises(ConfigError, match="at least 16 characters"):
        load_config()


def test_screening_patterns_from_the_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gateway.pipeline.screening import Screening

    config = tmp_path / "gateway.yaml"
    config.write_text("screening:\n  patterns:\n    - {reason: secret, pattern: '涉密|内部文件'}\n", encoding="utf-8")
    monkeypatch.setenv("GATEWAY_CONFIG", str(config))
    loaded = load_config()
    screening = Screening([(p.reason, p.pattern) for p in loaded.screening.patterns])
    assert screening.screen([], ["城乡建设"], "这份内部文件说明了情况") == "secret"
    assert screening.screen([], ["城乡建设"], "路灯不亮") is None
    assert screening.screen(["real_name_report"], ["城乡建设"], "内部文件") == "real_name_report"  # flags first


def test_a_bad_screening_pattern_is_refused_with_its_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "gateway.yaml"
    config.write_text("screening:\n  patterns:\n    - {reason: secret, pattern: '涉密'}\n    - {reason: gossip, pattern: '(unclosed'}\n", encoding="utf-8")
    monkeypatch.setenv("GATEWAY_CONFIG", str(config))
    with pytest.raises(ConfigError) as caught:
        load_config()
    assert f"{config}:4: screening.patterns.1.reason" in caught.value.detail
    assert f"{config}:4: screening.patterns.1.pattern" in caught.value.detail


def test_a_rule_with_streets_does_not_match_another_street() -> None:
    from gateway.pipeline.routing_rules import Rule

    rule = Rule(committee="urban", categories=["城乡建设"], streets=["梨园镇", "永顺镇"])
    flood = ("城乡建设", "城市建设和市政管理", "道路积水")
    assert rule.matches(flood, "门口积水", "梨园镇") and rule.matches(flood, "门口积水", "永顺镇")
    assert not rule.matches(flood, "门口积水", "宋庄镇")
    assert not rule.matches(flood, "门口积水", None)  # a rule for some streets does not take an order of unknown place
    assert not rule.matches(("教育文体",), "门口积水", "梨园镇")  # and its other conditions still hold
    streets_only = Rule(committee="agriculture", streets=["宋庄镇"])
    assert streets_only.matches(("教育文体",), "", "宋庄镇") and not streets_only.matches(("教育文体",), "", "梨园镇")


def test_a_street_rule_before_a_general_one_takes_only_its_streets(tmp_path: Path) -> None:
    text = BUNDLED.replace("rules:\n", "rules:\n  - committee: agriculture\n    categories: [城乡建设]\n    streets: [宋庄镇, 漷县镇]\n", 1)
    path = tmp_path / "routing.yaml"
    path.write_text(text, encoding="utf-8")
    routing = load_routing(path)
    flood = ["城乡建设", "城市建设和市政管理", "道路积水"]
    assert routing.route(flood, "门口积水", "宋庄镇") == "agriculture"
    assert routing.route(flood, "门口积水", "漷县镇") == "agriculture"
    assert routing.route(flood, "门口积水", "梨园镇") == "urban"
    assert routing.route(flood, "门口积水", None) == "urban"
