"""Places: district, street or town (街道/乡镇), community or village (社区/村), read from the fields or found in the text."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "defaults" / "gazetteer.yaml"


@dataclass(frozen=True)
class Place:
    district: str | None
    street: str | None
    community: str | None
    resolved_from_text: bool = False


class Gazetteer:
    def __init__(self, district: str | None, streets: dict[str, list[str]]) -> None:
        self.district = district
        self.streets = streets
        self.street_of_community: dict[str, str] = {}
        ambiguous = set()
        for street, communities in streets.items():
            for community in communities:
                if community in self.street_of_community:
                    ambiguous.add(community)
                self.street_of_community[community] = street
        for community in ambiguous:
            del self.street_of_community[community]
        self._street_names = sorted(streets, key=len, reverse=True)
        self._community_names = sorted(self.street_of_community, key=len, reverse=True)

    @classmethod
    def load(cls, path: Path | None = None) -> "Gazetteer":
        data: dict[str, Any] = yaml.safe_load((path or DEFAULT_PATH).read_text(encoding="utf-8")) or {}
        return cls(data.get("district"), {str(k): [str(c) for c in (v or [])] for k, v in (data.get("streets") or {}).items()})

    def resolve(self, district: str | None, street: str | None, community: str | None, *texts: str | None) -> Place:
        """The fields as sent, completed from the address and the complaint text where they are missing."""
        from_text = False
        haystack = " ".join(t for t in texts if t)
        if community is None:
            community = next((c for c in self._community_names if c in haystack), None)
            # A community named without its suffix ("云景里小区" for 云景里社区)
            if community is None:
                community = next((c for c in self._community_names if len(c) > 3 and c[:-2] in haystack and (c.endswith("社区"))), None)
            from_text = community is not None
        if street is None:
            street = self.street_of_community.get(community or "") or next((s for s in self._street_names if s in haystack), None)
            from_text = from_text or street is not None
        if district is None and (street in self.streets or community in self.street_of_community):
            district = self.district
        return Place(district, street, community, from_text)
