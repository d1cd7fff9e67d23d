"""Browser tests here reuse the web suite's system-Chromium launch settings."""

from tests.web.conftest import browser_type_launch_args

__all__ = ["browser_type_launch_args"]
