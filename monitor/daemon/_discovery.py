"""Column discovery in the daemon: the columns a catalogue lists become monitored pages, and
columns that appear or disappear are recorded as events (a removal once confirmed)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from monitor.config import Config
from monitor.models import Clock, Column, Page
from monitor.store import EventRow, Store, StoreError
from monitor.track import PageRuntime, RemovalConfirmation, discovered_pages

log = logging.getLogger("monitor.daemon")


class ColumnDiscovery:
    """Turns a catalogue's columns into the daemon's pages through `apply_pages` (the daemon's own:
    it syncs the database and the jobs). `config` gives the running config; `runtimes` is the
    daemon's monitored pages (shared, live)."""

    def __init__(
        self,
        *,
        config: Callable[[], Config],
        store: Store,
        clock: Clock,
        runtimes: Mapping[tuple[str, str], PageRuntime],
        apply_pages: Callable[[list[Page], float], None],
    ) -> None:
        self._config = config
        self._store = store
        self._clock = clock
        self._runtimes = runtimes
        self._apply_pages = apply_pages
        self._removals = RemovalConfirmation()

    def forget(self, key: tuple[str, str]) -> None:
        """A page is no longer monitored: drop its pending removal confirmation."""
        self._removals.forget(key)

    def discover(self, catalogue: Page, columns: tuple[Column, ...]) -> bool:
        """Monitor the columns a catalogue lists; record columns that appear or disappear.

        False when the catalogue must be read again at its next check: the change could not be
        applied (the database is not writable), or a column's removal awaits confirmation."""
        raw = self._config().raw
        site = next((s for s in raw.sites if s.name == catalogue.site), None)
        if site is None or not site.discover:
            return True
        current = {
            k: rt.page
            for k, rt in self._runtimes.items()
            if rt.page.discovered_by == catalogue.name and k[0] == catalogue.site
        }
        others = [rt.page for k, rt in self._runtimes.items() if k not in current]
        found = discovered_pages(
            raw, site, catalogue.name, columns, reserved=[p for p in others if p.site == catalogue.site]
        )
        wanted = {p.key: p for p in found}
        unconfirmed = self._removals.unconfirmed(current.keys(), wanted.keys())
        wanted.update((k, current[k]) for k in unconfirmed)
        if wanted.keys() == current.keys():
            return not unconfirmed
        try:
            self._apply_pages(others + list(wanted.values()), self._clock.now())
        except StoreError as exc:
            log.warning("%s: column changes not applied, trying again at the next check: %s", catalogue.site, exc)
            return False
        self._record_column_events(catalogue, current, wanted)
        return not unconfirmed

    def _record_column_events(
        self, catalogue: Page, current: dict[tuple[str, str], Page], wanted: dict[tuple[str, str], Page]
    ) -> None:
        now = self._clock.now()
        site_id = self._store.site_ids().get(catalogue.site)
        events = [
            EventRow(now, "column_added", f"{p.name} {p.url}", site_id) for k, p in wanted.items() if k not in current
        ]
        events += [
            EventRow(now, "column_removed", f"{p.name} {p.url}", site_id) for k, p in current.items() if k not in wanted
        ]
        for event in events:
            log.info("%s: %s %s", catalogue.site, event.kind.replace("_", " "), event.detail)
        self._store.submit(events)
