"""Synthetic monitoring history written through the store's own write path, for tests, the
benchmark and `monitor demo`: one site checked across daemon runs (a stop, a crash) with outages,
blips, blocked spells, error checks and items over time (stale and blank columns included).
Deterministic per seed; no network, no clock: every time comes from the spec.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from monitor.models import Category, ErrorKind, Item, Page, PageKind, ProbeResult, Result
from monitor.store import (
    BlipRow,
    CheckRow,
    Heartbeat,
    ItemsSeen,
    OutageClosed,
    OutageOpened,
    OutageProgress,
    PageStateRow,
    RollupTick,
    RunStopped,
    Store,
    WriteOp,
)
from monitor.track import outage

COLUMNS: tuple[tuple[str, Category, tuple[str, ...], float], ...] = (
    ("工作动态", Category.NEWS, ("政务动态",), 1.5),
    ("通知公告", Category.NOTICE, ("信息公开目录",), 6.0),
    ("政策文件", Category.POLICY, ("信息公开目录",), 20.0),
    ("机构概况", Category.STATIC, ("概况类",), 0.0),
    ("人事信息", Category.PERSONNEL, ("信息公开目录",), 30.0),
    ("媒体聚焦", Category.NEWS, ("政务动态",), 3.0),
    ("规划计划", Category.PLAN, ("信息公开目录",), 60.0),
    ("政策解读", Category.POLICY, ("信息公开目录",), 15.0),
)
"""(name, category, tags, mean days between items); 0 = only a few old items."""

RETRY_DELAY_S = 30.0
THRESHOLD = 2


@dataclass(frozen=True)
class HistorySpec:
    """What to generate. `interval_s` None: the default intervals (homepage 10 min, others 1 h)."""

    start: float
    days: float = 30.0
    columns: int = 8
    interval_s: float | None = None
    outages: int = 3
    blips: int = 4
    blocked_spells: int = 1
    stops: int = 1
    crash: bool = True
    error_rate: float = 0.001
    seed: int = 1
    site: str = "demo"
    title: str = "示例市交通运输局"
    base_url: str = "http://bureau.example/"
    timezone: str = "Asia/Shanghai"
    chunk_s: float = 6 * 3600.0
    rollups: bool = True

    @property
    def end(self) -> float:
        return self.start + self.days * 86400


@dataclass(frozen=True)
class Generated:
    pages: tuple[Page, ...]
    page_ids: dict[tuple[str, str], int]
    checks: int
    outages: int
    blips: int
    items: int


def site_pages(spec: HistorySpec) -> list[Page]:
    """Homepage, catalogue and `spec.columns` columns (the later ones discovered)."""

    def interval(kind: PageKind) -> float:
        return spec.interval_s or (600.0 if kind is PageKind.HOMEPAGE else 3600.0)

    pages = [
        Page(spec.site, "homepage", spec.base_url, PageKind.HOMEPAGE, interval_s=interval(PageKind.HOMEPAGE)),
        Page(spec.site, "xxgk", spec.base_url + "xxgk/", PageKind.CATALOGUE, interval_s=interval(PageKind.CATALOGUE)),
    ]
    for i in range(spec.columns):
        name, category, tags, _ = COLUMNS[i % len(COLUMNS)]
        suffix = "" if i < len(COLUMNS) else f"-{i // len(COLUMNS) + 1}"
        pages.append(
            Page(
                spec.site,
                name + suffix,
                f"{spec.base_url}col{i}/",
                PageKind.COLUMN,
                interval_s=interval(PageKind.COLUMN),
                category=category,
                tags=tags,
                discovered_by="xxgk" if i >= 3 else None,
            )
        )
    return pages


# -- the plan: when the daemon ran and what went wrong when ---------------------------------------


@dataclass(frozen=True)
class Run:
    start: float
    end: float
    clean: bool


@dataclass(frozen=True)
class Trouble:
    """One page's planned problems: down and blocked windows, blip times, error rate."""

    down: tuple[tuple[float, float], ...]
    blocked: tuple[tuple[float, float], ...]
    blips: tuple[float, ...]
    error_rate: float

    def result(self, t: float, rng: random.Random) -> Result:
        if any(s <= t < e for s, e in self.down):
            return Result.DOWN
        if any(s <= t < e for s, e in self.blocked):
            return Result.BLOCKED
        return Result.ERROR if rng.random() < self.error_rate else Result.UP


