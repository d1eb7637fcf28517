"""One budget per host (issue 12): the daemon's page checks and link checks share a `HostBudget`,
so a host never sees more requests at once than its limit, and page checks still start on time
while a sweep keeps the host busy. A real server on 127.0.0.1 counts the requests it answers at once."""

from __future__ import annotations

import asyncio
import time

from monitor.check import Fetcher, HostBudget, HostLimits
from monitor.links import LinkChecker, LinkSettings, SiteScope
from monitor.models import Page, Result
from tests.links.links_site import LinkSite, Reply, html, serving

LINK_DELAY_S = 0.6
"""Long against scheduling noise on a loaded machine: a page check queued behind link checks waits
this long per link ahead of it; one that goes first waits for nothing (or the one in flight)."""
LINKS = 16
VISITS = 12


def _site() -> LinkSite:
    routes = {f"/slow/{n}.html": Reply(body=html("慢"), delay_s=LINK_DELAY_S) for n in range(LINKS)}
    routes["/home"] = Reply(body=html("首页"), delay_s=0.02)
    return LinkSite(routes)


async def _sweep(checker: LinkChecker, base: str) -> None:
    scope = SiteScope.of([base])
    await asyncio.gather(*(checker.check(f"{base}/slow/{n}.html", scope, element="img") for n in range(LINKS)))


async def _visits(fetcher: Fetcher, page: Page) -> list[float]:
    """Page checks every 0.1 s during the sweep; how long each waited for its slot (seconds)."""
    waits = []
    await asyncio.sleep(0.05)  # the sweep holds its share of the slots first
    for _ in range(VISITS):
        called = time.time()
        result = await fetcher.fetch(page)
        assert result.result is Result.UP, result.error
        waits.append(result.started_at - called)
        await asyncio.sleep(0.1)
    return waits


def test_page_and_link_checks_together_never_exceed_the_host_limit_and_pages_stay_on_time() -> None:
    site = _site()
    with serving(site) as base:
        limits = {"127.0.0.1": HostLimits(concurrency=3, link_concurrency=2, spacing_s=0.0)}
        page = Page(site="s", name="home", url=f"{base}/home", per_host_concurrency=3, timeout_s=5.0)
        settings = LinkSettings(concurrency=3, spacing_s=0.0, timeout_s=5.0, private_hosts=frozenset({"127.0.0.1"}))

        async def main() -> tuple[list[float], HostBudget]:
            budget = HostBudget(limits=limits)
            async with Fetcher(budget=budget) as fetcher, LinkChecker(settings, budget=budget) as checker:
                waits, _ = await asyncio.gather(_visits(fetcher, page), _sweep(checker, base))
            return waits, budget

        waits, budget = asyncio.run(main())
    assert len(site.requests("/home")) == VISITS
    assert len(site.log) == VISITS + LINKS  # every link (an image) asked once, with HEAD
    assert site.peak_in_flight <= 3 and budget.peak_in_flight("127.0.0.1") == 3
    # A page check waiting behind a link check would wait up to LINK_DELAY_S: none did.
    assert max(waits) < LINK_DELAY_S / 2, waits


def test_with_one_slot_a_page_check_waits_for_one_link_request_at_most() -> None:
    site = _site()
    with serving(site) as base:
        limits = {"127.0.0.1": HostLimits(concurrency=1, link_concurrency=1, spacing_s=0.0)}
        page = Page(site="s", name="home", url=f"{base}/home", per_host_concurrency=1, timeout_s=5.0)
        settings = LinkSettings(concurrency=4, spacing_s=0.0, timeout_s=5.0, private_hosts=frozenset({"127.0.0.1"}))

        async def main() -> list[float]:
            budget = HostBudget(limits=limits)
            async with Fetcher(budget=budget) as fetcher, LinkChecker(settings, budget=budget) as checker:
                waits, _ = await asyncio.gather(_visits(fetcher, page), _sweep(checker, base))
            return waits

        waits = asyncio.run(main())
    assert site.peak_in_flight == 1
    # Queued behind up to 15 link checks (FIFO: up to 15 x LINK_DELAY_S), a page check still waits
    # only for the one in flight; the margin is for a loaded machine, still short of two links.
    assert max(waits) < LINK_DELAY_S * 1.9, waits
