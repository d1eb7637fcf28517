"""The long-running monitor: schedules one check job per page and keeps everything running.

APScheduler 3.x (`AsyncIOScheduler`) fires the jobs; `run_check` does the work and `Tracker`
records it. `Daemon` owns the lifecycle and the jobs: start-up restore, the check job, retries
after failures, SIGHUP reload, SIGTERM shutdown within 10 s. Its collaborators, each in its own
module, do the rest: `_visits` plans visits and retries (pure), `_discovery` turns catalogues'
columns into pages, `_integrity` and `_ipv6` the integrity work and IPv6 readings, `_links` wires
the link passes, `_health` judges health and tells systemd, `_reload` reads and compares a new
config, `_clock` follows wall-clock steps.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import signal
import socket
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from prometheus_client import Histogram

from monitor import __version__
from monitor.check import CheckOutcome, Ipv6Prober, Judge, PageFetcher, Previous, ReadPool, run_check
from monitor.config import Config, listen_scope, site_base_url
from monitor.daemon._clock import ClockWatch
from monitor.daemon._discovery import ColumnDiscovery
from monitor.daemon._health import HEARTBEAT_S, Health, notified
from monitor.daemon._integrity import Integrity, integrity_tracker
from monitor.daemon._ipv6 import IPV6_FIRST_S, IPV6_WINDOW_S, Ipv6Readings, ipv6_prober
from monitor.daemon._links import LINKS_TICK_S, LinkPasses
from monitor.daemon._memory import TRIM_EVERY_S, HeapTrim, malloc_trim
from monitor.daemon._reload import discovery_changed, read_new_config, warn_restart_only
from monitor.daemon._visits import job_id, next_checks, retry_job_id, visit_trigger
from monitor.integrity import Resolver
from monitor.links import LinkRunner
from monitor.metrics import MetricsServer, MonitorState, build_registry
from monitor.models import Clock, Page, PageKind, ProbeResult, Result
from monitor.notify import Notifier
from monitor.store import (
    Heartbeat,
    LinkPrune,
    Prune,
    PruneIntegrity,
    PruneIpv6,
    RollupTick,
    RunStopped,
    Store,
    StoreError,
)
from monitor.track import PageRuntime, Tracker, monitored_pages, restore_runtime

log = logging.getLogger("monitor.daemon")

ROLLUP_EVERY_S = 60.0
PRUNE_EVERY_S = 86400.0
SHUTDOWN_GRACE_S = 5.0
"""In-flight checks get this long to finish on SIGTERM before they are cancelled."""
WRITER_FLUSH_S = 3.0
STARTUP_RATE = 200.0
"""At most this many first checks per second at start-up, so thousands of pages do not stampede
(unless more pages than this per second are due anyway: then they are spread evenly over the interval)."""
PARKED_S = 10 * 365 * 86400.0
"""A new job's first run until `_spread_first_runs` gives it its place (always before it could come)."""
_HALF_PARKED = timedelta(seconds=PARKED_S / 2)
CHECKS_AT_ONCE = 256
"""Page checks past their start at once. Each holds its body until a read worker is free, and a
first round (200 first checks a second) fetches faster than two workers read real pages: at 5,000
pages 1,500 bodies (73 MB) waited in memory, and glibc kept the heap they had used. At the real
rate a province has ~7 checks a second, each done in seconds: the bound never waits there."""
READ_WORKERS_WAIT_S = 10.0
"""At start, how long the daemon waits for its read workers before scheduling checks anyway."""
GIL_SWITCH_INTERVAL_S = 0.001
"""The daemon process's `sys.setswitchinterval`. With the default 5 ms, a /metrics scrape rendering
on its thread makes the event loop wait up to 5 ms for the GIL after every socket call (the convoy
effect): 1,100 instead of 4,200 loop round trips a second while 10,000 pages render, and checks
due meanwhile start late."""


@dataclass(frozen=True)
class Listening:
    host: str
    port: int


