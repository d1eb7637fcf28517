"""The simulated portal: deterministic content, the columns it promises, faults, control API.

Talks to the sim over real loopback HTTP (httpx, no proxies), in-process and as a subprocess.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from monitor.models import FixedClock
from monitor.sim._faults import Fault
from monitor.sim._portal import SimPortal
from monitor.sim._site import COLUMNS, HOSTILE_LINKS, Site

NOW = 1_790_000_000.0  # 2026-09-21 14:13 UTC, 22:13 in Beijing
TODAY = date(2026, 9, 21)
LIST_ITEM = re.compile(
    r'<li><a href="(?P<href>[^"]+)"[^>]*title="(?P<title>[^"]+)">[^<]*</a>'
    r"<span>(?P<date>\d{4}-\d{2}-\d{2})</span></li>"
)


def main_list(html: str) -> list[tuple[str, str, date]]:
    """(href, title, date) of the items in the page's main `<ul class="list">`."""
    match = re.search(r'<ul class="list">(.*?)</ul>', html, re.DOTALL)
    assert match, "no main list"
    return [(m["href"], m["title"], date.fromisoformat(m["date"])) for m in LIST_ITEM.finditer(match[1])]


@pytest.fixture()
def clock() -> FixedClock:
    return FixedClock(t=NOW)


@pytest.fixture()
def sim(clock: FixedClock) -> Iterator[SimPortal]:
    with SimPortal(clock=clock) as portal:
        yield portal


@pytest.fixture()
def http() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False, timeout=5) as client:
        yield client


# ---- content ---------------------------------------------------------------------------------------


def every_path(site: Site) -> list[str]:
    paths = ["/", "/index.html", "/xxgk/", "/robots.txt", "/bench/7.html", "/xxgk/tjxx/nocharset/"]
    for spec in COLUMNS:
        paths += [spec.path, spec.path + "index_1.html"]
        paths += [item.path for item in site.items(spec.slug)[:3]]
    return paths


def test_content_is_deterministic_for_a_clock_and_seed() -> None:
    first, second = Site(FixedClock(t=NOW)), Site(FixedClock(t=NOW))
    for path in every_path(first):
        assert first.document(path) == second.document(path), path
    other_seed = Site(FixedClock(t=NOW), seed=2)
    assert other_seed.document("/xxgk/gzdt/") != first.document("/xxgk/gzdt/")


def test_same_bytes_over_http_across_two_sims(http: httpx.Client) -> None:
    with SimPortal(clock=FixedClock(t=NOW)) as one, SimPortal(clock=FixedClock(t=NOW)) as two:
        for path in ("/", "/xxgk/", "/xxgk/gzdt/", "/xxgk/tjxx/"):
            assert http.get(one.url(path)).content == http.get(two.url(path)).content


def test_homepage_catalogue_and_robots(sim: SimPortal, http: httpx.Client) -> None:
    home = http.get(sim.base_url)
    assert home.status_code == 200 and "模拟市交通运输局" in home.text
    dates = [date.fromisoformat(d) for d in re.findall(r"<span>(\d{4}-\d{2}-\d{2})</span>", home.text)]
    assert len(dates) >= 15 and max(dates) >= TODAY - timedelta(days=2)

    catalogue = http.get(sim.url("/xxgk/")).text
    for spec in COLUMNS:
        assert f'<a href="./{spec.slug}/">{spec.name}</a>' in catalogue

    robots = http.get(sim.url("/robots.txt"))
    assert robots.headers["content-type"] == "text/plain" and "User-agent: *" in robots.text
    assert http.get(sim.url("/no/such/page.html")).status_code == 404


def test_the_catalogue_can_list_extra_links_after_its_columns(http: httpx.Client) -> None:
    links = (("外站栏目", "http://www.offsite-portal.invalid/gkml/"),)
    with SimPortal(clock=FixedClock(t=NOW), catalogue_links=links) as portal:
        catalogue = http.get(portal.url("/xxgk/")).text
    own = catalogue.index(f'<a href="./{COLUMNS[-1].slug}/">')
    assert catalogue.index('<a href="http://www.offsite-portal.invalid/gkml/">外站栏目</a>') > own


