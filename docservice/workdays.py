"""Kazakh working days: weekends, public holidays and the government's transferred days.

Deadlines "within N working days" (a direction to report for work within 5
working days, service terms of the standards) are counted here. A day is a
working day unless it is a Saturday or Sunday, a public holiday or its observed
day off (``holidays.KZ``, observed days included: a holiday on a weekend moves
its day off to the next working day, Labour Code Art. 85), or a weekday the
government has declared a day off.

The government also moves days off each year by decree (a Saturday becomes a
working day so that a bridge day can be a day off). ``holidays`` has some of
those days off but never the weekend days that become working days, and a
decree for the coming year appears only late in the year, so transfers are
configuration, not code:

* ``DEFAULT_TRANSFERS`` below: the decrees known when this module was written;
* a file named by the environment variable ``DOCSERVICE_WORKDAY_TRANSFERS``
  (YAML or JSON), whose entries are added to the defaults::

      transfers:
        - {working: 2026-01-03, rest: 2026-01-09}   # Saturday worked, Friday off
        - {rest: 2026-12-31}                        # an extra day off by decree

  Either side of an entry may be left out. The file is re-read when it changes.

2026, as ``holidays`` 0.109 gives it: Constitution Day is gone from 2026 (the library
follows the new Constitution, which moves the holiday to 15 March from 2027), so Monday
31 August 2026, the observed day off for Sunday 30 August in earlier calendars, counts
as a working day. Lists published early in 2026 still showed it as a day off, and no 2026
transfer decree was found: an operator who learns otherwise adds ``{rest: 2026-08-31}``
to the transfers file (tested in ``tests/test_workdays.py``).

A period counted in days starts on the day after the event that starts it (the
Civil Code's general rule for periods): the 5th working day after the issue
date is the last day to report, the issue date itself does not count.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import holidays
import yaml

from docservice.errors import DocserviceError

ENV_VAR = "DOCSERVICE_WORKDAY_TRANSFERS"
SATURDAY = 5


@dataclass(frozen=True)
class Transfer:
    """One transfer of a government decree: a weekend day worked, a weekday off."""

    #: a Saturday or Sunday that becomes a working day
    working: dt.date | None = None
    #: a weekday that becomes a day off
    rest: dt.date | None = None


#: Transfers by government decree (the decrees the ``holidays`` package cites for
#: Kazakhstan). Years without an entry had no transfer or are not decreed yet.
DEFAULT_TRANSFERS: tuple[Transfer, ...] = (
    Transfer(working=dt.date(2021, 7, 3), rest=dt.date(2021, 7, 5)),
    Transfer(working=dt.date(2022, 3, 5), rest=dt.date(2022, 3, 7)),
    Transfer(working=dt.date(2022, 8, 27), rest=dt.date(2022, 8, 29)),
    Transfer(working=dt.date(2022, 10, 22), rest=dt.date(2022, 10, 24)),
    Transfer(working=dt.date(2023, 7, 1), rest=dt.date(2023, 7, 7)),
    Transfer(working=dt.date(2024, 5, 4), rest=dt.date(2024, 5, 8)),
    Transfer(working=dt.date(2025, 1, 5), rest=dt.date(2025, 1, 3)),
)


class TransferConfigError(DocserviceError, ValueError):
    """The transfers file cannot be read; a deadline must not be counted without it."""


class WorkCalendar:
    """Working days of Kazakhstan with a given set of transfers."""

    def __init__(self, transfers: Iterable[Transfer] = DEFAULT_TRANSFERS) -> None:
        self.transfers = tuple(transfers)
        self._working = {t.working for t in self.transfers if t.working}
        self._rest = {t.rest for t in self.transfers if t.rest}
        # observed=True is the default; said here because the rule depends on it
        self._holidays = holidays.country_holidays("KZ", observed=True)

    def is_working_day(self, day: dt.date) -> bool:
        """False on weekends, holidays and their observed days off, and decreed days off."""
        if day in self._working:  # a decree outranks the weekday rule
            return True
        if day in self._rest or day.weekday() >= SATURDAY:
            return False
        return day not in self._holidays

    def add_working_days(self, start: dt.date, count: int) -> dt.date:
        """The ``count``-th working day after ``start`` (``start`` itself not counted)."""
        if count < 1:
            raise ValueError("count must be at least 1")
        day = start
        while count:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                count -= 1
        return day


def _date(value: Any, where: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise TransferConfigError(f"{where}: not a date: {value!r}") from None


def load_transfers(path: Path) -> tuple[Transfer, ...]:
    """The transfers listed in ``path`` (YAML or JSON, see the module docstring)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise TransferConfigError(f"{path}: {exc}") from None
    entries = raw.get("transfers") if isinstance(raw, dict) else None
    if not isinstance(entries, list):
        raise TransferConfigError(f"{path}: expected a 'transfers' list")
    found = []
    for i, entry in enumerate(entries):
        where = f"{path}: transfers[{i}]"
        if not isinstance(entry, dict) or set(entry) - {"working", "rest"}:
            raise TransferConfigError(f"{where}: expected keys 'working' and/or 'rest'")
        transfer = Transfer(_date(entry.get("working"), where), _date(entry.get("rest"), where))
        if transfer.working is None and transfer.rest is None:
            raise TransferConfigError(f"{where}: empty entry")
        if transfer.working and transfer.working.weekday() < SATURDAY:
            raise TransferConfigError(f"{where}: {transfer.working} is not a Saturday or Sunday")
        found.append(transfer)
    return tuple(found)


@cache
def _calendar(path: str, mtime_ns: int) -> WorkCalendar:
    extra = load_transfers(Path(path)) if path else ()
    return WorkCalendar(DEFAULT_TRANSFERS + extra)


def default_calendar() -> WorkCalendar:
    """The defaults plus the file named by ``DOCSERVICE_WORKDAY_TRANSFERS``, if set."""
    path = os.environ.get(ENV_VAR, "")
    try:
        mtime = Path(path).stat().st_mtime_ns if path else 0
    except OSError as exc:
        raise TransferConfigError(f"{ENV_VAR}={path}: {exc}") from None
    return _calendar(path, mtime)


def add_working_days(start: dt.date, count: int, calendar: WorkCalendar | None = None) -> dt.date:
    """The ``count``-th working day after ``start`` in ``calendar`` (default: configured)."""
    return (calendar or default_calendar()).add_working_days(start, count)