def plan_runs(spec: HistorySpec, rng: random.Random) -> list[Run]:
    """Daemon runs covering the span, separated by `stops` clean stops and an optional crash."""
    gaps = sorted(spec.start + rng.uniform(0.1, 0.9) * (spec.end - spec.start) for _ in range(spec.stops + spec.crash))
    runs: list[Run] = []
    cursor = spec.start
    crash_at = rng.randrange(len(gaps)) if spec.crash and gaps else -1
    for i, gap in enumerate(gaps):
        if gap <= cursor:
            continue
        runs.append(Run(cursor, gap, clean=i != crash_at))
        cursor = gap + rng.uniform(1, 5) * 3600
    if cursor < spec.end:
        runs.append(Run(cursor, spec.end, clean=True))
    return runs


def plan_trouble(spec: HistorySpec, rng: random.Random) -> Trouble:
    span = spec.end - spec.start

    def windows(count: int, shortest: float, longest: float) -> tuple[tuple[float, float], ...]:
        starts = (spec.start + rng.uniform(0, span) for _ in range(count))
        return tuple(sorted((s, s + rng.uniform(shortest, longest)) for s in starts))

    blips = tuple(sorted(spec.start + rng.uniform(0, span) for _ in range(spec.blips)))
    return Trouble(
        windows(spec.outages, 300, 3 * 3600), windows(spec.blocked_spells, 3600, 6 * 3600), blips, spec.error_rate
    )


# -- one page, checked like the daemon does ----------------------------------------------------------


@dataclass
class PageSim:
    """A page's runtime during generation (mirrors the daemon and the tracker: visits on the page's
    grid whatever happens, retries between them while failing, the outage machine, items)."""

    page: Page
    page_id: int
    trouble: Trouble
    mean_item_days: float
    stale_after: float | None
    health: outage.Health = field(default_factory=outage.Health)
    grid: float = 0.0
    next_visit: float = 0.0
    next_retry: float | None = None
    retries: int = 0
    blip_index: int = 0
    next_item: float = 0.0
    items: int = 0
    newest: date | None = None
    failures_written: tuple[int, float | None] = (0, None)

    @property
    def next_t(self) -> float:
        """When this page is checked next: its pending retry, else its next visit."""
        return self.next_retry if self.next_retry is not None else self.next_visit

    def start_run(self, t: float) -> None:
        """A daemon run starts: the first visit at t, then one every interval."""
        self.grid = self.next_visit = t
        self.next_retry = None

    def check_at(self, t: float, rng: random.Random, tz: ZoneInfo, ops: list[WriteOp]) -> None:
        """Record the check due at t (a visit, or a retry before the next visit) into `ops`; plan the next."""
        is_retry = self.next_retry is not None
        self.retries = self.retries + 1 if is_retry else 0
        result = self.trouble.result(t, rng)
        if self.blip_index < len(self.trouble.blips) and t >= self.trouble.blips[self.blip_index]:
            self.blip_index += 1
            result = Result.DOWN if result is Result.UP else result
        kind = _error_kind(result)
        ops.append(CheckRow(self.page_id, _probe(self.page, t, result, kind, rng), result, kind, None, self.retries))
        self.health, events = outage.step(self.health, result, t, kind.value if kind else None, THRESHOLD)
        ops += _outage_ops(self.page_id, events)
        if result is Result.UP:
            self._publish(t, rng, tz, ops)
        self._state_row(t, ops)
        if not is_retry:
            self.grid += self.page.interval_s
            self.next_visit = round(self.grid + rng.uniform(0, min(10.0, self.page.interval_s / 10)), 3)
        retry = round(t + RETRY_DELAY_S, 3)
        fits = retry + self.page.timeout_s <= self.next_visit
        self.next_retry = retry if self.health.failing and fits else None

    def _publish(self, t: float, rng: random.Random, tz: ZoneInfo, ops: list[WriteOp]) -> None:
        """Items published since the last look (the column shows them at its next up check)."""
        if self.mean_item_days <= 0 or self.page.kind is not PageKind.COLUMN:
            return
        fresh = []
        while self.next_item <= t and (self.stale_after is None or self.next_item < self.stale_after):
            self.items += 1
            day = datetime.fromtimestamp(self.next_item, tz).date()
            url = f"{self.page.url}t{day:%Y%m%d}_{self.items}.html"
            fresh.append(Item(f"{self.page.name}：关于第{self.items}项工作的通知", url, day))
            self.newest = day
            self.next_item += rng.expovariate(1 / (self.mean_item_days * 86400))
        if fresh:
            ops.append(ItemsSeen(self.page_id, t, tuple(fresh)))

    def _state_row(self, t: float, ops: list[WriteOp]) -> None:
        """Page state when the failure facts change (what the rollup watermark reads)."""
        facts = (self.health.consecutive_failures, self.health.first_failure)
        if facts == self.failures_written:
            return
        self.failures_written = facts
        newest = self.newest.isoformat() if self.newest else None
        ops.append(
            PageStateRow(
                self.page_id,
                t,
                "list",
                newest,
                self.items,
                self.items == 0,
                False,
                None,
                None,
                None,
                None,
                None,
                self.health.consecutive_failures,
                self.health.first_failure,
                self.health.first_failure_cause,
            )
        )