def test_columns_list_items_with_full_titles_and_trs_pagination(sim: SimPortal, http: httpx.Client) -> None:
    page = http.get(sim.url("/xxgk/gzdt/")).text
    items = main_list(page)
    assert len(items) == 20
    assert [d for _, _, d in items] == sorted((d for _, _, d in items), reverse=True)
    href, title, day = items[0]
    assert re.fullmatch(rf"\./{day:%Y%m}/t{day:%Y%m%d}_\d+\.html", href)
    assert 'createPageHTML(3, 0, "index", "html")' in page
    assert len(main_list(http.get(sim.url("/xxgk/gzdt/index_2.html")).text)) == 5
    assert http.get(sim.url("/xxgk/gzdt/index_3.html")).status_code == 404
    article = http.get(sim.url("/xxgk/gzdt/" + href[2:])).text
    assert f'<meta name="PubDate" content="{day:%Y-%m-%d} 09:30" />' in article and title in article


def test_each_column_category_has_a_plausible_newest_item(sim: SimPortal) -> None:
    fresh_within = {"news": 14, "notice": 180, "policy": 180, "personnel": 365, "plan": 365}
    for spec in COLUMNS:
        items = sim.site.items(spec.slug)
        if spec.slug in ("hydt", "jyta") or spec.category == "static":
            continue
        assert (TODAY - items[0].day).days <= fresh_within[spec.category], spec.slug


def test_the_stale_column_is_stale(sim: SimPortal, http: httpx.Client) -> None:
    items = main_list(http.get(sim.url("/xxgk/hydt/")).text)
    assert items and (TODAY - items[0][2]).days >= 200


def test_the_blank_column_has_a_list_and_no_items(sim: SimPortal, http: httpx.Client) -> None:
    page = http.get(sim.url("/xxgk/jyta/"))
    assert page.status_code == 200 and '<ul class="list">' in page.text
    assert main_list(page.text) == []


def test_the_gbk_column_with_and_without_a_charset_header(sim: SimPortal, http: httpx.Client) -> None:
    declared = http.get(sim.url("/xxgk/tjxx/"))
    bare = http.get(sim.url("/xxgk/tjxx/nocharset/"))
    assert declared.headers["content-type"] == "text/html; charset=GBK"
    assert bare.headers["content-type"] == "text/html"
    assert declared.content == bare.content
    with pytest.raises(UnicodeDecodeError):
        bare.content.decode("utf-8")
    text = bare.content.decode("gbk")
    assert 'charset=gb2312"' in text and "统计信息" in text and len(main_list(text)) == 12


def test_bench_pages_are_small_static_and_distinct(sim: SimPortal, http: httpx.Client) -> None:
    one, two = http.get(sim.url("/bench/1.html")), http.get(sim.url("/bench/2.html"))
    assert one.status_code == two.status_code == 200
    assert len(one.content) < 1024 and one.content != two.content
    assert http.get(sim.url("/bench/1.html")).content == one.content


def test_pages_lists_what_a_demo_config_monitors(sim: SimPortal) -> None:
    pages = {page.name: page for page in sim.pages()}
    assert pages["home"].kind == "homepage" and pages["catalogue"].kind == "catalogue"
    assert pages["gzdt"].category == "news" and pages["gzdt"].url == sim.url("/xxgk/gzdt/")
    assert pages["tjxx-nocharset"].url.endswith("/xxgk/tjxx/nocharset/")


# ---- publishing and validators ---------------------------------------------------------------------


def test_publish_adds_an_item_dated_today_and_changes_validators(
    sim: SimPortal, clock: FixedClock, http: httpx.Client
) -> None:
    before = http.get(sim.url("/xxgk/gzdt/"))
    etag, last_modified = before.headers["etag"], before.headers["last-modified"]
    assert http.get(sim.url("/xxgk/gzdt/"), headers={"If-None-Match": etag}).status_code == 304
    assert http.get(sim.url("/xxgk/gzdt/"), headers={"If-Modified-Since": last_modified}).status_code == 304

    clock.advance(3 * 86400)
    item = sim.publish("gzdt", "模拟市交通运输局召开测试发布会")

    after = http.get(sim.url("/xxgk/gzdt/"), headers={"If-None-Match": etag})
    assert after.status_code == 200 and after.headers["etag"] != etag
    assert after.headers["last-modified"] != last_modified
    assert main_list(after.text)[0][1:] == ("模拟市交通运输局召开测试发布会", TODAY + timedelta(days=3))
    assert item.day == TODAY + timedelta(days=3)
    assert "模拟市交通运输局召开测试发布会" in http.get(sim.base_url).text  # news is on the homepage
    assert http.get(sim.url(item.path)).status_code == 200


