"""The demo year's weather processes, written by hand: their warning threads and response decisions. Pure data."""

from __future__ import annotations

from dataclasses import dataclass

# District short names as the warnings and the bureau write them, with their 6-digit codes and an
# approximate area in km² (each district's share of the city, for the response rules' city cover).
DISTRICTS = {
    "中原": ("410102", 193), "二七": ("410103", 156), "管城": ("410104", 204), "金水": ("410105", 242),
    "上街": ("410106", 64), "惠济": ("410108", 233), "中牟": ("410122", 917), "经开": ("410171", 158),
    "高新": ("410172", 99), "航空港": ("410173", 415), "巩义": ("410181", 1041), "荥阳": ("410182", 908),
    "新密": ("410183", 998), "新郑": ("410184", 873), "登封": ("410185", 1220),
}
CITY_AREA = sum(area for _, area in DISTRICTS.values())
URBAN = "中原 二七 管城 金水 惠济 经开 高新"
WEST = "巩义 荥阳 新密 登封"
ALL = " ".join(DISTRICTS)


@dataclass(frozen=True)
class Signal:
    """One message of a thread: hours after the process started, colour (None: 解除) and districts."""

    at: float
    colour: str | None
    districts: str = ""  # space-separated short names; empty for a Cancel


@dataclass(frozen=True)
class Thread:
    """One 递进式 chain of one warning type; it ends by 解除 (a last Signal without colour) or by expiry."""

    event: str
    signals: tuple[Signal, ...]
    station: str = "郑州市气象台"
    validity_hours: float = 12  # how long the last message stays in force when nothing follows it


@dataclass(frozen=True)
class Decision:
    """A response decision triggered by message `signal` of the process's first thread."""

    signal: int
    action: str  # activate | upgrade | downgrade | terminate
    level: int  # 1..4


@dataclass(frozen=True)
class Process:
    """One weather process: local start, kind, threads (the first is the main one), decisions."""

    start: str  # "MM-DD HH:MM" Beijing time in the demo year
    kind: str
    threads: tuple[Thread, ...]
    decisions: tuple[Decision, ...] = ()
    closed_by_hand: bool = False
    big: bool = False  # the year's big process (a 7·20-like rainstorm): wider village cover, bigger figures


def _s(*signals: tuple) -> tuple[Signal, ...]:
    return tuple(Signal(*signal) for signal in signals)


def _d(*decisions: tuple) -> tuple[Decision, ...]:
    return tuple(Decision(*decision) for decision in decisions)


