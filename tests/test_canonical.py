"""The quick canonical JSON that traces and fact rows are stored and hashed in is, byte for
byte, the canonical JSON as defined (`core.calculation.canonical_text`): a hash sealed with
one must match the text worked out with the other."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compengine.core.calculation import calculate, canonical_text
from compengine.core.trace import build_line_trace, trace_json
from compengine.io.csv_data import load_dataset
from compengine.lang.loader import load_plans
from compengine.store import canonical
from compengine.store.canonical import canonical_bytes
from compengine.store.facts import stored_and_sha256
from tests.support import COMPANY_DIR, PLANS_DIR

# what traces and fact rows are made of: text (any character, controls and all), whole
# numbers (past 64 bits too), true/false, null, lists, and objects with text keys
_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
_LEAVES = st.none() | st.booleans() | st.integers() | st.integers(min_value=-(2**80), max_value=2**80) | _TEXT
_JSON = st.recursive(_LEAVES, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4), max_leaves=25)


@given(_JSON)
def test_the_quick_canonical_json_is_the_defined_one_byte_for_byte(value: Any) -> None:
    assert canonical_bytes(value) == canonical_text(value).encode()


@given(st.one_of([st.dictionaries(keys, _LEAVES, min_size=1, max_size=4) for keys in (st.integers(), st.booleans())]))
def test_keys_that_are_not_text_are_written_as_the_definition_writes_them(value: dict[Any, Any]) -> None:
    assert canonical_bytes(value) == canonical_text(value).encode()


def test_keys_are_sorted_by_character_code_whatever_their_script() -> None:
    assert canonical_bytes({"é": 1, "z": 2, "A": 3, "日": 4, "a\x00": 5}) == '{"A":3,"a\\u0000":5,"z":2,"é":1,"日":4}'.encode()


def test_a_plain_value_is_written_without_the_definitions_encoder(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(value: Any) -> str:
        raise AssertionError("the standard library's encoder was used")

    monkeypatch.setattr(canonical, "canonical_text", refuse)
    assert canonical_bytes({"b": [1, "x"], "a": None}) == b'{"a":null,"b":[1,"x"]}'


def test_what_the_definition_refuses_is_refused() -> None:
    with pytest.raises(TypeError):
        canonical_bytes({"when": object()})


def test_a_fact_rows_stored_text_and_hash_come_from_the_canonical_json_of_its_trimmed_cells() -> None:
    stored, sha256 = stored_and_sha256({"deal_id": " D-1 ", "amount": "100.00", "region": ""})
    assert stored == canonical_text({"deal_id": "D-1", "amount": "100.00", "region": ""})
    assert stored == '{"amount":"100.00","deal_id":"D-1","region":""}'
    # an empty cell is the same as no column: the hash is taken of the cells that hold something
    assert sha256 == hashlib.sha256(b'{"amount":"100.00","deal_id":"D-1"}').hexdigest()


def test_every_trace_of_the_example_company_is_written_as_the_definition_writes_it() -> None:
    loaded = load_plans([str(p) for p in sorted(PLANS_DIR.glob("*.comp"))])
    result = calculate(loaded.plans, load_dataset(COMPANY_DIR), "2026-Q1")
    traces = [trace_json(build_line_trace(statement, line)) for statement in result.statements for line in statement.lines]
    assert traces
    assert all(canonical_bytes(trace) == canonical_text(trace).encode() for trace in traces)
