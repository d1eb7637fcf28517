"""The simulated bureau's content: columns, dated items and TRS-style HTML pages.

Everything derives from a seed and the day the site was created (read from the injected clock),
so the same clock and seed give byte-identical pages. No sockets and no HTTP semantics here.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from html import escape

from monitor.models import Clock

SITE_TITLE = "模拟市交通运输局"
CHINA_TZ = timezone(timedelta(hours=8))
"""Dates on the portal are Beijing dates (no DST, so a fixed offset is exact)."""
ITEMS_PER_PAGE = 20
LINK_TEXT_CHARS = 24
CATALOGUE_PATH = "/xxgk/"
TABBED_HOME_PATH = "/tabs/"
"""A homepage variant: the homepage columns as tab panes (all but the first hidden), dates MM-DD."""
NO_CHARSET_SUFFIX = "nocharset/"
"""A GBK column is also served under `<column>/nocharset/` with no charset in Content-Type."""


@dataclass(frozen=True)
class ColumnSpec:
    """One column (栏目) of the simulated portal and how its history is generated."""

    slug: str
    name: str
    category: str
    newest_age_days: tuple[int, int]
    gap_days: tuple[int, int]
    count: int
    encoding: str = "utf-8"
    on_homepage: bool = False

    @property
    def path(self) -> str:
        return f"{CATALOGUE_PATH}{self.slug}/"


COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("gzdt", "工作动态", "news", (0, 2), (1, 4), 45, on_homepage=True),
    ColumnSpec("tzgg", "通知公告", "notice", (1, 10), (3, 15), 30, on_homepage=True),
    ColumnSpec("zcwj", "政策文件", "policy", (5, 40), (10, 40), 25, on_homepage=True),
    ColumnSpec("rsxx", "人事信息", "personnel", (10, 90), (20, 60), 12),
    ColumnSpec("ghjh", "规划计划", "plan", (20, 150), (60, 200), 8),
    ColumnSpec("jggk", "机构概况", "static", (400, 800), (100, 300), 3),
    # The stale column: its newest item is 200+ days old, past even the 180-day notice/policy window.
    ColumnSpec("hydt", "行业动态", "news", (200, 260), (5, 20), 15),
    # The blank column: a list with no item at all.
    ColumnSpec("jyta", "建议提案办理", "policy", (0, 0), (1, 1), 0),
    # The GBK column (TRS sites of the GB2312 era), served with and without a charset header.
    ColumnSpec("tjxx", "统计信息", "plan", (5, 60), (20, 45), 12, encoding="gbk"),
)

_TOPICS = ("公路养护", "道路运输安全", "农村公路建设", "城市公交优化", "水路运输", "治超治限", "交通运输执法",
           "物流降本增效", "安全生产", "优化营商环境", "综合交通枢纽", "出租汽车管理")  # fmt: skip
_PLACES = ("东城区", "西城区", "南山县", "北湖县", "江口镇", "新港区")
_TITLE_TEMPLATES = {
    "news": ("{org}召开{year}年{topic}工作推进会", "{org}赴{place}调研{topic}工作",
             "{place}{topic}项目建设进展顺利", "{org}开展{topic}专项检查"),
    "notice": ("关于开展{year}年{topic}工作的通知", "关于{topic}有关事项的公告",
               "{year}年{topic}项目招标公告", "关于{place}{topic}施工期间交通管制的通告"),
    "policy": ("关于印发《模拟市{topic}管理办法》的通知", "《模拟市{topic}实施方案》政策解读",
               "模拟市{topic}三年行动计划（{year}—{year2}年）"),
    "personnel": ("{org}{year}年公开招聘工作人员拟聘用人员公示", "关于{place}交通运输局领导任职的通知"),
    "plan": ("模拟市“十四五”{topic}发展规划", "{org}{year}年{topic}工作计划", "{year}年{topic}统计数据"),
    "static": ("机构职能", "领导信息", "内设机构"),
}  # fmt: skip


@dataclass(frozen=True)
class SimItem:
    """One dated entry of a column, with its article page."""

    id: int
    column: str
    title: str
    day: date
    published_at: float

    @property
    def href(self) -> str:
        """Link as TRS writes it, relative to the column directory."""
        return f"./{self.day:%Y%m}/t{self.day:%Y%m%d}_{self.id}.html"

    @property
    def path(self) -> str:
        return f"{CATALOGUE_PATH}{self.column}/{self.href[2:]}"


@dataclass(frozen=True)
class Document:
    """A rendered page with its validators."""

    body: bytes
    content_type: str
    last_modified: float
    etag: str


def today(clock: Clock) -> date:
    return datetime.fromtimestamp(clock.now(), CHINA_TZ).date()


class Site:
    """The portal's state (columns and items) and its pages. Not thread-safe: one owner."""

    def __init__(
        self,
        clock: Clock,
        seed: int = 1,
        catalogue_links: tuple[tuple[str, str], ...] = (),
        dead_links: bool = False,
    ) -> None:
        self._clock = clock
        self.seed = seed
        self.catalogue_links = catalogue_links
        self.dead_links = dead_links
        self.created_at = clock.now()
        self.start_day = today(clock)
        self.columns = {spec.slug: spec for spec in COLUMNS}
        self._items = {spec.slug: _history(spec, seed, self.start_day, self.created_at) for spec in COLUMNS}
        self._changed = {"home": self.created_at, **{slug: self.created_at for slug in self.columns}}
        self._next_id = 90_000
        self._cache: dict[str, Document] = {}
        self.retired: set[str] = set()

    def items(self, slug: str) -> list[SimItem]:
        """A column's items, newest first."""
        return list(self._items[slug])

    def publish(self, slug: str, title: str) -> SimItem:
        """Add an item dated today at the top of a column; its pages change validators."""
        if slug not in self.columns:
            raise KeyError(slug)
        now = self._clock.now()
        self._next_id += 1
        item = SimItem(self._next_id, slug, title, today(self._clock), now)
        self._items[slug].insert(0, item)
        self._changed[slug] = now
        if self.columns[slug].on_homepage:
            self._changed["home"] = now
        self._cache.clear()
        return item

    def retire(self, slug: str) -> None:
        """Take a column off the catalogue; its pages answer 404 from now on."""
        if slug not in self.columns:
            raise KeyError(slug)
        self.retired.add(slug)
        self._cache.clear()

    def live_columns(self) -> list[ColumnSpec]:
        return [spec for spec in COLUMNS if spec.slug not in self.retired]

    def document(self, path: str) -> Document | None:
        """The page at `path`, or None (404). Portal pages are rendered once per change, then cached."""
        cached = self._cache.get(path)
        if cached is not None:
            return cached
        document = self._render(path)
        # Only the portal's own pages are cached: bench and unknown paths are unbounded in number.
        if document is not None and not path.startswith("/bench/"):
            self._cache[path] = document
        return document

    def text_of(self, path: str) -> str | None:
        """The page's text before encoding (faults re-encode it)."""
        rendered = self._route(path)
        return rendered[0] if rendered else None

    def _render(self, path: str) -> Document | None:
        rendered = self._route(path)
        if rendered is None:
            return None
        text, encoding, content_type, changed = rendered
        body = text.encode(encoding)
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        return Document(body, content_type, changed, etag)

    def _route(self, path: str) -> tuple[str, str, str, float] | None:
        """(text, encoding, Content-Type, last change) of a page, or None."""
        if path in ("/", "/index.html"):
            return self._page(render_home(self), "home")
        if path in (CATALOGUE_PATH, f"{CATALOGUE_PATH}index.html"):
            return self._page(render_catalogue(self), None)
        if path.startswith(SOFT_404_PREFIX):
            return not_found_page(), "utf-8", "text/html; charset=utf-8", self.created_at  # answered 200
        if self.dead_links and path in dict(HOSTILE_LINKS):
            text, content_type = render_link_target(path)
            return text, "utf-8", content_type, self.created_at
        if path == "/robots.txt":
            return "User-agent: *\nDisallow: /_sim/\n", "ascii", "text/plain", self.created_at
        if path in SHELL_PAGES:
            return self._page(SHELL_PAGES[path], "home")
        if path == TABBED_HOME_PATH:
            return self._page(render_tabbed_home(self), "home")
        if match := re.fullmatch(r"/bench/(\d{1,9})\.html", path):
            return self._page(render_bench(int(match[1]), self.start_day), None)
        return self._column_route(path)

    def _column_route(self, path: str) -> tuple[str, str, str, float] | None:
        match = re.fullmatch(r"/xxgk/([a-z]+)/(.*)", path)
        spec = self.columns.get(match[1]) if match else None
        if match is None or spec is None or spec.slug in self.retired:
            return None
        rest, charset_header = match[2], True
        if spec.encoding != "utf-8" and rest.startswith(NO_CHARSET_SUFFIX):
            rest, charset_header = rest.removeprefix(NO_CHARSET_SUFFIX), False
        text = self._column_text(spec, rest)
        if text is None:
            return None
        content_type = f"text/html; charset={spec.encoding.upper()}" if charset_header else "text/html"
        return text, spec.encoding, content_type, self._changed[spec.slug]

    def _column_text(self, spec: ColumnSpec, rest: str) -> str | None:
        items = self._items[spec.slug]
        pages = max(1, -(-len(items) // ITEMS_PER_PAGE))
        if rest in ("", "index.html"):
            return render_column(self, spec, 0, pages)
        if (match := re.fullmatch(r"index_(\d+)\.html", rest)) and 0 < int(match[1]) < pages:
            return render_column(self, spec, int(match[1]), pages)
        article = next((item for item in items if item.href[2:] == rest), None)
        return render_article(spec, article) if article else None

    def _page(self, text: str, changed_key: str | None) -> tuple[str, str, str, float]:
        changed = self._changed[changed_key] if changed_key else self.created_at
        return text, "utf-8", "text/html; charset=utf-8", changed


def _history(spec: ColumnSpec, seed: int, start: date, created_at: float) -> list[SimItem]:
    """A column's initial items, newest first, deterministic in (seed, column, start day)."""
    rng = random.Random(f"{seed}:{spec.slug}")
    day = start - timedelta(days=rng.randint(*spec.newest_age_days))
    base_id = 10_000 + 1_000 * [c.slug for c in COLUMNS].index(spec.slug)
    items = []
    for n in range(spec.count):
        items.append(SimItem(base_id + spec.count - n, spec.slug, _title(rng, spec, day, n), day, created_at))
        day -= timedelta(days=rng.randint(*spec.gap_days))
    return items


def _title(rng: random.Random, spec: ColumnSpec, day: date, n: int) -> str:
    templates = _TITLE_TEMPLATES[spec.category]
    if spec.category == "static":
        return templates[n % len(templates)]
    topic, place = rng.choice(_TOPICS), rng.choice(_PLACES)
    template = rng.choice(templates)
    return template.format(org=SITE_TITLE, year=day.year, year2=day.year + 2, topic=topic, place=place)


# ---- templates ---------------------------------------------------------------------------------


_XHTML_DTD = "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd"


def _layout(title: str, charset: str, crumbs: str, main: str, sidebar: str = "") -> str:
    nav = "".join(f'<li><a href="{c.path}">{c.name}</a></li>' for c in COLUMNS if c.on_homepage)
    return f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "{_XHTML_DTD}">
<html xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta http-equiv="Content-Type" content="text/html; charset={charset}" />
<meta name="SiteName" content="{SITE_TITLE}" />
<title>{escape(title)}</title>
<link href="/images/style.css" type="text/css" rel="stylesheet" />
</head>
<body>
<div class="top"><div class="top-bar">今天是：<span id="today"></span>
<script>document.getElementById("today").innerHTML = new Date().toLocaleDateString("zh-CN");</script>
<a href="javascript:void(0)">无障碍浏览</a> | <a href="javascript:void(0)">长者模式</a></div>
<div class="logo"><img src="/images/logo.png" alt="{SITE_TITLE}" /></div></div>
<div class="nav"><ul><li><a href="/">首页</a></li>{nav}
<li><a href="{CATALOGUE_PATH}">信息公开</a></li></ul></div>
<div class="location">当前位置：<a href="/">首页</a>{crumbs}</div>
<div class="main">{sidebar}{main}</div>
<div class="footer">
<p>主办单位：{SITE_TITLE} &nbsp; 地址：模拟市东城区建设路1号 &nbsp; 邮编：545000 &nbsp; 电话：0000-0000000</p>
<p>网站标识码：0000000000 &nbsp; 模ICP备00000000号-1 &nbsp; 模公网安备 00000000000000号</p>
<p><a href="javascript:void(0)">政府网站找错</a> &nbsp; <a href="javascript:void(0)">网站地图</a></p>
</div>
</body>
</html>
"""


def _item_li(item: SimItem, base: str = "") -> str:
    text = item.title if len(item.title) <= LINK_TEXT_CHARS else item.title[: LINK_TEXT_CHARS - 1] + "…"
    href = base + item.href[2:] if base else item.href
    return (
        f'<li><a href="{href}" target="_blank" title="{escape(item.title)}">{escape(text)}</a>'
        f"<span>{item.day:%Y-%m-%d}</span></li>"
    )


def _sidebar(site: Site) -> str:
    """The "热点信息" widget: older policy items with dates, a trap for list extraction."""
    spec = site.columns["zcwj"]
    hot = "".join(_item_li(item, spec.path) for item in site.items("zcwj")[3:8])
    return f'<div class="left"><div class="side-box"><h3>热点信息</h3><ul class="hot">{hot}</ul></div></div>'


_PAGER = """<script type="text/javascript">
function createPageHTML(_nPageCount, _nCurrIndex, _sPageName, _sPageExt) {
  if (_nPageCount == null || _nPageCount <= 1) { return; }
  var nCurrIndex = _nCurrIndex || 0;
  document.write("共" + _nPageCount + "页 ");
  for (var i = 0; i < _nPageCount; i++) {
    var name = i == 0 ? _sPageName + "." + _sPageExt : _sPageName + "_" + i + "." + _sPageExt;
    var link = "<a href=\\"" + name + "\\">" + (i + 1) + "</a> ";
    document.write(i == nCurrIndex ? "<span>" + (i + 1) + "</span> " : link);
  }
}
createPageHTML(%d, %d, "index", "html");
</script>"""


def render_column(site: Site, spec: ColumnSpec, page: int, pages: int) -> str:
    items = site.items(spec.slug)[page * ITEMS_PER_PAGE : (page + 1) * ITEMS_PER_PAGE]
    lis = "\n".join(_item_li(item) for item in items)
    main = (
        f'<div class="right"><div class="list-title">{spec.name}</div>\n'
        f'<ul class="list">\n{lis}\n</ul>\n<div class="page">{_PAGER % (pages, page)}</div></div>'
    )
    crumbs = f' &gt; <a href="{CATALOGUE_PATH}">信息公开</a> &gt; <a href="./">{spec.name}</a>'
    charset = "gb2312" if spec.encoding == "gbk" else spec.encoding
    return _layout(f"{spec.name}_{SITE_TITLE}", charset, crumbs, main, _sidebar(site))


def render_home(site: Site) -> str:
    blocks = []
    for spec in COLUMNS:
        if spec.on_homepage:
            lis = "".join(_item_li(item, spec.path) for item in site.items(spec.slug)[:7])
            blocks.append(
                f'<div class="block"><div class="block-title"><h2>{spec.name}</h2>'
                f'<a class="more" href="{spec.path}">更多&gt;&gt;</a></div><ul>{lis}</ul></div>'
            )
    banner = '<div class="banner"><a href="javascript:void(0)">学习贯彻党的二十大精神专题</a></div>'
    links = DEAD_LINKS_BLOCK + HOSTILE_LINKS_BLOCK if site.dead_links else ""
    return _layout(SITE_TITLE, "utf-8", "", banner + "\n".join(blocks) + links)


def render_tabbed_home(site: Site) -> str:
    """The homepage columns as tabs: a row of labels, then one pane each (only the first shown),
    entries dated `[MM-DD]` without a year, as many homepages of the 2010s show them."""
    specs = [spec for spec in COLUMNS if spec.on_homepage]
    on, hidden = ' class="on"', ' style="display:none"'
    labels = "".join(
        f'<li{on if n == 0 else ""}><a href="{spec.path}" onmouseover="tab({n})">{spec.name}</a></li>'
        for n, spec in enumerate(specs)
    )
    panes = "".join(
        f'<ul class="pane" id="pane{n}"{"" if n == 0 else hidden}>'
        + "".join(
            f'<li><a href="{spec.path}{item.href[2:]}" target="_blank">{escape(item.title)}</a>'
            f"<span>[{item.day:%m-%d}]</span></li>"
            for item in site.items(spec.slug)[:6]
        )
        + "</ul>"
        for n, spec in enumerate(specs)
    )
    main = f'<div class="tabs"><ul class="tab-bar">{labels}</ul><div class="tab-body">{panes}</div></div>'
    return _layout(SITE_TITLE, "utf-8", "", main)


SHELL_PAGES = {
    # A redirect shell homepage (a few bytes of script, the target split like real ones are).
    "/shell/": "<html>\r\n<script>\r\n  window.location.href = '/' + 'tabs/';\r\n</script>\r\n</html>\r\n",
    # A meta refresh to the same redirect shell: two hops.
    "/refresh/": '<html><head><meta http-equiv="refresh" content="0; url=/shell/"></head><body></body></html>',
    # A frameset homepage: a banner frame and the real homepage as the main frame.
    "/frames/": (
        '<html><head><title>模拟市交通运输局</title></head><frameset rows="90,*" frameborder="0">'
        '<frame name="topFrame" src="/frames/top.html" scrolling="no"><frame name="mainFrame" src="/">'
        "</frameset></html>"
    ),
    "/frames/top.html": '<html><body><img src="/images/logo.png" alt="模拟市交通运输局"></body></html>',
    # A shell leading off the site: never followed.
    "/away/": "<script>location.replace('http://elsewhere.invalid/portal/')</script>",
}
"""Shell pages of the simulated portal, by path (see docs/extraction.md, Shells)."""


def render_catalogue(site: Site) -> str:
    """The 信息公开 catalogue: every live column, then the site's extra (name, URL) links such as another
    site's column."""
    links = "".join(f'<li><a href="./{c.slug}/">{c.name}</a></li>' for c in site.live_columns())
    links += "".join(f'<li><a href="{escape(url)}">{escape(name)}</a></li>' for name, url in site.catalogue_links)
    main = (
        '<div class="right"><div class="list-title">政府信息公开目录</div>'
        '<ul class="gk-guide"><li><a href="javascript:void(0)">政府信息公开指南</a></li>'
        '<li><a href="javascript:void(0)">政府信息公开制度</a></li></ul>'
        f'<h3>法定主动公开内容</h3><ul class="gk-columns">{links}</ul></div>'
    )
    return _layout(f"信息公开_{SITE_TITLE}", "utf-8", ' &gt; <a href="./">信息公开</a>', main)


def render_article(spec: ColumnSpec, item: SimItem) -> str:
    charset = "gb2312" if spec.encoding == "gbk" else spec.encoding
    paragraphs = "".join(
        f"<p>{text}</p>"
        for text in (
            f"近日，{SITE_TITLE}围绕“{escape(item.title)}”开展相关工作。",
            "会议强调，要坚持问题导向，压实工作责任，确保各项任务按时保质完成。",
        )
    )
    main = (
        f'<div class="article"><h1>{escape(item.title)}</h1>'
        f'<div class="info">发布日期：{item.day:%Y-%m-%d} &nbsp; 来源：{SITE_TITLE}</div>'
        f'<div class="TRS_Editor">{paragraphs}</div></div>'
    )
    crumbs = f' &gt; <a href="{CATALOGUE_PATH}">信息公开</a> &gt; <a href="../">{spec.name}</a>'
    page = _layout(f"{item.title}_{SITE_TITLE}", charset, crumbs, main)
    meta = (
        f'<meta name="ArticleTitle" content="{escape(item.title)}" />\n'
        f'<meta name="PubDate" content="{item.day:%Y-%m-%d} 09:30" />\n'
    )
    return page.replace("<title>", meta + "<title>", 1)


def render_bench(number: int, day: date) -> str:
    """A small static list page for benchmarks (thousands of distinct configured pages)."""
    days = [day - timedelta(days=k) for k in range(3)]
    lis = "".join(
        f'<li><a href="./t{d:%Y%m%d}_{number}{k}.html" title="基准页面{number}条目{k}">'
        f"基准页面{number}条目{k}</a><span>{d:%Y-%m-%d}</span></li>"
        for k, d in enumerate(days)
    )
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>基准页面{number}</title></head>'
        f'<body><ul class="list">{lis}</ul></body></html>\n'
    )


SOFT_404_PREFIX = "/zt/"
"""Retired 专题 pages: every path under it answers 200 with the not-found page (a soft 404)."""
LAPSED_DOMAIN_URL = "http://www.mnsjtj-old.invalid/"
"""The bureau's old domain, lapsed: its name no longer resolves (a re-registration risk)."""
DEAD_LINKS_BLOCK = (
    '<div class="links"><h3>相关链接</h3><ul>'
    '<li><a href="/xxgk/old/t20190301_1.html">2019年春运工作安排（旧链接）</a></li>'
    '<li><a href="/uploads/2019/bszn.pdf">办事指南（附件下载）</a></li>'
    f'<li><a href="{SOFT_404_PREFIX}2019cyzt/">春运专题（已下线）</a></li>'
    f'<li><a href="{LAPSED_DOMAIN_URL}">原局网站</a></li>'
    '</ul><img src="/uploads/2019/banner.jpg" alt="专题横幅" /></div>'
)
"""Dead links on the homepage of a portal built with `dead_links=True` (issue 12): an internal page,
an attachment and an image answering 404, a soft-404 page and an external domain that does not
resolve; the layout's /images/ files are missing on every page anyway."""
LINK_TARGET_PREFIX = "/links/"
HOSTILE_LINKS = (
    ("/links/head405.html", "HEAD 不被允许的页面（405）"),
    ("/links/head501.pdf", "HEAD 未实现的附件（501）"),
    ("/links/head404.html", "HEAD 答错状态的页面"),
    ("/links/slow.html", "响应很慢的页面"),
    ("/links/busy.html", "限流的页面（429）"),
    ("/links/rs412.html", "瑞数防护的页面（412）"),
    ("/links/jsl521.html", "加速乐防护的页面（521）"),
    ("/links/challenge.html", "人机验证页面"),
)
"""Hostile link targets, also on the homepage of a `dead_links=True` portal (issue 12): servers that
mishandle HEAD (405, 501, a wrong status) but answer GET, a link slower than any sane timeout, one
rate-limited with Retry-After, and anti-bot answers. None is a dead link. Each answers GET with a
plain page here; `monitor.sim._faults.LINK_TARGET_FAULTS` gives each its hostile behaviour."""
HOSTILE_LINKS_BLOCK = (
    '<div class="links"><h3>服务异常的链接</h3><ul>'
    + "".join(f'<li><a href="{path}">{text}</a></li>' for path, text in HOSTILE_LINKS)
    + "</ul></div>"
)


def render_link_target(path: str) -> tuple[str, str]:
    """(text, Content-Type) of a hostile link target's own answer to GET."""
    if path.endswith(".pdf"):
        return "%PDF-1.4\n% sim attachment\n%%EOF\n", "application/pdf"
    title = dict(HOSTILE_LINKS).get(path, "链接目标")
    main = f'<div class="article"><h1>{title}</h1><p>这个页面可以访问。</p></div>'
    return _layout(f"{title}_{SITE_TITLE}", "utf-8", "", main), "text/html; charset=utf-8"


def not_found_page() -> str:
    """What the portal shows for a missing page (with 404, or with 200 as a "soft 404")."""
    main = '<div class="error"><h2>抱歉，您访问的页面不存在或已删除！</h2><a href="/">返回首页</a></div>'
    return _layout(f"页面不存在_{SITE_TITLE}", "utf-8", "", main)
