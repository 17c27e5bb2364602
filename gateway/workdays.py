"""Working days (工作日) on the official Chinese calendar: statutory holidays and make-up working days (调休).

The chinese-calendar package carries the State Council's yearly notices. A year
it does not know yet (the notice comes out in November or December for the next
year) falls back to Monday–Friday, corrected by the override file, and says so:
a warning in the log and `gateway_calendar_fallback_days_total`. Never a crash.

Override file (YAML, `GATEWAY_CALENDAR_FILE` or the configuration file's
`calendar:` section), for days the package does not know or gets wrong:

    holidays: [2027-01-01, 2027-02-05, …]     # days off, even on a weekday
    workdays: [2027-02-14]                     # make-up working days (调休上班), even on a weekend
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
from pydantic import BaseModel, ConfigDict, Field

from gateway.errors import ConfigError

log = logging.getLogger(__name__)
DUE_WORKING_DAYS = 3  # seed 000 五(三)1: Table 1 within 3 working days after the activity


class CalendarOverrides(BaseModel):
    model_config = ConfigDict(extra="forbid")

    holidays: list[date] = Field(default_factory=list, description="Days off (statutory holidays), whatever the weekday.")
    workdays: list[date] = Field(default_factory=list, description="Make-up working days (调休上班), whatever the weekday.")


def load_overrides(path: Path) -> CalendarOverrides:
    from gateway.yamlconfig import load_yaml, validate_at

    if not path.is_file():
        raise ConfigError(f"GATEWAY_CALENDAR_FILE {path}: no such file")
    data, root = load_yaml(path)
    return validate_at(CalendarOverrides, data, path=path, root=root)


@dataclass
class WorkCalendar:
    overrides: CalendarOverrides = field(default_factory=CalendarOverrides)
    on_fallback: Callable[[int], None] | None = None  # told the year, each time a day is decided without official data
    _warned: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        both = set(self.overrides.holidays) & set(self.overrides.workdays)
        if both:
            raise ConfigError(f"calendar overrides: {', '.join(sorted(map(str, both)))} listed both as holiday and as working day")

    def is_workday(self, day: date) -> bool:
        if day in self.overrides.holidays:
            return False
        if day in self.overrides.workdays:
            return True
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            if day.year not in self._warned:
                self._warned.add(day.year)
                log.warning("the official calendar of %d is not known to chinese-calendar %s: counting Monday to Friday plus the "
                            "overrides in GATEWAY_CALENDAR_FILE; add that year's holidays and make-up days there", day.year, chinese_calendar.__version__)
            if self.on_fallback:
                self.on_fallback(day.year)
            return day.weekday() < 5

    def official(self, year: int) -> bool:
        """Whether the package has the State Council's notice for this year."""
        try:
            chinese_calendar.is_workday(date(year, 6, 1))
            return True
        except NotImplementedError:
            return False

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after `start` (start itself does not count, whatever it is)."""
        day, counted = start, 0
        while counted < n:
            day += timedelta(days=1)
            if self.is_workday(day):
                counted += 1
        return day

    def due_date(self, activity: date) -> date:
        return self.add_working_days(activity, DUE_WORKING_DAYS)
