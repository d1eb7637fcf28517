"""`monitor report --db A --db B ...` (or a glob): shard databases merged into one report that
equals the report of one database holding the same history, in every format."""

from __future__ import annotations

import dataclasses
import gc
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from monitor.cli._commands import overview_for, report_for
from monitor.cli._common import collector_paused
from monitor.cli._main import cli
from monitor.config import load_config
from monitor.models import Page
from monitor.report import Selection, parse_period, render_overview, site_statuses, status_json
from monitor.shard import shard_of
from monitor.sim import HistorySpec, generate
from monitor.store import Store
from tests.support.generated import without_generation_time

START = 1_514_736_000.0  # 2018-01-01 00:00 Asia/Shanghai
SITES = ("jtj", "gaj", "zjj", "wsj", "sfj")
SHARDS = 2


def spec(index: int, site: str) -> HistorySpec:
    """Each site's own outages, blips and items; the daemon's runs (never stopped here) are the
    same for every site, as they are for the sites of one daemon."""
    return HistorySpec(
        start=START, days=10, columns=3, seed=10 + index, site=site, title=f"{site}局",
        base_url=f"http://{site}.example/", chunk_s=86400.0, stops=0, crash=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One database with every site (as one daemon would have it) and one per shard, each with its
    sites' same synthetic history."""
    root = tmp_path_factory.mktemp("shards")
    whole = Store.open(root / "whole.db")
    shards = {k: Store.open(root / f"monitor.shard-{k}-of-{SHARDS}.db") for k in range(1, SHARDS + 1)}
    generated: dict[str, list[Page]] = {}
    for index, site in enumerate(SITES):
        generated[site] = list(generate(whole, spec(index, site)).pages)
        generate(shards[shard_of(site, SHARDS)], spec(index, site))
    # Each generate() retired the pages of the sites before it in its database: a daemon monitors
    # all of its sites at once.
    for k, store in ((0, whole), *shards.items()):
        mine = [site for site in SITES if k in (0, shard_of(site, SHARDS))]
        pages = [page for site in mine for page in generated[site]]
        store.sync_pages([(s, f"{s}局", f"http://{s}.example/") for s in mine], pages, START + 10 * 86400)
    for store in (whole, *shards.values()):
        store.close()
    (root / "config.yaml").write_text(_config(), encoding="utf-8")
    return root


def _config() -> str:
    lines = ["sites:"]
    for site in SITES:
        lines += [f"  - name: {site}", f"    title: {site}局", f"    base_url: http://{site}.example/",
                  "    pages:", "      - {name: homepage, url: /, kind: homepage}",
                  "      - {name: xxgk, url: /xxgk/, kind: catalogue}"]  # fmt: skip
    return "\n".join(lines) + "\n"


def report(root: Path, *args: str) -> Result:
    period = ("--from", "2018-01-01", "--to", "2018-01-10")
    return CliRunner().invoke(cli, ["report", "-c", str(root / "config.yaml"), *period, *args])


@pytest.mark.parametrize("fmt", ["table", "markdown", "json", "csv", "zh"])
def test_merged_shards_equal_one_database(databases: Path, fmt: str) -> None:
    whole = report(databases, "--db", str(databases / "whole.db"), "--format", fmt)
    shards = [str(databases / f"monitor.shard-{k}-of-{SHARDS}.db") for k in range(1, SHARDS + 1)]
    merged = report(databases, *(arg for db in shards for arg in ("--db", db)), "--format", fmt)
    assert whole.exit_code == 0, whole.output
    assert merged.exit_code == 0, merged.output
    assert without_generation_time(merged.output) == without_generation_time(whole.output)
    assert all(site in whole.output for site in SITES)


def test_a_glob_names_the_shards(databases: Path) -> None:
    merged = report(databases, "--db", str(databases / "monitor.shard-*.db"), "--format", "json")
    whole = report(databases, "--db", str(databases / "whole.db"), "--format", "json")
    assert merged.exit_code == 0
    assert without_generation_time(merged.output) == without_generation_time(whole.output)
    nothing = report(databases, "--db", str(databases / "nope-*.db"))
    assert nothing.exit_code == 2 and "no file matches" in nothing.output


def test_a_site_in_two_databases_is_refused(databases: Path) -> None:
    both = report(databases, "--db", str(databases / "whole.db"), "--db", str(databases / "monitor.shard-1-of-2.db"))
    assert both.exit_code == 2 and "is in both" in both.output
    assert "Traceback" not in both.output


def test_overview_counts_insufficient_data_apart(databases: Path) -> None:
    """A configured site with no history yet is monitored, but neither passes nor fails any rule."""
    config_path = databases / "with-new-site.yaml"
    new_site = (
        "  - {name: new, title: 新建局, base_url: 'http://new.example/',"
        " pages: [{name: homepage, url: /, kind: homepage}]}\n"
    )
    config_path.write_text(_config() + new_site, encoding="utf-8")
    config = load_config(config_path)
    now = START + 10 * 86400
    store = Store.open(databases / "whole.db", readonly=True)
    period = parse_period(tz_name="Asia/Shanghai", now=now, date_from="2018-01-01", date_to="2018-01-10")
    built = report_for(config, store, period, now, Selection(), raw=False)
    overview = overview_for(config, [store], built, now)
    store.close()
    assert len(overview.sites) == 6
    for rule in ("V1", "V2", "V3"):
        count = overview.count(rule)
        assert count.passing + count.failing + count.insufficient == 6
        assert count.insufficient >= 1
        assert "new" not in {s.name for s in overview.failing(rule)}
    new = next(s for s in overview.sites if s.name == "new")
    assert all(state.value == "insufficient_data" for state in new.states) and new.availability is None
    assert overview.count("V1").passing >= 1  # ten days of visits judge V1 for the simulated sites
    zh = render_overview(overview, "zh")
    assert zh.startswith("2018年1月1日至2018年1月10日，全省共监测政府网站6个；首页可用性（V1）合格")
    assert "个监测数据不足、暂不评判" in zh
    as_json = json.loads(render_overview(overview, "json"))
    assert as_json["sites_monitored"] == 6 and as_json["rules"]["V1"]["insufficient_data"] >= 1
    rows = render_overview(overview, "csv", bom=False).splitlines()
    assert rows[0] == "site,title,V1,V2,V3,availability,stale_columns,blank_columns"
    assert "new,新建局,insufficient_data,insufficient_data,insufficient_data,,0,0" in rows


@pytest.mark.parametrize("fmt", ["table", "markdown", "json", "csv", "zh"])
def test_overview_of_merged_shards_in_every_format(databases: Path, fmt: str) -> None:
    shards = ("--db", str(databases / "monitor.shard-*.db"))
    merged = report(databases, *shards, "--overview", "--format", fmt)
    whole = report(databases, "--db", str(databases / "whole.db"), "--overview", "--format", fmt)
    assert merged.exit_code == 0, merged.output
    assert without_generation_time(merged.output) == without_generation_time(whole.output)
    expected = {"zh": "全省共监测政府网站5个", "json": '"sites_monitored": 5', "csv": "zjj,zjj局,"}
    assert expected.get(fmt, "5 sites monitored") in merged.output
    for site in SITES:
        assert site in merged.output or f"{site}局" in merged.output


def test_merged_shards_keep_each_sites_configured_identity(databases: Path, tmp_path: Path) -> None:
    """The 年度报表 identity cells (主办单位, 标识码, ICP) come from config.yaml for a merged report as
    for one database's: the merge built each shard's report without them (all cells empty)."""
    config = tmp_path / "config.yaml"
    identity = "    site_code: '4502000012'\n    identity: {sponsor: 某某市人民政府办公室, icp: 桂ICP备05000001号}\n"
    text = _config().replace("    title: jtj局\n", "    title: jtj局\n" + identity)
    config.write_text(text, encoding="utf-8")
    shards = [str(databases / f"monitor.shard-{k}-of-{SHARDS}.db") for k in range(1, SHARDS + 1)]

    def annual_rows(*dbs: str) -> dict[str, object]:
        args = ["report", "-c", str(config), "--year", "2018", "--format", "json", "--site", "jtj"]
        result = CliRunner().invoke(cli, [*args, *(arg for db in dbs for arg in ("--db", db))])
        assert result.exit_code == 0, result.output
        (site,) = json.loads(result.output)["sites"]
        return {row["field"]: row["value"] for row in site["annual_form"]["rows"]}

    whole = annual_rows(str(databases / "whole.db"))
    assert whole["主办单位"] == "某某市人民政府办公室" and whole["政府网站标识码"] == "4502000012"
    assert annual_rows(*shards) == whole


def test_site_and_page_selections_pick_from_every_shard(databases: Path) -> None:
    """`--site`/`--page` name sites any shard holds (each database holds only some): the merge asked
    every database for every named site and failed on the first that did not hold it."""
    dbs = [str(databases / f"monitor.shard-{k}-of-{SHARDS}.db") for k in range(1, SHARDS + 1)]
    shards = [arg for db in dbs for arg in ("--db", db)]
    whole = ("--db", str(databases / "whole.db"))
    for selection in (("--site", "jtj", "--site", "gaj"), ("--page", "jtj/homepage", "--page", "zjj/xxgk")):
        one = report(databases, *whole, "--format", "json", *selection)
        merged = report(databases, *shards, "--format", "json", *selection)
        assert one.exit_code == 0 and merged.exit_code == 0, (one.output, merged.output)
        assert without_generation_time(merged.output) == without_generation_time(one.output)
    missing = report(databases, *shards, "--site", "nosuch")
    assert missing.exit_code == 2 and "no site named 'nosuch' in any of the databases" in missing.output


def test_shared_page_rows_judge_as_a_scoped_config_does(databases: Path) -> None:
    """`--overview` reads each shard's page rows once and judges only the sites the shard holds
    (issue 16): the same statuses as `monitor status` on a config scoped to those sites, reading
    the rows itself."""
    config = load_config(databases / "config.yaml")
    now = START + 10 * 86400
    for k in range(1, SHARDS + 1):
        store = Store.open(databases / f"monitor.shard-{k}-of-{SHARDS}.db", readonly=True)
        rows = store.pages(include_removed=True)
        held = {row.site for row in rows}
        scoped = dataclasses.replace(
            config, raw=config.raw.model_copy(update={"sites": [s for s in config.sites if s.name in held]})
        )
        shared = site_statuses(config, store, now, rows=rows, sites=held)
        alone = site_statuses(scoped, store, now)
        store.close()
        assert sorted(s.name for s in shared) == sorted(held) and len(shared) < len(SITES)
        assert shared == alone
        assert status_json(shared) == status_json(alone)


def test_report_pauses_the_collector_and_gives_it_back() -> None:
    """`monitor report` runs with the cyclic GC paused (a third of the overview's CPU at national
    scale) and leaves it as it found it."""
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
