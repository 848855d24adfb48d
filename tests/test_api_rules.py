"""Pure parts of the web layer: session cookie signing, the sign-in limiter, redirects, error texts."""

from datetime import datetime, timedelta, timezone

from pydantic import BaseModel, Field, ValidationError

from fangxun.api.cookies import read_session, sign_session
from fangxun.api.errors import field_name, validation_to_bad_input
from fangxun.api.login_limit import LoginLimiter
from fangxun.api.routes_pages import local_path
from fangxun.plans.plan_fields import ContactFields

NOW = datetime(2026, 6, 1, 2, 0, tzinfo=timezone.utc)
SECRET = b"k" * 32


def test_session_cookie_round_trip_expiry_and_tampering():
    value = sign_session(SECRET, "张三", "token-1", NOW, hours=12)
    claims = read_session(SECRET, value, NOW + timedelta(hours=11))
    assert (claims.username, claims.token) == ("张三", "token-1")
    assert read_session(SECRET, value, NOW + timedelta(hours=12)) is None
    assert read_session(b"other-secret", value, NOW) is None
    version, payload, signature = value.split(".")
    other = sign_session(SECRET, "张三", "token-2", NOW, hours=12).split(".")[1]
    assert read_session(SECRET, f"{version}.{other}.{signature}", NOW) is None
    # A well-signed cookie of the old format names no session that signing out could end.
    assert read_session(SECRET, f"v1.{payload}.{signature}", NOW) is None
    for junk in (None, "", "a.b", "v2.x.y", "v1.!!.sig", "v1.e30.签名", value + "."):
        assert read_session(SECRET, junk, NOW) is None, junk


def test_limiter_counts_attempts_in_a_sliding_window_and_forgives_successes():
    clock = [0.0]
    limiter = LoginLimiter(attempts=2, window_seconds=60, now=lambda: clock[0])
    keys = [("user", "a"), ("address", "10.0.0.1")]
    assert limiter.begin(keys) is not None
    clock[0] = 10
    assert limiter.begin(keys) is not None
    assert limiter.begin(keys) is None and limiter.retry_after(keys) == 50
    assert limiter.begin([("user", "b"), ("address", "10.0.0.1")]) is None   # the address is spent too
    assert limiter.begin([("user", "b"), ("address", "10.0.0.2")]) is not None
    clock[0] = 60.5
    stamp = limiter.begin(keys)
    assert stamp is not None and limiter.begin(keys) is None
    limiter.forgive(keys, stamp)
    assert limiter.begin(keys) is not None


def test_only_local_paths_are_redirect_targets():
    assert local_path("/plans?kind=flood_plan") == "/plans?kind=flood_plan"
    for bad in (None, "", "plans", "//evil.example", "https://evil.example/", "/\\evil", "/x\r\nSet-Cookie: a=b",
                "/login", "javascript:alert(1)"):
        assert local_path(bad) == "/", bad


class _Probe(BaseModel):
    title: str = Field(min_length=1, max_length=5)
    contacts: list[ContactFields] = []


def test_validation_errors_name_the_field_in_chinese():
    assert field_name(("contacts", 0, "phone")) == "contacts[0].phone"
    cases = [({}, "title", "title：缺少必填字段"), ({"title": "toolong"}, "title", "title：超过最大长度 5"),
             ({"title": "ok", "contacts": [{"name": "李四", "phone": "12"}]}, "contacts[0].phone",
              "contacts[0].phone：电话号码无效：'12'")]
    for data, field, detail in cases:
        try:
            _Probe.model_validate(data)
        except ValidationError as exc:
            error = validation_to_bad_input(exc)
        assert (error.extra["field"], error.detail) == (field, detail)
        assert error.status == 400 and error.code == "bad_input"