def test_publish_to_an_unknown_column_is_refused(sim: SimPortal) -> None:
    with pytest.raises(KeyError):
        sim.publish("nope", "x")


def test_a_retired_column_leaves_the_catalogue_and_answers_404(sim: SimPortal, http: httpx.Client) -> None:
    assert "./hydt/" in http.get(sim.url("/xxgk/")).text
    sim.retire("hydt")
    assert "./hydt/" not in http.get(sim.url("/xxgk/")).text
    assert "./gzdt/" in http.get(sim.url("/xxgk/")).text
    assert http.get(sim.url("/xxgk/hydt/")).status_code == 404
    assert [c["retired"] for c in sim.state()["columns"] if c["slug"] == "hydt"] == [True]
    with pytest.raises(KeyError):
        sim.retire("nope")


# ---- faults ----------------------------------------------------------------------------------------


def test_a_path_fault_affects_that_path_only_and_ok_clears_it(sim: SimPortal, http: httpx.Client) -> None:
    sim.fault("503:60", "/xxgk/gzdt/")
    broken = http.get(sim.url("/xxgk/gzdt/"))
    assert (broken.status_code, broken.headers["retry-after"]) == (503, "60")
    assert http.get(sim.url("/xxgk/tzgg/")).status_code == 200
    sim.fault("ok", "/xxgk/gzdt/")
    assert http.get(sim.url("/xxgk/gzdt/")).status_code == 200


def test_a_site_wide_fault_spares_the_control_api(sim: SimPortal, http: httpx.Client) -> None:
    sim.fault("500")
    assert http.get(sim.base_url).status_code == 500
    assert http.get(sim.url("/xxgk/tzgg/")).status_code == 500
    assert http.get(sim.control_url + "state").json()["faults"] == {"*": "500"}
    sim.fault("ok")
    assert http.get(sim.base_url).status_code == 200


