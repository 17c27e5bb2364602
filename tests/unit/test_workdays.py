"""Due dates of Table 1s on the official calendar: holidays, make-up working days, a year not known yet."""
from __future__ import annotations

from datetime import date

import pytest

from gateway.workdays import CalendarOverrides, WorkCalendar

# (case, activity date, expected due date): 3 working days after the activity, on the State Council's 2026 calendar.
CASES = [
    ("National Day: Oct 1–7 off, Sat Oct 10 a make-up working day", date(2026, 9, 30), date(2026, 10, 10)),
    ("Spring Festival: Sat Feb 14 worked, Feb 15–23 off", date(2026, 2, 13), date(2026, 2, 25)),
    ("a make-up Sunday (Sep 20) counts, the Saturday before does not", date(2026, 9, 18), date(2026, 9, 22)),
    ("New Year 2026: Jan 1–3 off, Sun Jan 4 worked", date(2025, 12, 31), date(2026, 1, 6)),
    ("an ordinary week", date(2026, 11, 20), date(2026, 11, 25)),
    ("an activity held on a holiday counts from that day", date(2026, 10, 3), date(2026, 10, 10)),
]


@pytest.mark.parametrize(("case", "activity", "due"), CASES, ids=[c[0] for c in CASES])
def test_due_date_on_the_official_calendar(case: str, activity: date, due: date) -> None:
    assert WorkCalendar().due_date(activity) == due, case


def test_a_year_the_calendar_does_not_know_falls_back_to_weekdays_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    told: list[int] = []
    calendar = WorkCalendar(on_fallback=told.append)
    assert not calendar.official(2027)
    # Dec 31 (Thu) 1, Jan 1 2027 (Fri, counted as a weekday: no official data) 2, Jan 4 (Mon) 3.
    assert calendar.due_date(date(2026, 12, 30)) == date(2027, 1, 4)
    assert told and set(told) == {2027}
    assert "official calendar of 2027 is not known" in caplog.text


def test_the_override_file_corrects_an_unknown_year() -> None:
    calendar = WorkCalendar(CalendarOverrides(holidays=[date(2027, 1, 1)], workdays=[date(2027, 1, 9)]))
    assert calendar.due_date(date(2026, 12, 30)) == date(2027, 1, 5)
    assert calendar.is_workday(date(2027, 1, 9))  # a Saturday made a working day
    assert calendar.add_working_days(date(2027, 1, 7), 2) == date(2027, 1, 9)


def test_a_day_listed_both_ways_is_refused() -> None:
    from gateway.errors import ConfigError

    with pytest.raises(ConfigError, match="both as holiday and as working day"):
        WorkCalendar(CalendarOverrides(holidays=[date(2027, 1, 1)], workdays=[date(2027, 1, 1)]))