def _error_kind(result: Result) -> ErrorKind | None:
    return {Result.DOWN: ErrorKind.TIMEOUT, Result.BLOCKED: ErrorKind.BLOCKED}.get(result)


def _probe(page: Page, t: float, result: Result, kind: ErrorKind | None, rng: random.Random) -> ProbeResult:
    if result is Result.UP:
        ttfb = rng.uniform(0.03, 0.4)
        transfer = rng.uniform(0.005, 0.2)
        phases = {"connect": 0.004, "ttfb": ttfb, "transfer": transfer}
        return ProbeResult(
            page.url,
            t,
            result,
            status=200,
            duration_s=ttfb + transfer + 0.004,
            phases=phases,
            bytes=rng.randrange(20_000, 80_000),
        )
    if result is Result.DOWN:
        return ProbeResult(page.url, t, result, error_kind=kind, duration_s=15.0)
    return ProbeResult(page.url, t, result, error_kind=kind, status=412 if kind else None, duration_s=0.05)


def _outage_ops(page_id: int, events: list[outage.Event]) -> list[WriteOp]:
    ops: list[WriteOp] = []
    for event in events:
        if isinstance(event, outage.OutageStart):
            ops.append(OutageOpened(page_id, event.started, event.cause, event.failed_checks, "timed out"))
        elif isinstance(event, outage.OutageContinues):
            ops.append(OutageProgress(page_id, event.started, event.failed_checks, "timed out"))
        elif isinstance(event, outage.OutageEnd):
            ops.append(OutageClosed(page_id, event.started, event.ended))
        else:
            ops.append(BlipRow(page_id, event.ts, event.cause))
    return ops


# -- the whole history ------------------------------------------------------------------------------