def is_gbk_only(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return "工作动态" in body.decode("gbk")
    return False


@pytest.mark.parametrize(
    ("mode", "status", "check"),
    [
        ("412", 412, lambda r: b"$_ts" in r.content),
        ("521", 521, lambda r: b"__jsl_clearance" in r.content),
        ("challenge", 200, lambda r: b"r='m'" in r.content),
        ("redirect_loop", 302, lambda r: r.headers["location"].endswith("?loop=1")),
        ("redirect_offsite", 302, lambda r: ".invalid" in r.headers["location"]),
        ("soft404", 200, lambda r: "页面不存在" in r.text),
        ("garbage", 200, lambda r: len(r.content) == 4096),
        (
            "lying_charset",
            200,
            lambda r: r.headers["content-type"].endswith("utf-8") and b"\xb9" in r.content,
        ),
        ("malformed", 200, lambda r: "</li>" not in r.text and "<li>" in r.text and r.text.endswith('="')),
    ],
)
def test_answer_faults(
    sim: SimPortal, http: httpx.Client, mode: str, status: int, check: Callable[[httpx.Response], bool]
) -> None:
    sim.fault(mode, "/xxgk/gzdt/")
    response = http.get(sim.url("/xxgk/gzdt/"), follow_redirects=False)
    assert response.status_code == status
    assert check(response)


def test_gzip_bomb_is_small_on_the_wire_and_inflates_far_past_any_cap(sim: SimPortal) -> None:
    sim.fault("gzip_bomb", "/")
    head, _, wire = raw_exchange(sim.port, "/").partition(b"\r\n\r\n")
    assert b"Content-Encoding: gzip" in head and len(wire) < 100_000
    inflater, inflated, pending = zlib.decompressobj(zlib.MAX_WBITS | 16), 0, wire
    while pending:
        inflated += len(inflater.decompress(pending, 1 << 20))
        pending = inflater.unconsumed_tail
    assert inflated == 64 * 1024 * 1024


def test_item_dates_are_beijing_dates(http: httpx.Client) -> None:
    late_utc = FixedClock(t=NOW + 3 * 3600)  # 17:13 UTC is already tomorrow in Beijing
    with SimPortal(clock=late_utc) as portal:
        item = portal.publish("gzdt", "时区测试")
    assert item.day == TODAY + timedelta(days=1)


def raw_exchange(port: int, path: str, limit: int = 1 << 20, timeout: float = 2.0) -> bytes:
    """Send a GET and read what comes back, up to `limit` bytes or until `timeout` in total."""
    received = b""
    deadline = time.monotonic() + timeout
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: sim\r\n\r\n".encode())
        while len(received) < limit and (remaining := deadline - time.monotonic()) > 0:
            sock.settimeout(remaining)
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            received += chunk
    return received


def test_huge_announces_two_gigabytes_and_streams_lazily(sim: SimPortal) -> None:
    sim.fault("huge", "/")
    received = raw_exchange(sim.port, "/", limit=300_000)
    assert b"Content-Length: 2147483648\r\n" in received and len(received) >= 300_000


def test_endless_is_chunked_and_does_not_end(sim: SimPortal) -> None:
    sim.fault("endless", "/")
    received = raw_exchange(sim.port, "/", limit=1_000_000)
    assert b"Transfer-Encoding: chunked\r\n" in received and len(received) >= 1_000_000


def test_hang_never_answers_and_slow_answers_late(sim: SimPortal) -> None:
    sim.fault("hang", "/")
    assert raw_exchange(sim.port, "/", timeout=0.3) == b""
    sim.fault("slow:0.2", "/")
    assert raw_exchange(sim.port, "/", timeout=1.0).startswith(b"HTTP/1.1 200 OK")


def test_trickle_sends_one_byte_at_a_time(sim: SimPortal) -> None:
    sim.fault("trickle:0.1", "/")
    assert raw_exchange(sim.port, "/", timeout=0.35) in (b"H", b"HT", b"HTT", b"HTTP")


def test_reset_cuts_the_response_with_a_rst(sim: SimPortal) -> None:
    sim.fault("reset", "/")
    with pytest.raises(ConnectionResetError):
        raw_exchange(sim.port, "/")


def test_refuse_then_recover_on_the_same_port(sim: SimPortal, http: httpx.Client) -> None:
    port = sim.port
    sim.fault("refuse")
    assert sim.state()["refused"] is True
    with pytest.raises(httpx.ConnectError):
        http.get(sim.base_url)
    sim.fault("ok")
    assert sim.state()["refused"] is False
    assert sim.port == port and http.get(sim.base_url).status_code == 200


def test_refuse_is_site_wide_only(sim: SimPortal) -> None:
    with pytest.raises(ValueError, match="site-wide"):
        sim.fault("refuse", "/xxgk/gzdt/")


@pytest.mark.parametrize("text", ["bogus", "slow", "slow:-1", "trickle:abc", "redirect", "head:418"])
def test_bad_fault_modes_are_rejected(text: str) -> None:
    with pytest.raises(ValueError):
        Fault.parse(text)


def test_fault_parsing_keeps_arguments() -> None:
    assert Fault.parse("503:Wed, 21 Oct 2026 07:28:00 GMT").arg == "Wed, 21 Oct 2026 07:28:00 GMT"
    assert Fault.parse("slow:2.5").seconds == 2.5 and Fault.parse("trickle").seconds == 1.0


# ---- cross-process control API --------------------------------------------------------------------


@pytest.fixture()
def sim_process() -> Iterator[tuple[str, str, subprocess.Popen[str]]]:
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor.sim", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=root,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        control = process.stdout.readline().strip().removeprefix("control: ")
        assert url.startswith("http://127.0.0.1:") and control.endswith("/_sim/"), (url, control)
        yield url, control, process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)
        if process.stdout is not None:
            process.stdout.close()


