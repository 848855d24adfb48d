"""Names for the demo registry: short unit names, owner organisations, positions, people, phones."""

from __future__ import annotations

import random

# Official village names end in the committee's name; plans and shelters use the place name.
_COMMUNITY_SUFFIXES = ("社区居民管理委员会", "社区居民委员会", "社区居民居委会", "社区管理委员会",
                       "社区委员会", "社区居委会", "管理委员会社区")
_NEIGHBOURHOOD_SUFFIXES = ("居民委员会", "居委会")
_VILLAGE_SUFFIXES = ("村村民委员会", "村民委员会", "村村委会", "村委会")

# Henan's most common surnames first, so random.choices with falling weights looks plausible.
SURNAMES = ("王李张刘陈杨赵郭孙马朱徐高胡周吴宋郑何韩冯曹许邓程田彭袁董梁"
            "魏任黄贾史谢苏杜侯姚崔范常秦吕翟牛段孟白申聂薛姜闫耿乔付雷丁")
GIVEN_FIRST = "建国志文红秀海伟明军永德晓春丽玉新俊振保宏学广金长立少庆爱小卫世朝向东子书雪"
GIVEN_SECOND = "华强军平伟刚民峰涛杰磊勇辉敏静芳霞娟英兰梅林东宇鹏飞斌超明亮鑫洋波红燕琴丽"

FAKE_MOBILE_PREFIXES = ("1390000", "1380000")
FAKE_DESK_PREFIX = "03716000"


def short_name(name: str, level: str) -> str:
    """The place name of a unit: 冠子岭村委会 -> 冠子岭村, 十里铺社区居民委员会 -> 十里铺社区."""
    if level != "village":
        return name
    for suffix in _COMMUNITY_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)] + "社区"
    for suffix in _NEIGHBOURHOOD_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)] + "社区"
    for suffix in _VILLAGE_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)] + "村"
    return name


def unit_type(name: str, level: str) -> str:
    """The body governing a unit: city, district, county, county_city, zone, street, town, rural, area,
    village or community."""
    if level == "city":
        return "city"
    if level == "district":
        if name.endswith("区") and "开发区" not in name and "实验区" not in name:
            return "district"
        if name.endswith("县"):
            return "county"
        if name.endswith("市"):
            return "county_city"
        return "zone"
    if level == "township":
        if name.endswith("街道"):
            return "street"
        if name.endswith("镇"):
            return "town"
        if name.endswith("乡"):
            return "rural"
        return "area"
    return "community" if short_name(name, level).endswith("社区") else "village"


_OWNER_SUFFIX = {"district": "人民政府", "county": "人民政府", "county_city": "人民政府", "zone": "管理委员会",
                 "street": "办事处", "town": "人民政府", "rural": "人民政府", "area": "管理委员会"}


def owner_org(name: str, level: str, kind: str) -> str:
    """The organisation that issues a unit's plan of `kind`."""
    kind_of_unit = unit_type(name, level)
    if kind_of_unit == "city":
        return "郑州市应急管理局" if kind == "evacuation" else "郑州市防汛抗旱指挥部办公室"
    if kind_of_unit == "village":
        if name.endswith("村民委员会"):
            return name
        return (name[:-3] if name.endswith("村委会") else name[:-1]) + "村民委员会"
    if kind_of_unit == "community":
        return short_name(name, level) + "居民委员会"
    return name + _OWNER_SUFFIX[kind_of_unit]


# (responsible, deputy of the flood plan, deputy of the evacuation plan) by unit type.
_POSITIONS = {
    "city": ("市长", "副市长", "副市长"),
    "district": ("区长", "副区长", "副区长"),
    "county": ("县长", "副县长", "副县长"),
    "county_city": ("市长", "副市长", "副市长"),
    "zone": ("管委会主任", "管委会副主任", "管委会副主任"),
    "street": ("街道办事处主任", "街道办事处副主任", "街道武装部部长"),
    "town": ("镇长", "副镇长", "镇武装部部长"),
    "rural": ("乡长", "副乡长", "乡武装部部长"),
    "area": ("管委会主任", "管委会副主任", "管委会副主任"),
    "village": ("村党支部书记", "村委会主任", "村民兵营长"),
    "community": ("社区党支部书记", "社区居委会主任", "社区网格长"),
}


def positions(name: str, level: str) -> tuple[str, str, str]:
    """Positions of the responsible person and the two deputies of a unit."""
    return _POSITIONS[unit_type(name, level)]


def duty_desk_name(name: str, level: str) -> str:
    """The unit's flood duty desk: 金水区防汛办值班室, 林山寨街道防汛值班室."""
    if level == "city":
        return "郑州市防汛办值班室"
    if level == "district":
        return f"{name}防汛办值班室"
    return f"{name}防汛值班室"


class People:
    """Deterministic people with unique fake mobile numbers (139-0000-xxxx, 138-0000-xxxx)."""

    def __init__(self, rng: random.Random):
        self._rng = rng
        pool = list(range(2 * 10_000))
        rng.shuffle(pool)
        self._phones = iter(pool)
        self._surname_weights = [1 / (rank + 3) for rank in range(len(SURNAMES))]

    def name(self) -> str:
        """A plausible Chinese name of two or three characters."""
        surname = self._rng.choices(SURNAMES, self._surname_weights)[0]
        given = self._rng.choice(GIVEN_FIRST) if self._rng.random() < 0.75 else ""
        return surname + given + self._rng.choice(GIVEN_SECOND)

    def phone(self) -> str:
        """The next unused fake mobile number, as 11 digits."""
        number = next(self._phones)
        return FAKE_MOBILE_PREFIXES[number // 10_000] + f"{number % 10_000:04d}"


def desk_phone(index: int) -> str:
    """A fake landline of the duty desk number `index`: 03716000xxxx."""
    return f"{FAKE_DESK_PREFIX}{index:04d}"