PROCESSES: tuple[Process, ...] = (
    Process("01-08 18:00", "snow_ice", (
        Thread("暴雪", _s((0, "yellow", "登封 新密 巩义"), (9, "orange", "登封 新密 巩义 荥阳"),
                        (30, "yellow", "登封 新密"), (44, None))),
        Thread("道路结冰", _s((14, "yellow", ALL), (22, "orange", ALL), (40, "yellow", ALL), (50, None))),
        Thread("寒潮", _s((3, "blue", ALL)), validity_hours=36)),
        decisions=_d((1, "activate", 4), (3, "terminate", 4))),
    Process("04-17 18:00", "rainfall", (
        Thread("暴雨", _s((0, "yellow", "登封 新密"), (14, None))),)),
    Process("05-08 15:00", "rainfall", (
        Thread("暴雨", _s((0, "blue", "巩义 荥阳 上街 中原"), (2, "yellow", "巩义 荥阳 上街"), (13, None))),
        Thread("雷电", _s((1, "yellow", ALL)), validity_hours=8)),
        decisions=_d((1, "activate", 4), (2, "terminate", 4))),
    Process("05-29 20:00", "rainfall", (
        Thread("暴雨", _s((0, "yellow", "中牟 航空港 新郑")), validity_hours=14),), closed_by_hand=True),
    Process("06-03 14:00", "rainfall", (
        Thread("暴雨", _s((0, "yellow", "荥阳 上街 高新"), (10, None))),
        Thread("冰雹", _s((1, "orange", "荥阳 上街")), validity_hours=4, station="荥阳市气象台"))),
    Process("06-12 16:00", "rainfall", (
        Thread("暴雨", _s((0, "yellow", "新密 登封 巩义"), (4, "orange", "登封 新密"), (16, "yellow", "登封"),
                        (24, None))),),
        decisions=_d((1, "activate", 3), (2, "downgrade", 4), (3, "terminate", 4))),
    Process("06-25 05:00", "rainfall", (
        Thread("暴雨", _s((0, "yellow", "金水 中原 二七 管城 惠济"), (12, None))),),
        decisions=_d((0, "activate", 4), (1, "terminate", 4))),
    Process("07-02 14:00", "rainfall", (
        Thread("暴雨", _s((0, "yellow", URBAN), (3, "orange", "金水 管城 经开"), (11, "yellow", "金水 管城"),
                        (18, None))),
        Thread("大风", _s((1, "blue", URBAN)), validity_hours=10)),
        decisions=_d((1, "activate", 3), (3, "terminate", 3))),
    Process("07-09 22:00", "rainfall", (
        Thread("暴雨", _s((0, "yellow", "新郑 航空港 中牟"), (15, None))),)),
    # The year's big process, modelled on 7·20: red over most of the city, Ⅳ up to Ⅰ and back.
    Process("07-18 20:00", "rainfall", (
        Thread("暴雨", _s((0, "yellow", URBAN), (10, "orange", "金水 中原 二七 管城"),
                        (15, "orange", "金水 中原 二七 管城 惠济 高新 经开 巩义 荥阳"),
                        (22, "red", "金水 中原 二七"),
                        (34, "red", "金水 中原 二七 管城 惠济 高新 经开 巩义 荥阳 新密 登封"),
                        (60, "orange", "金水 中原 二七 新密 巩义 荥阳 登封 高新"),
                        (76, "yellow", "新密 巩义 荥阳 登封"), (90, None)), validity_hours=24),
        Thread("雷电", _s((12, "yellow", ALL), (20, "orange", URBAN), (40, None))),
        Thread("大风", _s((26, "yellow", URBAN)), validity_hours=12)),
        decisions=_d((0, "activate", 4), (1, "upgrade", 3), (2, "upgrade", 2), (4, "upgrade", 1),
                     (5, "downgrade", 2), (6, "downgrade", 4), (7, "terminate", 4)),
        big=True),
    Process("07-27 15:00", "rainfall", (
        Thread("暴雨", _s((0, "yellow", "巩义 荥阳 登封"), (5, "orange", "巩义"), (17, None))),),
        decisions=_d((1, "activate", 3), (2, "terminate", 3))),
    Process("08-04 03:00", "rainfall", (
        Thread("暴雨", _s((0, "yellow", "金水 惠济 高新"), (11, None))),), closed_by_hand=True),
    Process("08-11 13:00", "rainfall", (
        Thread("暴雨", _s((0, "blue", "新郑 中牟 航空港"), (2, "yellow", "新郑 中牟 航空港 经开"),
                        (6, "orange", "航空港 中牟"), (15, "yellow", "航空港"), (21, None))),),
        decisions=_d((2, "activate", 3), (3, "downgrade", 4), (4, "terminate", 4))),
    Process("08-19 17:00", "rainfall", (
        Thread("暴雨", _s((0, "yellow", "二七 中原 上街 荥阳"), (11, None))),
        Thread("雷电", _s((0.5, "yellow", "二七 中原 上街 荥阳 高新")), validity_hours=6)),
        decisions=_d((0, "activate", 4), (1, "terminate", 4))),
    Process("08-30 10:00", "rainfall", (
        Thread("暴雨", _s((0, "yellow", "新密 新郑")), validity_hours=10),), closed_by_hand=True),
    Process("09-06 19:00", "rainfall", (
        Thread("暴雨", _s((0, "yellow", "中原 二七 管城 金水 惠济 中牟"),
                        (5, "orange", "中原 二七 管城 金水 惠济 中牟 航空港"), (17, "yellow", "中牟 航空港"),
                        (26, None))),),
        decisions=_d((0, "activate", 4), (1, "upgrade", 2), (2, "downgrade", 4), (3, "terminate", 4))),
    Process("09-15 08:00", "rainfall", (
        Thread("暴雨", _s((0, "yellow", "登封 巩义"), (12, None))),)),
    Process("09-24 21:00", "rainfall", (
        Thread("暴雨", _s((0, "yellow", "中牟 金水 管城"), (6, "orange", "管城"), (19, None))),),
        decisions=_d((1, "activate", 3), (2, "terminate", 3))),
    Process("10-05 12:00", "rainfall", (
        Thread("暴雨", _s((0, "yellow", "新郑 新密"), (13, None))),),
        decisions=_d((0, "activate", 4), (1, "terminate", 4))),
    Process("12-13 20:00", "snow_ice", (
        Thread("道路结冰", _s((0, "yellow", ALL), (20, "orange", URBAN), (38, None))),
        Thread("寒潮", _s((1, "yellow", ALL)), validity_hours=30)),
        decisions=_d((1, "activate", 4), (2, "terminate", 4))),
)

# Signals that open nothing: blue rain, and types that never open an event, away from every process.
LONE_SIGNALS: tuple[tuple[str, Thread], ...] = (
    ("03-28 16:00", Thread("暴雨", _s((0, "blue", "中牟")), validity_hours=8)),
    ("04-02 11:00", Thread("大风", _s((0, "blue", ALL)), validity_hours=12)),
    ("06-07 13:00", Thread("雷电", _s((0, "yellow", URBAN)), validity_hours=6)),
    ("06-18 15:00", Thread("暴雨", _s((0, "blue", "登封")), validity_hours=6, station="登封市气象台")),
    ("06-21 10:00", Thread("高温", _s((0, "yellow", ALL), (24, "orange", ALL), (72, None)))),
    ("07-05 16:00", Thread("暴雨", _s((0, "blue", URBAN)), validity_hours=6)),
    ("08-24 14:00", Thread("暴雨", _s((0, "blue", "新郑 航空港")), validity_hours=6)),
    ("09-10 17:00", Thread("暴雨", _s((0, "blue", "巩义")), validity_hours=6, station="巩义市气象台")),
    ("11-20 08:00", Thread("大风", _s((0, "yellow", ALL)), validity_hours=18)),
)

STATION_SENDERS = {"郑州市气象台": "41010041600000", "荥阳市气象台": "41018241600000",
                   "登封市气象台": "41018541600000", "巩义市气象台": "41018141600000"}

# Who decides (会商研判) each level, and the duty officers who record decisions and close events.
DECIDERS = {1: "市防指指挥长", 2: "市防指指挥长", 3: "市防指常务副指挥长", 4: "市防指常务副指挥长"}
DUTY_OFFICERS = ("市防办值班员 王磊", "市防办值班员 赵敏", "市防办值班员 陈晓东", "市防办值班员 刘洋")
