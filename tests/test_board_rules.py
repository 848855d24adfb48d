"""The duty board's pure rules: group keys, filters, a search that is a phone number, what each message did to its
thread, which message a thread shows first, and which messages a query covers."""

from __future__ import annotations

import pytest

from fangxun.core.errors import BadInput
from fangxun.warnings.board_rules import (BoardFilter, GroupKey, focus_message, message_step, parse_group, parse_scope,
                                          phone_digits)


def test_group_keys_are_read_and_written_back():
    assert parse_group(None) is None
    assert parse_group("desks") == GroupKey("desks") and parse_group("other").text == "other"
    district = parse_group("unit:410102000000")
    assert (district.kind, district.code, district.level, district.text) == (
        "unit", "410102000000", "district", "unit:410102000000")
    assert parse_group("self:410102002000").level == "township"
    assert parse_group("unit:410102002001").level == "village"


@pytest.mark.parametrize("text", ["", "unit", "unit:4101", "self:41010200200x", "town:410102002000", "desks:1"])
def test_a_group_key_not_understood_is_refused_naming_the_parameter(text):
    with pytest.raises(BadInput) as raised:
        parse_group(text, "parent")
    assert raised.value.detail.startswith("parent：") and raised.value.extra == {"field": "parent"}


@pytest.mark.parametrize("query, digits", [("0008", "0008"), ("139-0000-0008", "13900000008"), ("+86 139", "86139"),
                                           ("(0371)", "0371"), ("08", None), ("东村", None), ("１３９", None),
                                           ("139x", None)])
def test_a_search_is_a_phone_number_when_it_is_three_digits_or_more(query, digits):
    assert phone_digits(query) == digits


@pytest.mark.parametrize("wanted, field", [(BoardFilter(state="late"), "filter"), (BoardFilter(level="city"), "level"),
                                           (BoardFilter(department="x" * 101), "department"),
                                           (BoardFilter(query="村" * 51), "q")])
def test_filters_not_understood_are_refused_naming_the_parameter(wanted, field):
    with pytest.raises(BadInput) as raised:
        wanted.check()
    assert raised.value.extra == {"field": field}


def test_filters_understood_are_kept():
    wanted = BoardFilter(state="overdue", level="village", department="water", query="东村").check()
    assert wanted.narrows and not BoardFilter().check().narrows


@pytest.mark.parametrize("msg_type, all_clear, colour, previous, step", [
    ("Alert", False, "orange", None, ("alert", "发布")),
    ("Update", False, "red", "orange", ("upgrade", "升级")),
    ("Update", False, "yellow", "red", ("downgrade", "降级")),
    ("Update", False, "red", "red", ("update", "更新")),
    ("Update", False, None, "red", ("update", "更新")),
    ("Update", True, None, "red", ("cancel", "解除")),  # an Update that lifts (解除) the warning
    ("Cancel", False, None, "red", ("cancel", "解除")),
])
def test_what_a_message_did_to_its_thread(msg_type, all_clear, colour, previous, step):
    assert message_step(msg_type, all_clear, colour, previous) == step


def test_a_thread_shows_first_its_last_message_that_asked_for_an_answer():
    assert focus_message([(1, False)]) == 1
    assert focus_message([(1, False), (2, False)]) == 2
    assert focus_message([(1, False), (2, False), (3, True)]) == 2  # after the 解除: the alert it ended
    assert focus_message([(7, True)]) == 7


def test_a_query_covers_the_focus_one_message_or_all():
    assert parse_scope(None, [1, 2, 3], 2) == ("2", [2])
    assert parse_scope("all", [1, 2, 3], 2) == ("all", [1, 2, 3])
    assert parse_scope("3", [1, 2, 3], 2) == ("3", [3])
    for wrong in ("4", "x", "-1", "1,2"):
        with pytest.raises(BadInput) as raised:
            parse_scope(wrong, [1, 2, 3], 2)
        assert raised.value.extra == {"field": "message"}
