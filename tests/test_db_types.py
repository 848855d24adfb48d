"""UTCDateTime: aware UTC in, aware UTC out, and on SQLite the very text SQLAlchemy's DATETIME writes."""

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import DateTime
from sqlalchemy.dialects import postgresql, sqlite

from fangxun.core.db import UTCDateTime

BEIJING = timezone(timedelta(hours=8))


@pytest.mark.parametrize("value", [
    datetime(2026, 7, 20, 8, 0, tzinfo=BEIJING),  # whole seconds: .000000 all the same
    datetime(2026, 7, 20, 23, 59, 59, 999_999, tzinfo=timezone.utc),
    datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=timezone.utc),  # a year of three digits is padded
])
def test_sqlite_text_is_what_sqlalchemy_datetime_writes(value):
    dialect = sqlite.dialect()
    ours = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    plain = DateTime().dialect_impl(dialect).bind_processor(dialect)
    assert ours(value) == plain(value.astimezone(timezone.utc).replace(tzinfo=None))


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()], ids=["sqlite", "postgresql"])
def test_naive_times_are_refused(dialect):
    process = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    with pytest.raises(ValueError, match="naive"):
        process(datetime(2026, 7, 20))
