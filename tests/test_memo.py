"""PerDict: once per dict object, again when its items change."""

from fangxun.core.memo import PerDict


def test_computes_once_per_dict_and_again_after_a_change():
    calls = []
    sizes = PerDict(lambda d: calls.append(dict(d)) or len(d))
    shared, other = {"a": 1}, {"a": 1}
    assert [sizes(shared), sizes(shared), sizes(other)] == [1, 1, 1]
    assert len(calls) == 2  # the equal but distinct dict is its own entry
    shared["b"] = 2
    assert sizes(shared) == 2 and len(calls) == 3


def test_forgets_everything_when_full():
    calls = []
    keys = PerDict(lambda d: calls.append(1) or sorted(d), size=2)
    dicts = [{"n": n} for n in range(3)]
    for d in dicts:
        keys(d)
    keys(dicts[0])
    assert len(calls) == 4
