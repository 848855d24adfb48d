"""HTTP API and pages (aiohttp)."""