def test_control_api_drives_a_sim_in_another_process(
    sim_process: tuple[str, str, subprocess.Popen[str]], http: httpx.Client
) -> None:
    url, control, process = sim_process
    assert http.get(url).status_code == 200

    assert http.post(control + "fault", params={"mode": "500", "path": "/xxgk/tzgg/"}).status_code == 200
    assert http.get(url + "xxgk/tzgg/").status_code == 500

    assert http.post(control + "fault", params={"mode": "refuse"}).json()["refused"] is True
    with pytest.raises(httpx.ConnectError):
        http.get(url)
    assert http.post(control + "fault", params={"mode": "ok"}).json()["refused"] is False
    assert http.get(url).status_code == 200

    published = http.post(control + "publish", params={"column": "tzgg", "title": "跨进程发布的通知"}).json()
    assert published["date"] == date.fromisoformat(published["date"]).isoformat()
    assert http.post(control + "reset").status_code == 200
    assert "跨进程发布的通知" in http.get(url + "xxgk/tzgg/").text

    bad = http.post(control + "fault", params={"mode": "bogus"})
    assert bad.status_code == 400 and "unknown fault mode" in bad.json()["error"]
    assert http.get(control + "fault").status_code == 405

    process.send_signal(signal.SIGTERM)
    assert process.wait(10) == 0


def test_integrity_fault_names_its_signal() -> None:
    from monitor.sim import Fault

    assert str(Fault.parse("integrity:tampered_title")) == "integrity:tampered_title"
    signals = "crawler_cloak, foreign_script, lapsed_domain, mobile_cloak"
    with pytest.raises(ValueError, match=f"fault 'integrity' takes one of {signals}"):
        Fault.parse("integrity:moon")
    with pytest.raises(ValueError, match="needs an argument"):
        Fault.parse("integrity")


def test_a_head_fault_answers_head_with_its_status_and_get_as_usual(sim: SimPortal, http: httpx.Client) -> None:
    sim.fault("head:501", "/xxgk/gzdt/")
    assert http.head(sim.url("/xxgk/gzdt/")).status_code == 501
    page = http.get(sim.url("/xxgk/gzdt/"))
    assert page.status_code == 200 and "工作动态" in page.text


def test_the_dead_links_portal_links_its_hostile_targets_from_the_homepage(http: httpx.Client) -> None:
    with SimPortal(dead_links=True) as hostile, SimPortal() as plain:
        home = http.get(hostile.base_url).text
        assert len(HOSTILE_LINKS) == 8
        for path, _ in HOSTILE_LINKS:
            assert f'href="{path}"' in home, path
        head = {p: http.head(hostile.url(p)).status_code for p in ("/links/head405.html", "/links/head404.html")}
        assert head == {"/links/head405.html": 405, "/links/head404.html": 404}
        pdf = http.get(hostile.url("/links/head501.pdf"))
        assert (pdf.status_code, pdf.headers["content-type"]) == (200, "application/pdf")
        busy = http.get(hostile.url("/links/busy.html"))
        assert (busy.status_code, busy.headers["retry-after"]) == (429, "2")
        assert [http.get(hostile.url(p)).status_code for p in ("/links/rs412.html", "/links/jsl521.html")] == [412, 521]
        assert b"$_ts" in http.get(hostile.url("/links/challenge.html")).content
        hostile.reset()  # built in: reset does not switch them off, a fault on the path outranks them
        assert http.get(hostile.url("/links/rs412.html")).status_code == 412
        hostile.fault("ok", "/links/rs412.html")
        hostile.fault("503", "/links/rs412.html")
        assert http.get(hostile.url("/links/rs412.html")).status_code == 503
        assert len(hostile.hits("/links/busy.html")) == 1
        assert "/links/" not in http.get(plain.base_url).text
        assert http.get(plain.url("/links/rs412.html")).status_code == 404


def test_the_slow_link_target_does_not_answer_within_a_second() -> None:
    with (
        SimPortal(dead_links=True) as hostile,
        httpx.Client(trust_env=False, timeout=1.0) as quick,
        pytest.raises(httpx.ReadTimeout),
    ):
        quick.get(hostile.url("/links/slow.html"))
