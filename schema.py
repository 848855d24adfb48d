"""Imports every table module so Base.metadata is complete (for migrations and tests)."""

from fangxun.core import audit  # noqa: F401
from fangxun.core import accounts
from fangxun.core import page_sessions  # noqa: F401
from fangxun.core.db import Base
from fangxun.plans import models  # noqa: F401
from fangxun.warnings import tables  # noqa: F401
from fangxun.warnings.acks import tables as ack_tables  # noqa: F401
from fangxun.warnings.duty import tables as duty_tables  # noqa: F401
from fangxun.warnings.events import tables as event_tables  # noqa: F401

metadata = Base.metadata
