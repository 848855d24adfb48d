"""Configuration: defaults load, a user file merges over them, mistakes name the file and key."""

import pytest

from fangxun.core.errors import ConfigError
from fangxun.settings import load_settings


def test_defaults(settings):
    assert settings.registry.review_cycle_months["flood_plan"] == 36
    assert settings.registry.required_kinds_for("village") == ["flood_plan", "evacuation"]


def test_user_file_merges_over_defaults(tmp_path):
    path = tmp_path / "site.toml"
    path.write_text('[registry.review_cycle_months]\nflood_plan = 12\n', encoding="utf-8")
    settings = load_settings(path)
    assert settings.registry.review_cycle_months == {"flood_plan": 12, "flood_scheme": 36, "evacuation": 36,
                                                     "other": 36}
    assert settings.registry.due_soon_days == 60


@pytest.mark.parametrize("text, fragment", [
    ('[registry.required_kinds]\nvillage = ["flood_plan", "dam_plan"]\n', "required_kinds"),
    ('[registry.review_cycle_months]\nflood_plan = 0\n', "review_cycle_months"),
    ('[registry]\ndue_soon_dayz = 30\n', "due_soon_dayz"),
    ('[registry\n', "TOML"),
])
def test_mistakes_name_file_and_key(tmp_path, text, fragment):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert str(path) in caught.value.detail and fragment in caught.value.detail


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="不存在"):
        load_settings(tmp_path / "nope.toml")
