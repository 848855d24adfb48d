"""The settings of the whole service: every package's section, loaded and checked against each other."""

from __future__ import annotations

import os

from fangxun.core.service_settings import AuthSettings, MonitoringSettings, ServerSettings
from fangxun.core.settings import Layers, Strict
from fangxun.geo.config import MapSettings
from fangxun.plans.config import RegistrySettings
from fangxun.warnings.config import REPLACED_WHOLE, WarningSettings, reference_problems
from fangxun.warnings.events.config import EventSettings, ResponseSettings, response_reference_problems


class Settings(Strict):
    registry: RegistrySettings
    auth: AuthSettings = AuthSettings()
    server: ServerSettings = ServerSettings()
    map: MapSettings = MapSettings()
    warnings: WarningSettings = WarningSettings()
    events: EventSettings = EventSettings()
    response: ResponseSettings = ResponseSettings()
    monitoring: MonitoringSettings = MonitoringSettings()
    source: tuple[str, ...] = ()


def load_settings(path: str | os.PathLike | None = None) -> Settings:
    """Packaged defaults, merged with `path` (or $FANGXUN_CONFIG) when given, validated."""
    layers = Layers(path, replaced_whole=[("warnings",) + pattern for pattern in REPLACED_WHOLE])
    settings = layers.validate(Settings, source=layers.sources)
    # Names that point nowhere (departments, channels, templates) are refused like Alertmanager's
    # undefined receivers: at start-up, with the key that names them.
    problems = [(("warnings",) + loc, message) for loc, message in reference_problems(settings.warnings)]
    problems += [(("response",) + loc, message) for loc, message in
                 response_reference_problems(settings.response, set(settings.warnings.departments))]
    if problems:
        loc, message = problems[0]
        more = f"（另有 {len(problems) - 1} 处）" if len(problems) > 1 else ""
        raise layers.error(loc, f"{message}{more}")
    return settings
