"""Which committee gets which clue: the routing configuration and its rules.

Rules are ordered and the first match wins (as Amsterdam/signals routes
signals). A rule matches a work order whose category path starts with one of
its category prefixes.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from gateway.errors import ConfigError
from gateway.yamlconfig import line_of, load_yaml, validate_at

_ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")


def _email(value: str) -> str:
    if not _ADDRESS.fullmatch(value):  # fullmatch: "$" alone lets a trailing line break through
        raise ValueError(f"{value!r} is not an e-mail address")
    return value.lower()


EmailAddress = Annotated[str, AfterValidator(_email)]
SLUG = r"^[a-z][a-z0-9_-]*$"

CLUE_TYPES = {
    "proposal": "提案线索",
    "public_opinion": "社情民意信息线索",
    "consultation_topic": "协商议事备选议题",
}


class Workstation(BaseModel):
    """A member workstation or activity group (委员工作站（室）/地区活动组/界别活动组) and what it covers."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1)]
    streets: list[str] = Field(default_factory=list, description="Places it covers (a regional station or group).")
    sectors: list[str] = Field(default_factory=list, description="First-level categories it covers (a sector group).")


class Committee(BaseModel):
    """A committee of the CPPCC (委室/专委会) and where its clue packets go."""

    model_config = ConfigDict(extra="forbid")

    id: Annotated[str, Field(pattern=SLUG)]
    # In every packet's subject and the digest: one line, no control characters (a line break would stop the mail).
    name: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$")]
    short: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[^\x00-\x1f\x7f]+$")]
    emails: Annotated[list[EmailAddress], Field(min_length=1)]
    workstations: list[str | Workstation] = Field(default_factory=list)

    def stations_for(self, streets: set[str], sector: str | None) -> list[str]:
        """By place first, then by sector; a plain name covers the streets it names; otherwise all of them."""
        chosen = []
        for station in self.workstations:
            if isinstance(station, str):
                if any(s in station for s in streets):
                    chosen.append(station)
            elif streets & set(station.streets) or (sector and sector in station.sectors):
                chosen.append(station.name)
        return chosen or [s if isinstance(s, str) else s.name for s in self.workstations]


class Rule(BaseModel):
    """Category prefixes, keywords in the text, places: all that are given must match. First matching rule wins."""

    model_config = ConfigDict(extra="forbid")

    committee: str
    categories: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    streets: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _says_something(self) -> "Rule":
        if not (self.categories or self.keywords or self.streets):
            raise ValueError("a rule needs categories, keywords or streets")
        return self

    def prefixes(self) -> list[tuple[str, ...]]:
        return [tuple(p.strip() for p in re.split(r"[/>]", c) if p.strip()) for c in self.categories]

    @functools.cached_property
    def _prefixes(self) -> list[tuple[str, ...]]:
        return self.prefixes()  # read for every work order of every report: split once

    def matches(self, category: tuple[str, ...], text: str, street: str | None) -> bool:
        if self.categories and not any(prefix and category[: len(prefix)] == prefix for prefix in self._prefixes):
            return False
        if self.keywords and not any(word in text for word in self.keywords):
            return False
        return not self.streets or street in self.streets


class ClueTypeThresholds(BaseModel):
    """How a topic becomes a clue, and of which type (docs/decisions.md, "Clues and packets")."""

    model_config = ConfigDict(extra="forbid")

    min_work_orders: int = Field(2, ge=1, description="A smaller topic is no clue (its work orders are still routed); urgent reports excepted.")
    consultation_topic_min: int = Field(10, ge=1, description="协商议事备选议题: at least this many work orders …")
    concentration: float = Field(0.5, gt=0, le=1, description="… with at least this share in one street or town.")
    proposal_min: int = Field(5, ge=1, description="提案线索: at least this many work orders …")
    systemic_min_streets: int = Field(3, ge=2, description="… spread over at least this many streets or towns.")
    rising_ratio: float = Field(1.5, ge=1, description="社情民意信息线索: new, or this many times the previous period's count.")


class RoutingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    committees: Annotated[list[Committee], Field(min_length=1)]
    rules: list[Rule] = Field(default_factory=list)
    triage: str = Field(description="Committee that receives what no rule routes (the office).")
    proposal_copy: str | None = Field(None, description="Committee that gets every 提案线索 in copy.")
    office_emails: list[EmailAddress] = Field(default_factory=list)
    clue_types: ClueTypeThresholds = Field(default_factory=ClueTypeThresholds)

    def committee(self, committee_id: str) -> Committee:
        for committee in self.committees:
            if committee.id == committee_id:
                return committee
        raise KeyError(committee_id)

    def committee_of_workstation(self, name: str) -> str | None:
        """The committee whose workstations include this one (by name), if any."""
        for committee in self.committees:
            for station in committee.workstations:
                if (station if isinstance(station, str) else station.name) == name:
                    return committee.id
        return None

    def allowed_recipients(self) -> set[str]:
        return {addr for c in self.committees for addr in c.emails} | set(self.office_emails)

    def route(self, category: Sequence[str], text: str = "", street: str | None = None) -> str | None:
        """The committee id for a work order, or None when no rule matches (then: triage)."""
        path = tuple(category)
        for rule in self.rules:
            if rule.matches(path, text, street):
                return rule.committee
        return None


def _check_references(config: RoutingConfig, path: Path, root: yaml.Node | None, prefix: tuple[Any, ...]) -> None:
    known = {c.id for c in config.committees}
    problems = []
    seen: set[str] = set()
    for i, committee in enumerate(config.committees):
        if committee.id in seen:
            problems.append((("committees", i, "id"), f"committee id {committee.id!r} is used twice"))
        seen.add(committee.id)
    for i, rule in enumerate(config.rules):
        if rule.committee not in known:
            problems.append((("rules", i, "committee"), f"unknown committee {rule.committee!r}"))
    for field in ("triage", "proposal_copy"):
        value = getattr(config, field)
        if value is not None and value not in known:
            problems.append(((field,), f"unknown committee {value!r}"))
    if problems:
        lines = [
            f"{path}:{line_of(root, prefix + loc)}: {'.'.join(map(str, prefix + loc))}: {msg} (known: {', '.join(sorted(known))})"
            for loc, msg in problems
        ]
        raise ConfigError("the routing configuration is not valid:\n" + "\n".join(lines))


def parse_routing(data: Any, *, path: Path, root: yaml.Node | None, prefix: tuple[Any, ...] = ()) -> RoutingConfig:
    config = validate_at(RoutingConfig, data, path=path, root=root, prefix=prefix)
    _check_references(config, path, root, prefix)
    return config


def load_routing(path: Path) -> RoutingConfig:
    data, root = load_yaml(path)
    return parse_routing(data, path=path, root=root)


def bundled_routing_path() -> Path:
    return Path(__file__).resolve().parents[1] / "defaults" / "routing.yaml"
