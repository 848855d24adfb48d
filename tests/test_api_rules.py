"""Pure parts of the web layer: session cookie signing, the throttles, client addresses, redirects, error texts."""

from datetime import datetime, timedelta, timezone

from pydantic import BaseModel, Field, ValidationError

from fangxun.api.cookies import read_session, sign_session
from fangxun.api.errors import field_name, validation_to_bad_input
from fangxun.api.client_address import forwarded_hops, parse_ip, resolve_client, trusted_networks
from fangxun.api.login_limit import Backoff, FailureThrottle, address_key, retry_text, sign_in_keys
from fangxun.api.routes_pages import local_path
from fangxun.plans.plan_fields import ContactFields

NOW = datetime(2026, 6, 1, 2, 0, tzinfo=timezone.utc)
SECRET = b"k" * 32


def test_session_cookie_round_trip_expiry_and_tampering():
    value = sign_session(SECRET, "张三", "editor", NOW, hours=12)
    claims = read_session(SECRET, value, NOW + timedelta(hours=11))
    assert (claims.username, claims.role) == ("张三", "editor")
    assert read_session(SECRET, value, NOW + timedelta(hours=12)) is None
    assert read_session(b"other-secret", value, NOW) is None
    version, payload, signature = value.split(".")
    admin = sign_session(SECRET, "张三", "admin", NOW, hours=12).split(".")[1]
    assert read_session(SECRET, f"{version}.{admin}.{signature}", NOW) is None
    for junk in (None, "", "a.b", "v2.x.y", "v1.!!.sig", "v1.e30.签名", value + "."):
        assert read_session(SECRET, junk, NOW) is None, junk


def test_backoff_is_free_then_doubles_up_to_its_cap():
    backoff = Backoff(free=3, first=5, cap=60)
    assert [backoff.delay(n) for n in range(9)] == [0, 0, 0, 5, 10, 20, 40, 60, 60]
    assert backoff.delay(10_000) == 60


def test_only_failures_count_each_against_its_own_keys_with_a_growing_wait():
    clock = [0.0]
    throttle = FailureThrottle({"user": Backoff(2, 5, 40), "address": Backoff(4, 5, 300)}, now=lambda: clock[0])
    mine, stranger = sign_in_keys("duty01", "10.0.0.1"), sign_in_keys("duty01", "10.0.0.2")
    assert mine[0] != stranger[0] and mine[1] == ("address", "10.0.0.1")
    waits = []
    for _ in range(6):
        waits.append(throttle.wait(stranger))
        clock[0] += waits[-1]   # the stranger always waits as told, then fails again
        throttle.fail(stranger)
    assert waits == [0, 0, 5, 10, 20, 40]
    assert throttle.wait(stranger) == 40   # the cap
    assert throttle.wait(sign_in_keys("other", "10.0.0.2")) == 20   # the address is past its own 4 free failures
    assert throttle.wait(mine) == 0   # nothing the stranger did makes this address wait

    # begin counts the attempt at once, so a parallel guess cannot overtake the count; forgive takes it back.
    assert throttle.begin(mine) == 0 and throttle.begin(mine) == 0 and throttle.begin(mine) == 5
    throttle.forgive(mine)
    throttle.clear(mine[:1])
    assert throttle.wait(mine) == 0
    # Failures are forgotten an hour after the last.
    clock[0] += 3601
    assert throttle.wait(stranger) == 0


def test_ipv6_clients_count_by_their_64_and_wait_reads_in_chinese():
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert address_key("203.0.113.9") == "203.0.113.9" and address_key("") == ""
    assert (retry_text(40), retry_text(119), retry_text(121)) == ("40 秒", "119 秒", "3 分钟")


def test_forwarded_addresses_are_believed_only_from_trusted_proxies():
    proxy = trusted_networks(("127.0.0.1", "10.0.0.0/8"))
    spoofed = forwarded_hops(["6.6.6.6, 203.0.113.9"], "x-forwarded-for")
    assert spoofed == ["6.6.6.6", "203.0.113.9"]
    assert resolve_client("127.0.0.1", spoofed, proxy) == "203.0.113.9"   # what our proxy saw, not what was sent
    assert resolve_client("10.1.1.1", [*spoofed, "127.0.0.1"], proxy) == "203.0.113.9"   # two proxies
    assert resolve_client("198.51.100.7", spoofed, proxy) == "198.51.100.7"   # an untrusted peer names itself
    assert resolve_client("127.0.0.1", spoofed, ()) == "127.0.0.1"   # no proxy configured
    assert resolve_client("127.0.0.1", ["unknown"], proxy) == "127.0.0.1"
    assert resolve_client("127.0.0.1", ["10.2.2.2"], proxy) == "10.2.2.2"   # every hop a proxy: the leftmost
    assert resolve_client(None, spoofed, proxy) == ""
    hops = forwarded_hops(['for=192.0.2.43;proto=https, For="[2001:db8:cafe::17]:4711"', "for=_hidden"], "forwarded")
    assert [str(parse_ip(hop)) for hop in hops] == ["192.0.2.43", "2001:db8:cafe::17", "None"]
    assert resolve_client("127.0.0.1", hops[:2], proxy) == "2001:db8:cafe::17"
    assert str(parse_ip("::ffff:127.0.0.1")) == "127.0.0.1" and str(parse_ip("192.0.2.1:8080")) == "192.0.2.1"


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
