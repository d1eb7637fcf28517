"""monitor.links crawl: a sweep follows same-site pages to a depth within budgets, checks each distinct
URL once and records every parent of every link; robots.txt and exclusions are obeyed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from monitor.check import HostBudget
from monitor.links import Exclusions, LinkCache, LinkChecker, LinkClass, Outcome, SiteScope, Sweep, crawl
from monitor.models import FixedClock
from tests.links.links_site import LinkSite, Reply, html, serving
from tests.links.test_links_checker import settings
from tests.support.sleeps import FakeSleep


def portal() -> LinkSite:
    """A small portal: home -> columns -> articles, with every kind of link fault."""
    return LinkSite(
        {
            "/": Reply(
                body=html(
                    '<a href="/col/news.html">新闻</a><a href="/col/notice.html">通知</a>'
                    '<img src="/img/logo.png" alt="徽标"><a href="/gone.html">失效链接</a>'
                    '<a href="http://lapsed.nonexistent.invalid/">友情链接</a><a href="mailto:x@y.cn">信箱</a>'
                    '<a href="/private/a.html">内部</a><a href="/search?q=1">搜索</a>',
                    "某某局",
                )
            ),
            "/col/news.html": Reply(
                body=html('<a href="/art/1.html">文章一</a><a href="/gone.html">旧文</a><a href="/">首页</a>', "新闻")
            ),
            "/col/notice.html": Reply(
                body=html('<a href="/art/2.html">文章二</a><a href="/files/a.pdf">附件</a>', "通知公告")
            ),
            "/art/1.html": Reply(body=html('<a href="/art/deep.html">更深</a><img src="/img/none.png">', "文章一")),
            "/art/2.html": Reply(body=html("您访问的页面不存在", "提示")),
            "/art/deep.html": Reply(body=html('<a href="/art/deeper.html">最深</a>', "更深")),
            "/img/logo.png": Reply(body=b"\x89PNG", headers=(("Content-Type", "image/png"),)),
            "/files/a.pdf": Reply(body=b"%PDF-1.4", headers=(("Content-Type", "application/pdf"),)),
            "/robots.txt": Reply(
                body=b"User-agent: *\nDisallow: /private/\n", headers=(("Content-Type", "text/plain"),)
            ),
        }
    )


def sweep(base: str, depth: int | None = None, **overrides: Any) -> Sweep:
    clock = FixedClock()

    async def main() -> Sweep:
        budget = HostBudget(concurrency=2, spacing_s=0.0, clock=clock, sleep=FakeSleep(clock))
        async with LinkChecker(settings(**overrides), budget=budget, clock=clock) as checker:
            return await crawl(
                checker, SiteScope.of([base]), [base + "/"], exclusions=Exclusions(("*/search*",)), max_depth=depth
            )

    return asyncio.run(main())


def classes(result: Sweep, base: str) -> dict[str, LinkClass]:
    return {url.replace(base, ""): r.link_class for url, r in result.results.items()}


def test_a_sweep_classifies_every_link_and_keeps_every_parent() -> None:
    site = portal()
    with serving(site) as base:
        result = sweep(base, depth=2)
    found = classes(result, base)
    assert found["/gone.html"] is LinkClass.BROKEN
    assert found["/img/none.png"] is LinkClass.BROKEN
    assert found["http://lapsed.nonexistent.invalid/"] is LinkClass.BROKEN
    assert found["/art/2.html"] is LinkClass.SOFT_404
    assert found["/private/a.html"] is LinkClass.EXCLUDED
    assert found["/search?q=1"] is LinkClass.EXCLUDED
    assert found["/files/a.pdf"] is LinkClass.OK and found["/img/logo.png"] is LinkClass.OK
    gone = result.occurrences[f"{base}/gone.html"]
    assert sorted((o.parent_url.replace(base, ""), o.parent_title, o.text, o.depth) for o in gone) == [
        ("/", "某某局", "失效链接", 1),
        ("/col/news.html", "新闻", "旧文", 2),
    ]
    assert (gone[0].element, gone[0].attribute) == ("a", "href")
    assert [s.reason.value for _, s in result.skipped] == ["mailto"]
    # Each distinct URL is requested once (the soft-404 probe and robots.txt aside).
    assert len(site.requests("/gone.html")) == 1
    assert site.requests("/private/a.html") == [] and site.requests("/search?q=1") == []


def test_depth_limits_which_pages_are_read() -> None:
    with serving(portal()) as base:
        shallow, deep = sweep(base, depth=1), sweep(base, depth=3)
    assert f"{base}/art/1.html" in shallow.results  # checked as a link of a depth-1 page...
    assert f"{base}/art/deep.html" not in shallow.results  # ...but not read
    assert deep.results[f"{base}/art/deeper.html"].link_class is LinkClass.BROKEN


def test_homepage_pass_reads_the_homepage_only() -> None:
    with serving(portal()) as base:
        result = sweep(base, depth=0)
    assert result.pages_read == 1
    assert f"{base}/col/news.html" in result.results and f"{base}/art/1.html" not in result.results


def test_page_and_link_budgets_stop_the_sweep_and_say_so() -> None:
    with serving(portal()) as base:
        by_pages = sweep(base, depth=5, max_pages=2)
        by_links = sweep(base, depth=5, max_links=4)
    assert by_pages.pages_read == 2 and by_pages.page_budget_hit
    assert len(by_links.results) == 4 and by_links.link_budget_hit


def test_robots_txt_can_be_ignored_when_configured() -> None:
    site = portal()
    with serving(site) as base:
        result = sweep(base, depth=1, respect_robots=False)
    assert result.results[f"{base}/private/a.html"].link_class is LinkClass.BROKEN
    assert site.requests("/robots.txt") == []


def test_one_result_many_occurrences_for_a_link_on_every_page() -> None:
    pages = {f"/p/{i}.html": Reply(body=html(f'<a href="/common.html">公共 {i}</a>', f"页 {i}")) for i in range(30)}
    home = "".join(f'<a href="/p/{i}.html">{i}</a>' for i in range(30))
    site = LinkSite({"/": Reply(body=html(home + '<a href="/common.html">公共</a>')), **pages})
    with serving(site) as base:
        result = sweep(base, depth=1)
    common = f"{base}/common.html"
    assert result.results[common].link_class is LinkClass.BROKEN
    assert len(result.occurrences[common]) == 31
    assert len(site.requests("/common.html")) == 1


def test_ten_thousand_links_and_hostile_targets_on_one_page_never_crash() -> None:
    hostile = [
        '<a href="http://[::1">bad</a>', '<a href="javascript:alert(1)">j</a>', '<a href="http://a b/">sp</a>',
        '<a href="http://127.0.0.1:1/">closed</a>', '<a href="http://169.254.169.254/latest/meta-data/">md</a>',
        '<a href="file:///etc/passwd">f</a>', '<a href="http://x.invalid:99999/">port</a>',
    ]  # fmt: skip
    many = "".join(f'<a href="/none/{i}.png">{i}</a>' for i in range(10_000))
    site = LinkSite({"/": Reply(body=html("".join(hostile) + many))}, fallback=_empty_404)
    with serving(site) as base:
        result = sweep(base, depth=0, max_links=200, private_hosts=frozenset({"127.0.0.1"}))
    assert result.link_budget_hit and len(result.results) == 200
    assert result.results["http://169.254.169.254/latest/meta-data/"].link_class is LinkClass.EXCLUDED
    assert {s.reason.value for _, s in result.skipped} == {"malformed", "javascript", "unsupported_scheme"}


_empty_404: Callable[[str], Reply] = lambda path: Reply(404, b"")  # noqa: E731


def test_progress_is_reported_and_counts_cover_every_class() -> None:
    seen: list[tuple[int, int]] = []
    clock = FixedClock()

    async def main(base: str) -> Sweep:
        async with LinkChecker(settings(), clock=clock) as checker:
            return await crawl(
                checker, SiteScope.of([base]), [base + "/"], max_depth=1, progress=lambda *p: seen.append(p)
            )

    with serving(portal()) as base:
        result = asyncio.run(main(base))
    assert len(seen) == len(result.results) - result.counts()[LinkClass.EXCLUDED]  # robots-excluded are not checked
    assert seen[-1][0] == result.pages_read and seen == sorted(seen)
    counts = result.counts()
    assert set(counts) == set(LinkClass) and sum(counts.values()) == len(result.results)
    broken = [r.url.replace(base, "") for r in result.of_class(LinkClass.BROKEN)]
    # No exclusion patterns here, so the search link is checked (and 404s); /img/none.png is on an unread page.
    assert broken == ["/gone.html", "/search?q=1", "http://lapsed.nonexistent.invalid/"]


def test_link_cache_forgets_entries_older_than_its_ttl() -> None:
    cache = LinkCache(ttl_s=10.0)
    cache.put("http://a/", 100.0, Outcome(status=200))
    assert cache.get("http://a/", 109.0) is not None and cache.get("http://a/", 110.0) is None
    cache.prune(111.0)
    assert cache.get("http://a/", 100.0) is None
