"""Where the test PostgreSQL server is."""

import os

PG_URL = os.environ.get("FANGXUN_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
