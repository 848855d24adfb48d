"""Notification channels: webhook, WeCom and DingTalk robots, SMS gateway, e-mail, record file.

Every channel answers `send(message)` with a `ChannelResult` saying whether the failure is worth
retrying; `build_channels` turns the configured channels into gated channels that share one
aiohttp client session. The kinds are registered in `config.KINDS`: a new kind is its module here
(with `build`), its configuration model and one line there.
"""