def generate(store: Store, spec: HistorySpec, *, max_backlog: int = 100_000) -> Generated:
    """Write the history into `store` (its writer is started if needed) and wait for it to land.

    The last run is still going at `spec.end` (no stop recorded), like a live daemon.
    """
    rng = random.Random(spec.seed)
    tz = ZoneInfo(spec.timezone)
    pages = site_pages(spec)
    ids = store.sync_pages([(spec.site, spec.title, spec.base_url)], pages, spec.start)
    sims = [_simulation(spec, page, ids[page.key], i, rng) for i, page in enumerate(pages)]
    if not store.writer.alive:
        store.writer.start()
    store.submit(_old_items(spec, sims, tz))
    runs = plan_runs(spec, rng)
    checks = 0
    for index, run in enumerate(runs):
        checks += _run(store, spec, run, sims, rng, tz, last=index == len(runs) - 1, max_backlog=max_backlog)
    store.writer.drain(timeout_s=3600)
    counts = {t: store.count(t) for t in ("outages", "blips", "items")}
    return Generated(tuple(pages), ids, checks, counts["outages"], counts["blips"], counts["items"])


def _run(
    store: Store,
    spec: HistorySpec,
    run: Run,
    sims: list[PageSim],
    rng: random.Random,
    tz: ZoneInfo,
    *,
    last: bool,
    max_backlog: int,
) -> int:
    """One daemon run: checks chunk by chunk, heartbeats, rollup ticks, and how it ended."""
    run_id = store.start_run(run.start, 0, "history", "generated")
    for i, sim in enumerate(sims):
        sim.start_run(round(run.start + i * 0.2, 3))
    checks = 0
    t = run.start
    while t < run.end:
        chunk_end = min(t + spec.chunk_s, run.end)
        ops: list[WriteOp] = []
        for sim in sims:
            while sim.next_t < chunk_end:
                sim.check_at(sim.next_t, rng, tz, ops)
                checks += 1
        ops.append(Heartbeat(run_id, chunk_end))
        if spec.rollups:
            ops.append(RollupTick(chunk_end, spec.timezone))
        store.submit(ops)
        _wait_for_writer(store, max_backlog)
        t = chunk_end
    if run.clean and not last:
        store.submit([RunStopped(run_id, run.end, "stopped")])
    return checks


def _wait_for_writer(store: Store, max_backlog: int, sleep: Callable[[float], None] = time.sleep) -> None:
    """Keep memory bounded: let the writer catch up before generating more."""
    while store.writer.stats().backlog > max_backlog and store.writer.alive:
        sleep(0.005)


def _simulation(spec: HistorySpec, page: Page, page_id: int, index: int, rng: random.Random) -> PageSim:
    column = index - 2
    mean_days = COLUMNS[column % len(COLUMNS)][3] if column >= 0 else 0.0
    if column >= 0 and column % len(COLUMNS) == 6:
        mean_days = 0.0  # 规划计划 stays blank
    stale_after = {2: spec.start, 5: spec.start + 0.2 * (spec.end - spec.start)}.get(column % len(COLUMNS))
    trouble = plan_trouble(spec, rng)
    sim = PageSim(page, page_id, trouble, mean_days, stale_after if column >= 0 else None)
    if mean_days > 0:
        sim.next_item = spec.start + rng.expovariate(1 / (mean_days * 86400))
    return sim


def _old_items(spec: HistorySpec, sims: list[PageSim], tz: ZoneInfo) -> list[WriteOp]:
    """Items already on each column when monitoring started (none on the blank one)."""
    ops: list[WriteOp] = []
    start_day = datetime.fromtimestamp(spec.start, tz).date()
    for index, sim in enumerate(sims[2:]):
        if sim.page.category is Category.PLAN and index % len(COLUMNS) == 6:
            continue
        age_days = {Category.STATIC: 800, Category.POLICY: 200}.get(sim.page.category or Category.NEWS, 3)
        days = [start_day - timedelta(days=age_days + 7 * k) for k in range(3)]
        items = tuple(
            Item(f"{sim.page.name}：往期信息{k}", f"{sim.page.url}old_{k}.html", d) for k, d in enumerate(days)
        )
        sim.items, sim.newest = len(items), days[0]
        ops.append(ItemsSeen(sim.page_id, spec.start, items))
    return ops
