"""How a report's period is named in Chinese office writing."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

KIND_NAMES = {
    "weekly": "周报",
    "monthly": "月报",
    "express": "快报",
    "special": "专报",
    "urgent": "突发性重点问题",
}


def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def period_label(kind: str, period_start: date | None, issued_at: datetime | None) -> str:
    """2026年第47周 / 2026年11月 / 快报（2026年11月23日）."""
    if kind == "weekly" and period_start is not None:
        year, week, _ = period_start.isocalendar()
        return f"{year}年第{week}周"
    if kind == "monthly" and period_start is not None:
        return f"{period_start.year}年{period_start.month}月"
    day = (issued_at.astimezone(SHANGHAI).date() if issued_at else period_start) or date.today()
    return f"{KIND_NAMES.get(kind, kind)}（{chinese_date(day)}）"
