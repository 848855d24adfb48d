"""The expansion order as pure rules: desks, then persons from the top level down, each level by unit code."""

from __future__ import annotations

from fangxun.warnings.routing.recipients import Recipient, WarnedUnit
from fangxun.warnings.routing.urgency import (Deduper, chunk_size, order_key, segment_of, segments, units_reached,
                                              written_before)


def person(unit: str, level: str, contact: int, channel: str = "sms", address: str = "") -> Recipient:
    return Recipient("person", f"{unit}:{contact}", "某人", unit, level, channel, address or f"1{contact:010d}", "t")


def desk(key: str) -> Recipient:
    return Recipient("department", key, key, None, None, "hook", key, "t")


def test_desks_then_districts_townships_and_villages_each_by_unit_code():
    people = [person("410102001001", "village", 1), person("410102001000", "township", 2),
              person("410102000000", "district", 3), person("410102001002", "village", 4)]
    ordered = sorted([*people, desk("water")], key=order_key)
    assert [r.key for r in ordered] == ["water", "410102000000:3", "410102001000:2", "410102001001:1",
                                        "410102001002:4"]


def test_the_first_chunk_is_small_and_later_ones_larger():
    assert chunk_size(0) < chunk_size(1) <= chunk_size(5)


def test_segments_cover_every_rank_and_split_a_level_by_unit_code():
    units = [WarnedUnit(f"4101020010{n:02d}", "village", 1.0) for n in range(5)] + \
        [WarnedUnit("410102001000", "township", 1.0), WarnedUnit("410100000000", "city", 1.0)]
    found = segments(units, frozenset({"township", "village"}), per_segment=2)
    villages = [s for s in found if s.units and s.units[0].level == "village"]
    assert [len(s.units) for s in villages] == [2, 2, 1]
    assert [s.start for s in found] == sorted(s.start for s in found)
    assert not any(s.units and s.units[0].level == "city" for s in found)  # not a routed level
    starts = [s.start for s in found]
    key = order_key(person("410102001003", "village", 9))
    assert found[segment_of(starts, key)] == villages[1]
    assert units_reached(found, key) == 1 + 4  # the township, and the villages up to the cursor's
    assert written_before(villages[1].start, key) and not written_before(villages[2].start, key)


def test_one_address_on_a_channel_is_told_once_unless_standing_in():
    seen = Deduper()
    first = seen.routed([person("410102001000", "township", 1, address="13900000001")])
    again = seen.routed([person("410102001001", "village", 2, address="13900000001"),
                         person("410102001001", "village", 2, address="13900000001")._replace(stand_in=True,
                                                                                              key="x:3")])
    assert len(first) == 1 and [r.key for r in again] == ["x:3"]
    assert seen.told_before([person("410102001000", "township", 1)]) == []
