"""What a reload (SIGHUP) reads and compares: the new config or why it is rejected, the settings
that wait for a restart, and the sites whose column discovery changed."""

from __future__ import annotations

import logging
from collections.abc import Callable

from monitor.config import Config, ConfigError

log = logging.getLogger("monitor.daemon")


def read_new_config(read: Callable[[], Config]) -> Config | None:
    """The config as it is now on disk, or None (logged) when it cannot be used.

    Runs in a signal callback: an exception escaping it would skip the READY notification and
    the rejected count, so anything reading the config may raise is a rejection."""
    try:
        return read()
    except ConfigError as exc:
        for problem in exc.problems:
            log.error("reload rejected, keeping the running config: %s", problem)
    except Exception as exc:
        log.error("reload rejected, keeping the running config: %s: %s", type(exc).__name__, exc)
    return None


def warn_restart_only(old: Config, config: Config) -> None:
    """Log the changed settings a reload does not apply: they take effect at the next restart."""
    if (config.listen_host, config.listen_port) != (old.listen_host, old.listen_port):
        log.warning("metrics.listen changed: takes effect at the next restart")
    if config.db_path != old.db_path:
        log.warning("storage.path changed: takes effect at the next restart")
    if config.raw.ipv6 != old.raw.ipv6:
        log.warning("ipv6 settings changed: they take effect at the next restart")
    if config.raw.integrity != old.raw.integrity:
        log.warning("integrity settings changed: they take effect at the next restart")


def discovery_changed(old: Config, new: Config) -> set[str]:
    """Sites whose discovery settings (or the hosts they judge columns by) differ between two configs."""

    def settings(config: Config) -> dict[str, object]:
        return {
            s.name: (s.discover, s.discovery.model_dump(), s.base_url, tuple(s.allowed_hosts)) for s in config.raw.sites
        }

    before, after = settings(old), settings(new)
    return {name for name, value in after.items() if before.get(name) != value}
