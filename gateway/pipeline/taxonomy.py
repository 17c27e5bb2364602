"""The category taxonomy (一级/二级/三级分类) and the mapping of what the command center sends onto it."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

DEFAULTS = Path(__file__).resolve().parents[1] / "defaults"
# Words the command center uses for a level the taxonomy names otherwise.
DEFAULT_SYNONYMS = {
    "市政设施": "城市建设和市政管理", "市政管理": "城市建设和市政管理", "市容环境": "城市建设和市政管理",
    "环保": "环境保护", "交通": "交通运输", "社保": "劳动和社会保障", "劳动保障": "劳动和社会保障",
    "医疗卫生": "卫生计生", "卫生健康": "卫生计生", "教育文化": "教育文体", "农业农村": "农村农业",
    "三农": "农村农业", "商务": "商贸旅游", "市场监管": "经济管理", "住房": "城乡建设", "公安": "政法",
    # the first levels of a Beijing 12345 platform's own taxonomy
    "企业服务": "经济管理", "科体文宣": "教育文体", "民政事务": "民政", "教育": "教育文体", "交通管理": "交通运输",
    "退役军人事务": "民政", "违纪举报": "纪检监察", "城市管理": "城乡建设", "生态环境": "环境保护", "公共安全": "政法",
    "文化旅游": "商贸旅游", "农林水务": "农村农业", "医疗卫生健康": "卫生计生", "住房和城乡建设": "城乡建设",
}
MEANINGLESS = {"其他", "其它", "未分类", "无", "-", "/"}


@dataclass(frozen=True)
class MappedCategory:
    path: list[str]          # canonical where known, the sender's words below that
    mapped_levels: int       # how many leading levels are taxonomy names
    unmapped: list[str]      # the sender's levels that are not (counted in the metrics)

    @property
    def empty(self) -> bool:
        return not self.path


class Taxonomy:
    def __init__(self, rows: list[tuple[str, str, str]], synonyms: dict[str, str] | None = None) -> None:
        self.level1: set[str] = set()
        self.level2: dict[str, set[str]] = {}
        self.level3: dict[tuple[str, str], set[str]] = {}
        self.parent_of_level2: dict[str, set[str]] = {}
        for l1, l2, l3 in rows:
            self.level1.add(l1)
            self.level2.setdefault(l1, set()).add(l2)
            self.level3.setdefault((l1, l2), set()).add(l3)
            self.parent_of_level2.setdefault(l2, set()).add(l1)
        self.synonyms = dict(DEFAULT_SYNONYMS if synonyms is None else synonyms)

    def vocabulary(self) -> set[str]:
        """Every category name of every level (a user dictionary for word segmentation)."""
        names = set(self.level1) | {n for ns in self.level2.values() for n in ns} | {n for ns in self.level3.values() for n in ns}
        return {n for n in names if n}

    @classmethod
    def load(cls, path: Path | None = None, synonyms: dict[str, str] | None = None) -> "Taxonomy":
        with (path or DEFAULTS / "taxonomy.csv").open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            next(reader, None)
            rows = [(r[0].strip(), r[1].strip(), r[2].strip()) for r in reader if len(r) >= 3]
        return cls(rows, synonyms)

    def _canon(self, name: str) -> str:
        return self.synonyms.get(name, name)

    def map(self, levels: list[str]) -> MappedCategory:
        given = [level for level in levels if level and level not in MEANINGLESS]
        if not given:
            return MappedCategory([], 0, [])
        first = self._canon(given[0])
        if first in self.level1:
            path, rest = [first], given[1:]
        elif len(self.parent_of_level2.get(first, ())) == 1:
            # Only a second level was sent ("物业管理"): its first level is known.
            (parent,) = self.parent_of_level2[first]
            path, rest = [parent, first], given[1:]
        else:
            return MappedCategory(given, 0, given)
        mapped = len(path)
        if len(path) == 1 and rest:
            second = self._canon(rest[0])
            if second in self.level2.get(path[0], ()):
                path.append(second)
                rest = rest[1:]
                mapped += 1
        if len(path) == 2 and rest and self._canon(rest[0]) in self.level3.get((path[0], path[1]), ()):
            path.append(self._canon(rest[0]))
            rest = rest[1:]
            mapped += 1
        return MappedCategory(path + rest, mapped, rest)
