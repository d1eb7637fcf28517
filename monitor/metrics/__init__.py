"""Prometheus: the daemon's latest state per page and site, the metric families, the text
exposition and the /metrics server. See docs/architecture.md.
"""

from monitor.metrics._links import LinkMetrics
from monitor.metrics._series import CheckFacts
from monitor.metrics._state import MetricsServer, MonitorState, build_registry

__all__ = [
    "CheckFacts",
    "LinkMetrics",
    "MetricsServer",
    "MonitorState",
    "build_registry",
]
