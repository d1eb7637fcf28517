"""portal-monitor: watches a government web portal the way a national inspector would."""

__version__ = "0.1.0"
