"""Kazakh working days: weekends, holidays with their observed days, configured transfers."""

from __future__ import annotations

import datetime as dt

import pytest

from docservice.workdays import (
    DEFAULT_TRANSFERS,
    ENV_VAR,
    Transfer,
    TransferConfigError,
    WorkCalendar,
    add_working_days,
    default_calendar,
    load_transfers,
)

D = dt.date


@pytest.fixture
def calendar() -> WorkCalendar:
    return WorkCalendar(())


@pytest.mark.parametrize(
    "day",
    [
        D(2026, 3, 21),
        D(2026, 3, 22),  # Nauryz on the weekend
        D(2026, 3, 23),  # Nauryz, Monday
        D(2026, 3, 24),
        D(2026, 3, 25),  # its observed days off
        D(2026, 1, 1),
        D(2026, 1, 2),
        D(2026, 1, 7),
        D(2026, 3, 9),  # 8 March was a Sunday
        D(2026, 12, 16),
    ],
)
def test_holidays_and_observed_days_off_are_not_working_days(calendar, day):
    assert not calendar.is_working_day(day)


@pytest.mark.parametrize("day", [D(2026, 3, 19), D(2026, 3, 20), D(2026, 3, 26)])
def test_ordinary_weekdays_are_working_days(calendar, day):
    assert calendar.is_working_day(day)


def test_the_count_starts_the_day_after_and_skips_weekends(calendar):
    assert calendar.add_working_days(D(2026, 2, 2), 5) == D(2026, 2, 9)  # Mon -> next Mon
    assert calendar.add_working_days(D(2026, 2, 6), 1) == D(2026, 2, 9)  # Fri -> Mon


def test_five_working_days_from_19_march_2026_skip_nauryz(calendar):
    # Fri 20 is day 1; 21-25 March are Nauryz and its observed days; then 26, 27, 30, 31.
    assert calendar.add_working_days(D(2026, 3, 19), 5) == D(2026, 3, 31)


def test_a_transferred_working_saturday_counts_and_its_day_off_does_not():
    plain = WorkCalendar(())
    moved = WorkCalendar((Transfer(working=D(2026, 2, 7), rest=D(2026, 2, 9)),))
    assert not plain.is_working_day(D(2026, 2, 7)) and moved.is_working_day(D(2026, 2, 7))
    assert plain.is_working_day(D(2026, 2, 9)) and not moved.is_working_day(D(2026, 2, 9))
    # Thu 5 Feb: plain counts 6, 9, 10; with the transfer 6, 7 (Saturday), 10.
    assert plain.add_working_days(D(2026, 2, 5), 3) == D(2026, 2, 10)
    assert moved.add_working_days(D(2026, 2, 5), 3) == D(2026, 2, 10)
    assert plain.add_working_days(D(2026, 2, 5), 2) == D(2026, 2, 9)
    assert moved.add_working_days(D(2026, 2, 5), 2) == D(2026, 2, 7)


def test_the_default_table_holds_the_decreed_2025_transfer():
    assert Transfer(working=D(2025, 1, 5), rest=D(2025, 1, 3)) in DEFAULT_TRANSFERS
    cal = WorkCalendar()
    assert cal.is_working_day(D(2025, 1, 5))  # a Sunday worked by decree
    assert not cal.is_working_day(D(2025, 1, 3))
    for t in DEFAULT_TRANSFERS:
        assert t.working.weekday() >= 5 and t.rest.weekday() < 5


def test_transfers_come_from_the_configured_file(tmp_path, monkeypatch):
    config = tmp_path / "transfers.yaml"
    config.write_text(
        "transfers:\n  - {working: 2026-03-28, rest: 2026-03-27}\n  - {rest: 2026-03-30}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv(ENV_VAR, str(config))
    assert default_calendar().is_working_day(D(2026, 3, 28))
    # 20, 26, 28 (a worked Saturday), 31: 27 and 30 are days off by the configured decree
    assert add_working_days(D(2026, 3, 19), 4) == D(2026, 3, 31)
    assert add_working_days(D(2026, 3, 19), 3) == D(2026, 3, 28)
    monkeypatch.delenv(ENV_VAR)
    assert add_working_days(D(2026, 3, 19), 3) == D(2026, 3, 27)
    assert add_working_days(D(2026, 3, 19), 4) == D(2026, 3, 30)


@pytest.mark.parametrize(
    "content",
    [
        "transfers: [{working: 2026-03-27}]",  # a Friday
        "transfers: [{}]",
        "transfers: [{when: 2026-03-28}]",
        "transfers: [{rest: 2026-02-30}]",
        "days: []",
    ],
)
def test_a_bad_transfers_file_is_an_error_not_ignored(tmp_path, content):
    config = tmp_path / "bad.yaml"
    config.write_text(content, encoding="utf-8")
    with pytest.raises(TransferConfigError):
        load_transfers(config)


def test_a_missing_transfers_file_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "absent.yaml"))
    with pytest.raises(TransferConfigError):
        default_calendar()


def test_2026_constitution_day_is_what_the_library_says_until_the_operator_decides(
    tmp_path, monkeypatch
):
    """holidays 0.109 drops Constitution Day in 2026 (15 March from 2027): 31 August 2026
    is a working day unless the operator's transfers file makes it a day off."""
    assert WorkCalendar(()).is_working_day(D(2026, 8, 31))
    assert not WorkCalendar(()).is_working_day(D(2027, 3, 15))
    config = tmp_path / "transfers.yaml"
    config.write_text("transfers:\n  - {rest: 2026-08-31}\n", encoding="utf-8")
    monkeypatch.setenv(ENV_VAR, str(config))
    assert not default_calendar().is_working_day(D(2026, 8, 31))
    assert add_working_days(D(2026, 8, 28), 1) == D(2026, 9, 1)
