"""Routing configuration and rules, exactly: what a bad configuration is told, which workstations a work order goes to (mutmut's survivors of gateway/pipeline/routing_rules.py)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from gateway.errors import ConfigError
from gateway.pipeline.routing_rules import Committee, Rule, RoutingConfig, Workstation, parse_routing

PATH = Path("routing.yaml")


def _committee(cid: str, **extra: Any) -> dict[str, Any]:
    return {"id": cid, "name": f"{cid}委员会", "short": cid, "emails": [f"{cid}@zx.example"], **extra}


def _parse(data: dict[str, Any], prefix: tuple[Any, ...] = ()) -> RoutingConfig:
    return parse_routing(data, path=PATH, root=None, prefix=prefix)


def test_every_reference_problem_is_listed_with_its_place_and_the_known_committees() -> None:
    data = {"committees": [_committee("office"), _committee("urban"), _committee("urban")],
            "rules": [{"committee": "nobody", "categories": ["城乡建设"]}], "triage": "desk", "proposal_copy": "props"}
    with pytest.raises(ConfigError) as caught:
        _parse(data, prefix=("routing",))
    assert caught.value.detail == (
        "the routing configuration is not valid:\n"
        "routing.yaml:?: routing.committees.2.id: committee id 'urban' is used twice (known: office, urban)\n"
        "routing.yaml:?: routing.rules.0.committee: unknown committee 'nobody' (known: office, urban)\n"
        "routing.yaml:?: routing.triage: unknown committee 'desk' (known: office, urban)\n"
        "routing.yaml:?: routing.proposal_copy: unknown committee 'props' (known: office, urban)")


def test_a_configuration_without_proposal_copy_is_valid() -> None:
    config = _parse({"committees": [_committee("office")], "triage": "office"})
    assert config.proposal_copy is None and config.triage == "office"


def test_schema_errors_are_named_under_the_prefix_of_the_section() -> None:
    data = {"committees": [_committee("office", emails=["office-at-zx"])], "triage": "office"}
    with pytest.raises(ConfigError) as caught:
        _parse(data, prefix=("routing",))
    assert caught.value.detail == (
        "the configuration is not valid:\n"
        "routing.yaml:?: routing.committees.0.emails.0: Value error, 'office-at-zx' is not an e-mail address")


def test_email_addresses_are_kept_in_lower_case() -> None:
    config = _parse({"committees": [_committee("office", emails=["Office@ZX.Example"])], "triage": "office",
                     "office_emails": ["Desk@ZX.example"]})
    assert config.committees[0].emails == ["office@zx.example"]
    assert config.office_emails == ["desk@zx.example"]


STATIONS = Committee(id="urban", name="城建环保委员会", short="城建", emails=["urban@zx.example"], workstations=[
    "梨园镇委员工作站", "通州区政协委员之家",
    Workstation(name="教育界别活动组", sectors=["教育文体"]),
    Workstation(name="永顺活动组", streets=["永顺镇", "新华街道"]),
])


def test_a_plain_station_name_covers_the_streets_it_names() -> None:
    assert STATIONS.stations_for({"梨园镇"}, None) == ["梨园镇委员工作站"]


def test_structured_stations_are_chosen_by_street_or_sector() -> None:
    assert STATIONS.stations_for({"新华街道"}, None) == ["永顺活动组"]
    assert STATIONS.stations_for({"宋庄镇"}, "教育文体") == ["教育界别活动组"]
    assert STATIONS.stations_for({"永顺镇", "梨园镇"}, "教育文体") == ["梨园镇委员工作站", "教育界别活动组", "永顺活动组"]


def test_when_no_station_covers_the_place_all_of_them_get_it_by_name() -> None:
    assert STATIONS.stations_for({"宋庄镇"}, None) == ["梨园镇委员工作站", "通州区政协委员之家", "教育界别活动组", "永顺活动组"]
    assert STATIONS.stations_for(set(), "民政") == ["梨园镇委员工作站", "通州区政协委员之家", "教育界别活动组", "永顺活动组"]


def _config() -> RoutingConfig:
    return _parse({
        "committees": [_committee("office"), _committee("urban", workstations=["梨园镇委员工作站", {"name": "永顺活动组", "streets": ["永顺镇"]}]),
                       _committee("society", workstations=["民政活动组"])],
        "rules": [{"committee": "urban", "keywords": ["X", "积水"]}, {"committee": "society", "categories": ["民政 / 养老"]}],
        "triage": "office", "office_emails": ["desk@zx.example"],
    })


def test_an_unknown_committee_id_is_a_key_error_naming_it() -> None:
    with pytest.raises(KeyError) as caught:
        _config().committee("nobody")
    assert caught.value.args == ("nobody",)
    assert _config().committee("society").name == "society委员会"


def test_the_committee_of_a_workstation_is_found_by_its_name() -> None:
    config = _config()
    assert config.committee_of_workstation("梨园镇委员工作站") == "urban"
    assert config.committee_of_workstation("永顺活动组") == "urban"
    assert config.committee_of_workstation("民政活动组") == "society"
    assert config.committee_of_workstation("宋庄活动组") is None


def test_allowed_recipients_are_every_committee_address_and_the_office_addresses() -> None:
    assert _config().allowed_recipients() == {"office@zx.example", "urban@zx.example", "society@zx.example", "desk@zx.example"}


def test_a_keyword_rule_never_matches_a_work_order_routed_without_text() -> None:
    config = _config()
    assert config.route(["城乡建设"]) is None
    assert config.route(["城乡建设"], "门口积水") == "urban"


def test_category_levels_may_be_written_with_a_slash_or_an_angle_bracket() -> None:
    rule = Rule(committee="society", categories=["民政 / 养老", "劳动和社会保障>社会保险", "党务政务"])
    assert rule.prefixes() == [("民政", "养老"), ("劳动和社会保障", "社会保险"), ("党务政务",)]
    assert _config().route(["民政", "养老", "养老院"]) == "society"
    assert _config().route(["民政", "婚姻"]) is None


def test_a_rule_that_says_nothing_is_refused_with_why() -> None:
    with pytest.raises(ValidationError) as caught:
        Rule(committee="urban")
    assert [e["msg"] for e in caught.value.errors()] == ["Value error, a rule needs categories, keywords or streets"]
