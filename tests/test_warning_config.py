"""The [warnings] section: defaults load; unknown names fail at load and in check-config with file and key."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fangxun.core.errors import ConfigError
from fangxun.settings import load_settings

ROUTES = '''
[[warnings.routes]]
events = ["暴雨"]
departments = ["water"]

[[warnings.routes]]
events = ["雷电"]
departments = ["weather"]

[[warnings.routes]]
events = ["大风"]
{line}
'''


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "site.toml"
    path.write_text(text, encoding="utf-8")
    return path


def failure(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    return caught.value.detail


def test_default_config_passes(settings):
    warnings = settings.warnings
    assert {"water", "transport", "police", "urban", "planning", "weather", "emergency", "education",
            "housing"} <= set(warnings.departments)
    assert warnings.departments["water"].name == "市水利局"
    assert warnings.channels["record"].kind == "record"
    assert all(dept.desk.channel in warnings.channels for dept in warnings.departments.values())
    assert warnings.ack_deadline_minutes.minutes("red") == 15
    assert warnings.ack_deadline_minutes.minutes("blue") == 120
    assert warnings.repeat_before_escalate == 1
    assert warnings.retry.max_attempts == 6 and warnings.retry.jitter == 0.2
    assert warnings.quiet_hours.start.hour == 22 and warnings.quiet_hours.end.hour == 7
    assert warnings.escalation.city_duty_desk.channel == "record"
    assert warnings.feeds == ()


@pytest.mark.parametrize("line, key, message", [
    ('departments = ["fire"]', "warnings.routes[2].departments", '未知部门 "fire"'),
    ('person_channels = ["pager"]', "warnings.routes[2].person_channels", '未知渠道 "pager"'),
    ('department_channel = "fax"', "warnings.routes[2].department_channel", '未知渠道 "fax"'),
    ('template = "poem"', "warnings.routes[2].template", '未知模板 "poem"'),
    ('colours = ["purple"]', "warnings.routes[2].colours", '未知颜色 "purple"'),
    ('min_colour = "pink"', "warnings.routes[2].min_colour", '未知颜色 "pink"'),
    ('msg_types = ["Ack"]', "warnings.routes[2].msg_types", '未知消息类型 "Ack"'),
    ('person_levels = ["province"]', "warnings.routes[2].person_levels[0]", "district"),
    ('area_units = ["4101"]', "warnings.routes[2].area_units", "6、9 或 12 位"),
    ('colours = ["red"]\nmin_colour = "red"', "warnings.routes[2]", "二选一"),
    ('receivers = ["water"]', "warnings.routes[2].receivers", "不认识的配置项"),
])
def test_route_mistakes_name_file_and_key(tmp_path, line, key, message):
    path = write(tmp_path, ROUTES.format(line=line))
    detail = failure(path)
    assert detail.startswith(f"{path}: {key}: ")
    assert message in detail


def test_nested_route_key_path(tmp_path):
    path = write(tmp_path, '''
[[warnings.routes]]
events = ["暴雨"]
  [[warnings.routes.routes]]
  colours = ["red"]
  [[warnings.routes.routes]]
  colours = ["orange"]
  departments = ["water", "fire"]
''')
    assert failure(path) == f'{path}: warnings.routes[0].routes[1].departments: 未知部门 "fire"'


def test_unknown_template_placeholder(tmp_path):
    path = write(tmp_path, '[warnings.templates.rainstorm]\ntitle = "暴雨"\ntext = "{areas}：{whatever}"\n')
    detail = failure(path)
    assert detail.startswith(f"{path}: warnings.templates.rainstorm.text: ")
    assert '未知占位符 "{whatever}"' in detail


def test_unbalanced_template_brace(tmp_path):
    path = write(tmp_path, '[warnings.templates.rainstorm]\ntitle = "暴雨 {event"\n')
    assert "warnings.templates.rainstorm.title: 模板格式错误" in failure(path)


def test_root_route_template_must_exist(tmp_path):
    path = write(tmp_path, '[warnings.default_route]\ntemplate = "none"\n')
    assert failure(path) == f'{path}: warnings.default_route.template: 未知模板 "none"'


def test_wording_names_templates_that_exist(tmp_path):
    path = write(tmp_path, '[warnings.wording]\nupgrade = "shout"\n')
    assert failure(path) == f'{path}: warnings.wording.upgrade: 未知模板 "shout"'


def test_the_packaged_wording_and_all_clear(settings):
    assert settings.warnings.wording.model_dump() == {"upgrade": "upgrade", "downgrade": "downgrade",
                                                      "update": "update", "all_clear": "all_clear"}
    assert settings.warnings.all_clear.ack is False


def test_an_all_clear_that_asks_for_ack_needs_a_link_in_its_template(tmp_path):
    path = write(tmp_path, '[warnings.all_clear]\nack = true\n')
    assert failure(path) == (f'{path}: warnings.all_clear.ack: 解除需要叫应，但解除模板 "all_clear" 不含 {{ack_url}}')
    fixed = write(tmp_path, '[warnings.all_clear]\nack = true\n[warnings.templates.all_clear]\n'
                            'title = "【解除】{summary}"\ntext = "{summary}。请点击确认收到：{ack_url}"\n')
    assert load_settings(fixed).warnings.all_clear.ack is True


def test_a_template_with_both_guidance_and_instruction_fails_at_load(tmp_path):
    path = write(tmp_path, '[warnings.templates.rainstorm]\ntitle = "暴雨"\ntext = "{guidance}\\n{instruction}"\n')
    detail = failure(path)
    assert detail.startswith(f"{path}: warnings.templates.rainstorm: ") and "不能与 {instruction} 同时使用" in detail


def test_department_contact_with_unknown_channel(tmp_path):
    path = write(tmp_path, '[warnings.departments.fire]\nname = "市消防救援支队"\n'
                           'desk = { name = "值班室", channel = "record", address = "119" }\n'
                           'leader = { name = "支队长", channel = "pager", address = "1" }\n')
    assert failure(path) == f'{path}: warnings.departments.fire.leader.channel: 未知渠道 "pager"'


def test_city_duty_desk_with_unknown_channel(tmp_path):
    path = write(tmp_path, '[warnings.escalation.city_duty_desk]\nname = "市防指"\nchannel = "radio"\n')
    assert failure(path) == f'{path}: warnings.escalation.city_duty_desk.channel: 未知渠道 "radio"'


def test_unknown_channel_kind(tmp_path):
    path = write(tmp_path, '[warnings.channels.pager]\nkind = "pager"\n')
    assert failure(path).startswith(f"{path}: warnings.channels.pager: 未知类型 \"pager\"")


def test_user_file_replacing_a_default_channel_still_names_the_user_key(tmp_path):
    path = write(tmp_path, '[warnings.channels.record]\nkind = "record"\npath = "x.jsonl"\n'
                           '[warnings.default_route]\nperson_channels = ["sms"]\n')
    assert failure(path) == f'{path}: warnings.default_route.person_channels: 未知渠道 "sms"'


def test_several_problems_are_counted(tmp_path):
    path = write(tmp_path, '[[warnings.routes]]\ndepartments = ["fire", "army"]\ntemplate = "poem"\n')
    assert failure(path) == f'{path}: warnings.routes[0].departments: 未知部门 "fire"（另有 2 处）'


def test_user_file_adds_a_department_and_replaces_a_channel_whole(tmp_path):
    path = write(tmp_path, '''
[warnings.channels.record]
kind = "webhook"
url = "http://127.0.0.1:9/hook"

[warnings.departments.fire]
name = "市消防救援支队"
desk = { name = "支队指挥中心", channel = "record" }
leader = { name = "支队长", channel = "record", address = "fire-leader" }

[[warnings.routes]]
events = ["暴雨"]
departments = ["fire", "water"]
''')
    warnings = load_settings(path).warnings
    assert warnings.channels["record"].kind == "webhook"
    assert warnings.departments["fire"].desk.address == ""
    assert warnings.departments["water"].name == "市水利局"
    assert len(warnings.routes) == 1


def test_user_contact_replaces_the_default_one_whole(tmp_path):
    path = write(tmp_path, '[warnings.departments.water.desk]\nname = "水利局防汛办"\nchannel = "record"\n')
    assert load_settings(path).warnings.departments["water"].desk.address == ""


@pytest.mark.parametrize("text, key", [
    ('[warnings.quiet_hours]\nstart = "25:00"\n', "warnings.quiet_hours.start"),
    ('[warnings.quiet_hours]\ntimezone = "Mars/Olympus"\n', "warnings.quiet_hours.timezone"),
    ('[warnings.ack_deadline_minutes]\nred = 0\n', "warnings.ack_deadline_minutes.red"),
    ('[warnings.retry]\nbase_seconds = 10\nmax_seconds = 5\n', "warnings.retry"),
    ('[[warnings.feeds]]\nname = "a"\n', "warnings.feeds[0]"),
    ('[[warnings.feeds]]\nname = "a"\ndirectory = "/x"\n[[warnings.feeds]]\nname = "a"\ndirectory = "/y"\n',
     "warnings.feeds"),
    ('[warnings.departments.Fire]\nname = "x"\ndesk = { name = "x", channel = "record" }\n'
     'leader = { name = "y", channel = "record" }\n', "warnings.departments"),
    ('[warnings.departments.fire]\nname = "x"\n', "warnings.departments.fire.desk"),
])
def test_other_warning_settings_are_checked(tmp_path, text, key):
    path = write(tmp_path, text)
    assert failure(path).startswith(f"{path}: {key}: ")


def test_lifetime_per_event_and_colour_the_most_specific_wins(tmp_path):
    path = write(tmp_path, '[warnings.lifetime]\ndefault_hours = 12\ncolours = { red = 6 }\n'
                           '[warnings.lifetime.events."高温"]\nhours = 48\n'
                           '[warnings.lifetime.events."暴雨"]\nred = 3\nyellow = 8\n')
    lifetime = load_settings(path).warnings.lifetime
    assert lifetime.hours("暴雨", "red") == 3        # event and colour
    assert lifetime.hours("暴雨", "yellow") == 8
    assert lifetime.hours("暴雨", "orange") == 12    # no hours for the event's other colours: the default
    assert lifetime.hours("高温", "red") == 48       # the event's hours before the colour's
    assert lifetime.hours("大风", "red") == 6        # the colour's
    assert lifetime.hours("大风", None) == 12


def test_lifetime_defaults_to_a_day(settings):
    assert settings.warnings.lifetime.hours("暴雨", "red") == 24
    assert settings.warnings.lifetime.hours("", None) == 24


@pytest.mark.parametrize("text, key, message", [
    ("[warnings.lifetime]\ndefault_hours = 0\n", "warnings.lifetime.default_hours", "应不小于 1"),
    ("[warnings.lifetime]\ndefault_hours = 1000\n", "warnings.lifetime.default_hours", "应不大于 720"),
    ("[warnings.lifetime]\ncolours = { purple = 3 }\n", "warnings.lifetime.colours.purple", "不认识的配置项"),
    ('[warnings.lifetime.events."暴雨"]\n', 'warnings.lifetime.events.暴雨', "至少给出 hours 或一种颜色"),
    ('[warnings.lifetime.events."暴雨"]\nred = -1\n', 'warnings.lifetime.events.暴雨.red', "应不小于 1"),
    ('[warnings.lifetime.events." 暴雨"]\nhours = 6\n', "warnings.lifetime.events", "前后也不能有空格"),
])
def test_lifetime_mistakes_are_named_in_chinese(tmp_path, text, key, message):
    path = write(tmp_path, text)
    detail = failure(path)
    assert detail.startswith(f"{path}: {key}: ") and message in detail, detail


def test_feeds(tmp_path):
    path = write(tmp_path, '[[warnings.feeds]]\nname = "henan"\nurl = "https://cap.example/atom.xml"\n'
                           '[[warnings.feeds]]\nname = "inbox"\ndirectory = "/srv/cap"\ninterval_seconds = 30\n')
    feeds = load_settings(path).warnings.feeds
    assert [(f.name, f.url, f.directory, f.interval_seconds) for f in feeds] == [
        ("henan", "https://cap.example/atom.xml", None, 60), ("inbox", None, "/srv/cap", 30)]


def test_check_config_with_a_bad_file_exits_2_naming_the_key(tmp_path):
    path = write(tmp_path, ROUTES.format(line='departments = ["fire"]'))
    done = subprocess.run([sys.executable, "-m", "fangxun.cli", "--config", str(path), "check-config"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert f'{path}: warnings.routes[2].departments: 未知部门 "fire"' in done.stderr


def test_check_config_with_the_defaults_passes(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "FANGXUN_CONFIG"}
    done = subprocess.run([sys.executable, "-m", "fangxun.cli", "--database-url", f"sqlite:///{tmp_path / 'x.db'}",
                           "check-config"], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    assert "配置有效" in done.stdout


def test_example_site_file_loads():
    example = Path(__file__).resolve().parent.parent / "config" / "example-warnings.toml"
    warnings = load_settings(example).warnings
    assert warnings.departments["water"].desk.channel == "water-dingtalk"
    assert warnings.departments["urban"].desk.channel == "record"  # untouched defaults stay
    assert warnings.tree.person_channels == ("sms", "email")
    voice = warnings.channels["voice"]
    assert (voice.kind, voice.secret_env, voice.min_heard_seconds) == ("voice", "FANGXUN_VOICE_SECRET", 20)
    assert [feed.name for feed in warnings.feeds] == ["henan-met", "inbox"]
