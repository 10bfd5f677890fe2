"""Effective-dated values (core.timeline): step functions over half-open intervals."""

from __future__ import annotations

from decimal import Decimal

from compengine.core.plan import ParameterDef, TableDef
from compengine.core.timeline import Dated, Interval, Timeline
from compengine.lang.loader import load_plans
from tests.support import PLANS_DIR, d

EIGHT, NINE = Decimal("0.08"), Decimal("0.09")
# 8% from 2026-01-01, 9% from 2026-07-01
RATE = Timeline([Dated(EIGHT, Interval(d("2026-01-01"), d("2026-07-01"))), Dated(NINE, Interval(d("2026-07-01"), None))])


def value_on(timeline: Timeline[Decimal], day: str) -> Decimal | None:
    entry = timeline.at(d(day))
    return None if entry is None else entry.value


def test_a_lookup_exactly_on_a_boundary_date_gets_the_new_value() -> None:
    assert value_on(RATE, "2026-07-01") == NINE


def test_a_lookup_the_day_before_a_boundary_gets_the_old_value() -> None:
    assert value_on(RATE, "2026-06-30") == EIGHT


def test_a_lookup_before_the_first_interval_finds_nothing() -> None:
    assert value_on(RATE, "2025-12-31") is None


def test_an_open_ended_value_holds_for_ever() -> None:
    assert value_on(RATE, "2099-12-31") == NINE


def test_an_until_date_is_the_first_day_the_value_no_longer_holds() -> None:
    assert Interval(d("2026-01-01"), d("2026-07-01")).contains(d("2026-06-30"))
    assert not Interval(d("2026-01-01"), d("2026-07-01")).contains(d("2026-07-01"))


def test_a_single_value_for_all_time_is_constant_and_a_dated_one_is_not() -> None:
    assert Timeline([Dated(EIGHT, Interval(None, None))]).is_constant
    assert not RATE.is_constant
    assert not Timeline([Dated(EIGHT, Interval(d("2026-01-01"), None))]).is_constant


def test_an_interval_describes_itself_as_a_plan_writes_it() -> None:
    assert Interval(d("2026-01-01"), d("2026-07-01")).describe() == "from 2026-01-01 until 2026-07-01"
    assert Interval(d("2026-07-01"), None).describe() == "from 2026-07-01"
    assert Interval(None, None).describe() == "always"
    assert Interval(d("2026-07-01"), None).to_json() == {"from": "2026-07-01", "until": None}


def test_a_compiled_parameter_switches_value_on_its_from_date() -> None:
    # enterprise_ae: new_logo_spiff = 1,000 USD from 2026-01-01, 1,500 USD from 2026-07-01
    plans = {p.id: p for p in load_plans([str(PLANS_DIR)]).plans}
    spiff = plans["enterprise_ae"].definitions["new_logo_spiff"]
    assert isinstance(spiff, ParameterDef)
    assert value_on(spiff.timeline, "2026-06-30") == Decimal("1000")
    assert value_on(spiff.timeline, "2026-07-01") == Decimal("1500")


def test_a_compiled_table_row_switches_value_on_its_from_date() -> None:
    # channel_manager: "silver": 6% until 2026-07-01, 7% from 2026-07-01
    plans = {p.id: p for p in load_plans([str(PLANS_DIR)]).plans}
    table = plans["channel_manager"].definitions["partner_rate"]
    assert isinstance(table, TableDef)
    silver = table.rows["silver"].timeline
    assert value_on(silver, "2026-06-30") == Decimal("0.06")
    assert value_on(silver, "2026-07-01") == Decimal("0.07")