class Daemon:
    """One monitor process: pages, jobs, runtimes and the shutdown path."""

    def __init__(
        self,
        config: Config,
        *,
        store: Store,
        fetcher: PageFetcher,
        clock: Clock,
        notifier: Notifier | None = None,
        reload_config: Callable[[], Config] | None = None,
        reader: ReadPool | None = None,
        links: LinkRunner | None = None,
        resolver: Resolver | None = None,
        ipv6: Ipv6Prober | None = None,
        heap_trim: HeapTrim | None = None,
        checks_at_once: int = CHECKS_AT_ONCE,
    ) -> None:
        self._config = config
        self._heap_trim = heap_trim or HeapTrim(malloc_trim())
        """Hands freed heap memory back to the system every TRIM_EVERY_S (glibc; nothing elsewhere)."""
        self._store = store
        self._fetcher = fetcher
        self._clock = clock
        self._notifier = notifier or Notifier(address=None)
        self._reload_config = reload_config
        self._reader = reader or ReadPool()
        self._resolver = resolver
        self._ipv6 = ipv6
        """The IPv6 prober (None: a default one is built at start when `ipv6.enabled`)."""
        self._ipv6_readings: Ipv6Readings | None = None
        self._integrity: Integrity | None = None
        self._state = MonitorState(clock)
        self._runtimes: dict[tuple[str, str], PageRuntime] = {}
        self._inflight: set[asyncio.Task[None]] = set()
        self._check_slots = asyncio.Semaphore(checks_at_once)
        self._checking: set[tuple[str, str]] = set()
        self._scheduled_for: dict[str, float] = {}
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._stop = asyncio.Event()
        self._stop_reason = "stopped"
        self._run_id: int | None = None
        self._tracker: Tracker | None = None
        self._server: MetricsServer | None = None
        self._lag: Histogram | None = None
        self._send_lag: Histogram | None = None
        self.listening: Listening | None = None
        self._clock_watch = ClockWatch(self._scheduler, clock)
        self._discovery = ColumnDiscovery(
            config=lambda: self._config,
            store=store,
            clock=clock,
            runtimes=self._runtimes,
            apply_pages=self._apply_pages,
        )
        self._health = Health(self._scheduler, store, self._notifier, self._runtimes)
        self._links = LinkPasses(links, store=store, runtimes=self._runtimes)
        """Link passes in the background (no runner: no link checking, e.g. tests of the page checks)."""

    # -- lifecycle ---------------------------------------------------------------------------

    async def run(self, *, install_signals: bool = True) -> int:
        """Run until SIGTERM/SIGINT (or `request_stop`); return the exit status.

        `install_signals=False` leaves the process's signal handlers alone (the daemon embedded in
        a test or another program is stopped with `request_stop`, reloaded with `reload`).
        """
        if not await self._reader.start(READ_WORKERS_WAIT_S):
            log.warning("the read workers did not start in time; the first reads start them again")
        self._start()
        if install_signals:
            self._install_signals()
        notified(self._notifier.ready())
        log.info(
            "monitoring %d pages; metrics on http://%s:%d/metrics",
            len(self._runtimes),
            *(self.listening.host, self.listening.port) if self.listening else ("-", 0),
        )
        watcher = asyncio.create_task(self._clock_watch.watch())
        await self._stop.wait()
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)
        await self._shutdown()
        return 0

    def request_stop(self, reason: str = "stopped") -> None:
        self._stop_reason = reason
        self._stop.set()

    def _start(self) -> None:
        now = self._clock.now()
        self._run_id = self._store.start_run(now, os.getpid(), __version__, socket.gethostname())
        self._tracker = Tracker(self._store, run_id=self._run_id)
        self._integrity = self._integrity_work()
        exporter = build_registry(
            self._state,
            clock=self._clock,
            tz=self._config.timezone,
            writer=self._store.writer,
            db_path=self._store.path,
            links=self._links.metrics,
            per_page=self._config.raw.metrics.per_page,
        )
        self._lag = exporter.scheduler_lag
        self._send_lag = exporter.send_lag
        self._server = MetricsServer(exporter.render, self.health)
        self._store.writer.start()
        self._scheduler.add_listener(self._on_submitted, EVENT_JOB_SUBMITTED)
        self._scheduler.start()
        self._apply_pages(self._wanted_pages(), now)
        # Whatever ran before us (an older version, a one-shot command) may have left the database's
        # columns out of step with a catalogue remembered as unchanged: read each one in full once.
        self._reread_catalogues({site.name for site in self._config.raw.sites})
        self._scheduler.add_job(
            self._heartbeat,
            IntervalTrigger(seconds=HEARTBEAT_S),
            id="heartbeat",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=int(HEARTBEAT_S),
        )
        self._schedule_maintenance()
        self._schedule_links()
        self._schedule_ipv6(now)
        self._start_server()

    def _schedule_maintenance(self) -> None:
        """Rollups every minute, retention daily: write ops run on the writer thread, in steps; the
        integrity sweep (cloaking visits, lapsed-domain lookups) on its own slower cadence; freed
        heap memory handed back every minute (the first round's bodies, docs/benchmarks.md, "Where the memory went")."""
        for job, seconds in ((self._rollup, ROLLUP_EVERY_S), (self._prune, PRUNE_EVERY_S)):
            self._scheduler.add_job(
                job, IntervalTrigger(seconds=seconds), id=job.__name__.strip("_"), max_instances=1, coalesce=True
            )
        if self._heap_trim.available:
            self._scheduler.add_job(
                self._heap_trim, IntervalTrigger(seconds=TRIM_EVERY_S), id="heap-trim", max_instances=1, coalesce=True
            )
        if self._integrity is not None:
            self._scheduler.add_job(
                self._sweep_job,
                IntervalTrigger(seconds=self._config.raw.integrity.sweep_interval),
                id="integrity-sweep",
                max_instances=1,
                coalesce=True,
            )

    def _schedule_links(self) -> None:
        """Link passes run as background tasks on this loop; a job looks for due ones every minute,
        the first a second after start (a daemon started after today's slot catches up)."""
        if not self._links.start(site.name for site in self._config.raw.sites):
            return
        self._scheduler.add_job(
            self._links.tick,
            IntervalTrigger(seconds=LINKS_TICK_S),
            id="links",
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC) + timedelta(seconds=1),
        )

    def _rollup(self) -> None:
        self._store.submit([RollupTick(self._clock.now(), self._config.raw.timezone)])

    def _prune(self) -> None:
        now, retention = self._clock.now(), self._config.raw.storage.raw_retention
        prunes = (Prune, LinkPrune, PruneIntegrity, PruneIpv6)
        self._store.submit([prune(now, retention) for prune in prunes])

    def _start_server(self) -> None:
        assert self._server is not None
        host, port = self._server.start(self._config.listen_host, self._config.listen_port)
        self.listening = Listening(host, port)
        if listen_scope(host) != "loopback":
            log.warning(
                "metrics and /healthz listen on %s:%d, reachable from other hosts (metrics.listen)",
                host,
                port,
            )

    def _install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self.request_stop, "SIGTERM")
        loop.add_signal_handler(signal.SIGINT, self.request_stop, "SIGINT")
        loop.add_signal_handler(signal.SIGHUP, self.reload)

    async def _shutdown(self) -> None:
        started = time.monotonic()
        notified(self._notifier.stopping())
        log.info("stopping (%s): %d checks in flight", self._stop_reason, len(self._inflight))
        self._scheduler.pause()
        await self._drain_inflight()
        await self._links.aclose()  # a pass cut short stays recorded as incomplete
        self._scheduler.shutdown(wait=False)
        if self._run_id is not None:
            self._store.submit([RunStopped(self._run_id, self._clock.now(), self._stop_reason)])
        flushed = await asyncio.to_thread(self._store.writer.stop, WRITER_FLUSH_S)
        await _close(self._fetcher)
        if self._ipv6 is not None:
            await self._ipv6.aclose()
        self._reader.close()
        if self._server:
            self._server.stop()
        if not flushed:
            log.error("could not write every queued row before exit (database unavailable)")
        log.info("stopped in %.1fs", time.monotonic() - started)

    async def _drain_inflight(self) -> None:
        if not self._inflight:
            return
        _, pending = await asyncio.wait(set(self._inflight), timeout=SHUTDOWN_GRACE_S)
        for task in pending:
            task.cancel()
        if pending:
            log.info("cancelled %d checks still running after %.0fs", len(pending), SHUTDOWN_GRACE_S)
            await asyncio.gather(*pending, return_exceptions=True)

    # -- health ------------------------------------------------------------------------------

    def health(self) -> tuple[bool, str]:
        """(healthy, reason) for /healthz: the scheduler ticks and the database writer thread is alive."""
        return self._health.health()

    def _heartbeat(self) -> None:
        self._health.tick()
        now = self._clock.now()
        if self._run_id is not None:
            self._store.submit([Heartbeat(self._run_id, now)])
        self._health.notify()

    # -- pages and jobs ----------------------------------------------------------------------

    def _wanted_pages(self) -> list[Page]:
        """Configured pages plus the discovered columns the database remembers."""
        return monitored_pages(self._config, self._store.pages())

    def _apply_pages(self, pages: list[Page], now: float) -> None:
        """Make the running set of pages and jobs equal `pages` (start, update, stop)."""
        sites = [(s.name, s.title, site_base_url(s)) for s in self._config.raw.sites]
        ids = self._store.sync_pages(sites, pages, now)
        wanted = {p.key: p for p in pages}
        gone = [key for key in self._runtimes if key not in wanted]
        for key in gone:
            self._remove_job(key)
            del self._runtimes[key]
            self._discovery.forget(key)
        self._state.set_pages(pages)
        added = [p for p in pages if p.key not in self._runtimes]
        self._restore(added, ids)
        added_keys = {page.key for page in added}
        for page in pages:
            if page.key not in added_keys:
                self._update(page)
        for page in added:
            self._add_job(page)
        self._spread_when_free([page.key for page in added])

    def _restore(self, pages: Iterable[Page], ids: dict[tuple[str, str], int]) -> None:
        pages = list(pages)
        if not pages:
            return
        states, outages, counts = (
            self._store.page_states(),
            self._store.open_outages(),
            self._store.outage_counts(),
        )
        since = self._clock.now() - 7 * 86400
        for page in pages:
            page_id = ids[page.key]
            rt = restore_runtime(page, page_id, states.get(page_id), outages.get(page_id))
            self._runtimes[page.key] = rt
            started = rt.health.outage_started
            self._state.restore(
                page.key, outage_started=started, outages_total=counts.get(page_id, 0), content=rt.content
            )
            if page.kind is PageKind.HOMEPAGE:
                self._state.seed_homepage_checks(page.site, self._store.homepage_checks(page_id, since))

    def _update(self, page: Page) -> None:
        rt = self._runtimes[page.key]
        old, rt.page = rt.page, page
        if _content_settings(old) != _content_settings(page):
            rt.previous = dataclasses.replace(rt.previous, content_hash=None)  # judge and read it afresh
        if (old.interval_s, old.jitter_s) != (page.interval_s, page.jitter_s):
            self._scheduler.reschedule_job(job_id(page.key), trigger=visit_trigger(page))
            log.info("%s: interval now %gs", job_id(page.key), page.interval_s)

    def _add_job(self, page: Page) -> None:
        """The page's job, parked: `_spread_first_runs` gives it its first run."""
        start = datetime.now(UTC) + timedelta(seconds=PARKED_S)
        self._scheduler.add_job(
            self._check_job,
            visit_trigger(page),
            args=[page.key],
            id=job_id(page.key),
            name=job_id(page.key),
            max_instances=1,
            coalesce=True,
            misfire_grace_time=max(1, int(page.interval_s)),
            next_run_time=start,
            replace_existing=True,
        )

    def _spread_when_free(self, keys: list[tuple[str, str]]) -> None:
        """Give the new pages' parked jobs their first runs, STARTUP_RATE a second, counted from when
        the event loop is next free. Timed as they were added, every first run that fell due while
        the rest of the start-up still held the loop (seconds at 20,000 pages) fired in one burst."""
        try:
            asyncio.get_running_loop().call_soon(self._spread_first_runs, keys)
        except RuntimeError:  # no loop running (a synchronous caller): spread now
            self._spread_first_runs(keys)

    def _spread_first_runs(self, keys: list[tuple[str, str]]) -> None:
        base = datetime.now(UTC)
        index = 0
        for key in keys:
            rt = self._runtimes.get(key)
            job = self._scheduler.get_job(job_id(key))
            parked = job is not None and job.next_run_time is not None and job.next_run_time > base + _HALF_PARKED
            if rt is None or job is None or not parked:
                continue  # removed since, or rescheduled by a reload in between
            # Wrapped, not clamped, to the interval: clamping put every page past STARTUP_RATE x interval
            # on the same instant, a burst that then repeated every interval for the life of the daemon.
            offset = (index / STARTUP_RATE) % rt.page.interval_s
            job.modify(next_run_time=base + timedelta(seconds=offset))
            index += 1

    def _remove_job(self, key: tuple[str, str]) -> None:
        for ident in (job_id(key), retry_job_id(key)):
            if self._scheduler.get_job(ident) is not None:
                self._scheduler.remove_job(ident)

    def _on_submitted(self, event: JobSubmissionEvent) -> None:
        if event.scheduled_run_times:
            self._scheduled_for[event.job_id] = event.scheduled_run_times[-1].timestamp()

    # -- one check ---------------------------------------------------------------------------

    async def _check_job(self, key: tuple[str, str], attempt: int = 0) -> None:
        """One check of a page: a visit (`attempt` 0, from the interval job) or its n-th retry since
        the last visit (from the one-off retry job, which passes n). A visit drops a pending retry;
        a retry that finds a check of the page still running is dropped (that check plans anew)."""
        rt = self._runtimes.get(key)
        task = asyncio.current_task()
        if rt is None or task is None or self._tracker is None or (attempt and key in self._checking):
            return
        if attempt == 0:
            self._remove_retry(key)
        self._inflight.add(task)
        self._checking.add(key)
        try:
            scheduled = self._observe_lag(retry_job_id(key) if attempt else job_id(key))
            outcome = await self._checked(rt)
            self._observe_send_lag(scheduled, outcome.probe)
            recorded = self._tracker.record(rt, outcome, self._clock.now(), attempt=attempt)
            self._state.apply(key, recorded)
            if outcome.inspection is not None and self._integrity is not None:
                self._integrity.record(rt.page, outcome)
            _log_outcome(outcome)
            if (
                recorded.columns
                and rt.page.kind is PageKind.CATALOGUE
                and not self._discovery.discover(rt.page, recorded.columns)
            ):
                rt.previous = Previous()  # no validators, no hash: the next check reads the catalogue again
            if key in self._runtimes:
                self._plan_next(rt, outcome.probe, attempt)
        except asyncio.CancelledError:
            if not self._stop.is_set():
                raise
            # Cancelled by a clean stop (counted in one line by _drain_inflight): ending quietly keeps
            # APScheduler from logging each one as a failed job with a traceback.
            log.debug("%s: check cancelled by the stop", job_id(key))
        finally:
            self._checking.discard(key)
            self._inflight.discard(task)

    async def _checked(self, rt: PageRuntime) -> CheckOutcome:
        """Run the check; a bug in our own pipeline becomes an `error` result, never a crash."""
        started = self._clock.now()
        try:
            async with self._check_slots:  # CHECKS_AT_ONCE: bodies waiting for a read are bounded
                return await run_check(self._fetcher, rt.page, rt.previous, self._today(), self._judge(rt.page))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("internal error checking %s", job_id(rt.page.key))
            probe = ProbeResult(
                url=rt.page.url,
                started_at=started,
                result=Result.ERROR,
                error=f"internal error: {type(exc).__name__}",
            )
            return CheckOutcome(rt.page, probe, Result.ERROR, None, probe.error)

    def _observe_lag(self, ident: str) -> float | None:
        """Observe how late the job started; its scheduled time (epoch seconds), if known."""
        scheduled = self._scheduled_for.pop(ident, None)
        if scheduled is not None and self._lag is not None:
            self._lag.observe(max(0.0, time.time() - scheduled))
        return scheduled

    def _observe_send_lag(self, scheduled: float | None, probe: ProbeResult) -> None:
        """How late the request could go out: the probe starts once its host's budget gave it a slot
        (shared with the link checks, issue 12), so this shows a sweep delaying page checks."""
        if scheduled is not None and self._send_lag is not None and probe.result is not Result.ERROR:
            self._send_lag.observe(max(0.0, probe.started_at - scheduled))

    def _plan_next(self, rt: PageRuntime, probe: ProbeResult, attempt: int) -> None:
        """After a check: defer the next visit for Retry-After, and queue a retry while failing."""
        page = rt.page
        visit = self._scheduler.get_job(job_id(page.key))
        if visit is None or visit.next_run_time is None:
            return
        planned = visit.next_run_time.timestamp()
        now = datetime.now(UTC).timestamp()  # the scheduler's time (a stepped wall clock included)
        plan = next_checks(
            page, now=now, next_visit=planned, failing=rt.health.failing, retry_after_s=probe.retry_after_s
        )
        if plan.visit_at != planned:
            visit.modify(next_run_time=datetime.fromtimestamp(plan.visit_at, UTC))
            log.info("%s: next visit deferred %.0fs for Retry-After", job_id(page.key), plan.visit_at - planned)
        if plan.retry_at is not None:
            self._scheduler.add_job(
                self._check_job,
                DateTrigger(run_date=datetime.fromtimestamp(plan.retry_at, UTC)),
                args=[page.key, attempt + 1],
                id=retry_job_id(page.key),
                name=retry_job_id(page.key),
                misfire_grace_time=max(1, int(page.interval_s)),
                replace_existing=True,
            )

    def _remove_retry(self, key: tuple[str, str]) -> None:
        if self._scheduler.get_job(retry_job_id(key)) is not None:
            self._scheduler.remove_job(retry_job_id(key))

    def _today(self) -> date:
        return datetime.fromtimestamp(self._clock.now(), self._config.timezone).date()

    # -- integrity (docs/integrity.md) ----------------------------------------------------------

    def _integrity_work(self) -> Integrity | None:
        """The integrity work, its tracker restored from the database; None when turned off (restart to change)."""
        made = integrity_tracker(self._config, self._store, self._state)
        if made is None:
            return None
        tracker, words = made
        return Integrity(
            tracker,
            words,
            config=lambda: self._config,
            store=self._store,
            state=self._state,
            clock=self._clock,
            fetcher=self._fetcher,
            reader=self._reader,
            resolver=self._resolver,
        )

    def _judge(self, page: Page) -> Judge:
        """The read pool's judge; for a homepage with integrity on, it also inspects the page."""
        return self._reader.judge if self._integrity is None else self._integrity.judge(page)

    async def _sweep_job(self) -> None:
        """The integrity sweep of every homepage (the job exists only while integrity is on)."""
        integrity = self._integrity
        if integrity is not None:
            await self._in_flight(lambda: integrity.sweep_all(self._homepages()))

    def _homepages(self) -> Iterator[Page]:
        """The homepages now; each page is read when reached (a reload may update it meanwhile)."""
        runtimes = [rt for rt in self._runtimes.values() if rt.page.kind is PageKind.HOMEPAGE]
        return (rt.page for rt in runtimes)

    async def _in_flight(self, work: Callable[[], Awaitable[None]]) -> None:
        """Run a background job's work in a task the shutdown waits for; cancelled by a clean stop,
        it ends quietly (APScheduler would log a cancelled job as a failure with a traceback)."""
        task = asyncio.current_task()
        if task is not None:
            self._inflight.add(task)
        try:
            await work()
        except asyncio.CancelledError:
            if not self._stop.is_set():
                raise
        finally:
            if task is not None:
                self._inflight.discard(task)

    # -- IPv6 (docs/integrity.md#ipv6) ----------------------------------------------------------

    def _schedule_ipv6(self, now: float) -> None:
        """The IPv6 readings' job on `ipv6.interval`, after the last 24 hours are restored into the metrics."""
        settings = self._config.raw.ipv6
        if not settings.enabled:
            return
        self._ipv6 = self._ipv6 or ipv6_prober(settings.hosts, self._fetcher, self._clock)
        self._ipv6_readings = Ipv6Readings(
            self._ipv6,
            config=lambda: self._config,
            store=self._store,
            state=self._state,
            integrity=self._integrity.tracker if self._integrity is not None else None,
            clock=self._clock,
        )
        self._ipv6_readings.restore(now - IPV6_WINDOW_S)
        first = datetime.now(UTC) + timedelta(seconds=min(IPV6_FIRST_S, settings.interval))
        self._scheduler.add_job(
            self._ipv6_job,
            IntervalTrigger(seconds=settings.interval),
            id="ipv6",
            max_instances=1,
            coalesce=True,
            next_run_time=first,
        )

    async def _ipv6_job(self) -> None:
        """Each homepage of a site with `ipv6` on, read over IPv6 and IPv4, one after the other."""
        readings = self._ipv6_readings
        if readings is not None:
            await self._in_flight(lambda: readings.read_all(self._homepages()))

    # -- reload ------------------------------------------------------------------------------

    def reload(self) -> None:
        """SIGHUP: re-read config.yaml; apply it, or keep the running config if it is invalid."""
        if self._reload_config is None:
            return
        notified(self._notifier.reloading())
        config = read_new_config(self._reload_config)
        if config is None:
            self._state.record_reload(False)
            notified(self._notifier.ready())
            return
        self._warn_restart_only(config)
        before, running = set(self._runtimes), self._config
        self._config = config
        try:
            self._apply_pages(self._wanted_pages(), self._clock.now())
        except StoreError as exc:
            # Nothing was applied (the pages table is written first, all or nothing).
            self._config = running
            log.error("reload rejected, keeping the running config: %s", exc)
            self._state.record_reload(False)
            notified(self._notifier.ready())
            return
        self._reread_catalogues(discovery_changed(running, config))
        self._links.configure(config)
        after = set(self._runtimes)
        self._state.record_reload(True)
        log.info(
            "config reloaded: %d pages (%d added, %d removed)",
            len(after),
            len(after - before),
            len(before - after),
        )
        notified(self._notifier.ready())

    def _reread_catalogues(self, sites: set[str]) -> None:
        """Forget the validators and content hash of the catalogues of `sites` that discover columns,
        so their next check reads the column list afresh (an unchanged catalogue is otherwise skipped,
        and columns it lists that are not monitored now would never be found again)."""
        discovering = {site.name for site in self._config.raw.sites if site.discover and site.name in sites}
        for rt in self._runtimes.values():
            if rt.page.kind is PageKind.CATALOGUE and rt.page.site in discovering:
                rt.previous = Previous()

    def _warn_restart_only(self, config: Config) -> None:
        warn_restart_only(self._config, config)


def _content_settings(page: Page) -> tuple[object, ...]:
    """The settings an unchanged body was judged and read with."""
    return (page.expect, page.item_selector, page.date_selector, page.kind)


def _log_outcome(outcome: CheckOutcome) -> None:
    key = job_id(outcome.page.key)
    probe = outcome.probe
    if outcome.result is Result.UP:
        log.debug("%s up %s in %.3fs", key, probe.status, probe.duration_s)
    else:
        log.info(
            "%s %s %s%s",
            key,
            outcome.result.value,
            outcome.error_kind.value if outcome.error_kind else "-",
            f" ({outcome.error})" if outcome.error else "",
        )


async def _close(fetcher: PageFetcher) -> None:
    close = getattr(fetcher, "aclose", None)
    if close is not None:
        await close()
