"""Text (or bytes) of one portal page -> Extraction: its kind, dated list items, publish date, columns.

Pure: no I/O, no clock (the reference day is a parameter), never raises on any input. The readers
live in private modules: _records/_lists (main list), _article (publish date), _catalogue
(columns), _feeds (JSON lists, Hanweb datastore), _paging (page count), _selectors (config override).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date

from monitor.extract._article import ArticleDate, has_article_body, heading_date, publish_date
from monitor.extract._catalogue import find_catalogue
from monitor.extract._data_lists import json_items, parse_json, script_items, unwrap_datastore
from monitor.extract._dates import find_full_dates
from monitor.extract._decode import decode
from monitor.extract._homepage import Homepage, read_homepage, redate
from monitor.extract._links import PageLinks, resolve, saved_from_url
from monitor.extract._lists import MainList, choose_main_list
from monitor.extract._paging import pages_total
from monitor.extract._records import Record, find_records
from monitor.extract._selectors import select_items
from monitor.extract._shell import empty_page, leading_shell
from monitor.extract._tree import Tree, parse
from monitor.models import Column, Extraction, ExtractKind, Item, PageKind

PAGED_LIST_MIN_ITEMS = 10
"""A paginated list this long outweighs a publish-date label elsewhere on the page."""

MIN_SCRIPT_ITEMS = 2
"""A JSON array in a script is read as the list only with at least this many dated records."""

CATALOGUE_WORD = "目录"
"""A page whose title or column name has this word is the disclosure catalogue, lists or not."""

STRAY_LIST_TARGETS = 3
"""A dated "list" linking to fewer targets than this may be an article's stray links."""

_INFO_LINE = re.compile(r"来源|作者|编辑|责编|浏览|阅读|字号|打印")
LINK_TITLE_CHARS = 6
"""A link titled this long is a document (a related article), not a 来源/share label."""

META_ARTICLE_MAX_ITEMS = 5
"""Without body text, a <meta>/script publish date makes an article only below this many list entries."""


@dataclass(frozen=True)
class _Findings:
    """Everything read from one HTML page, before deciding what kind of page it is."""

    main: MainList
    article: ArticleDate | None
    listed: tuple[int, ...]
    documents: frozenset[int]
    pages: int | None
    links: PageLinks
    tree: Tree
    today: date | None
    records: tuple[Record, ...] = ()
    kind: PageKind | None = None

    def in_list(self, node: int) -> bool:
        """Whether a node belongs to a repeated list entry."""
        return any(self.tree.contains(element, node) for element in self.listed)

    def has_body(self) -> bool:
        """Whether the page has running text outside links and list entries (an article body)."""
        return has_article_body(self.tree, self.in_list)


def extract_document(
    body: bytes,
    *,
    content_type: str | None = None,
    base_url: str = "",
    today: date | None = None,
    item_selector: str | None = None,
    date_selector: str | None = None,
    kind: PageKind | None = None,
) -> Extraction:
    """Decode the body (see monitor.decode) and extract it; binary bodies are `other`."""
    decoded = decode(body, content_type)
    if not decoded.is_text:
        return Extraction(ExtractKind.OTHER, decoded.encoding)
    return extract(
        decoded.text,
        base_url=base_url,
        encoding=decoded.encoding,
        today=today,
        item_selector=item_selector,
        date_selector=date_selector,
        kind=kind,
    )


def extract(
    text: str,
    *,
    base_url: str = "",
    encoding: str = "",
    today: date | None = None,
    item_selector: str | None = None,
    date_selector: str | None = None,
    kind: PageKind | None = None,
) -> Extraction:
    """Read one page. `today` bounds dates (none in the future) and gives yearless dates their year;
    without it, the newest complete date shown on the page stands in for today. `kind` is what the
    config says the page is (a homepage is read block by block); without it the page's look decides.
    Without a `base_url`, a browser's `<!-- saved from url=… -->` comment gives the page's address.
    """
    try:
        return _extract(text, base_url or saved_from_url(text), encoding, today, item_selector, date_selector, kind)
    except Exception:
        # The one exception boundary: whatever a malformed page (or an invalid configured
        # selector) trips inside the readers, the check pipeline gets data ("other").
        return Extraction(ExtractKind.OTHER, encoding)


def _extract(
    text: str,
    base_url: str,
    encoding: str,
    today: date | None,
    item_selector: str | None,
    date_selector: str | None,
    kind: PageKind | None,
) -> Extraction:
    if not text.strip():
        return Extraction(ExtractKind.OTHER, encoding)
    document = parse_json(text)
    if document is not None:
        return _from_json(document, base_url, encoding, today)
    html, datastore_pages = unwrap_datastore(text)
    tree = parse(html)
    day = today or _newest_shown_date(tree)
    base = resolve(base_url, tree.base_href) if tree.base_href else base_url
    pages = pages_total(tree) or datastore_pages
    if item_selector:
        items = select_items(html, item_selector, date_selector, base, day)
        return _list_extraction(items, encoding, pages)
    shell = leading_shell(tree, base)
    if shell is not None:
        return Extraction(shell.kind, encoding, next_url=shell.next_url)
    findings = _read_page(tree, base, day, pages, kind)
    extraction = _decide(findings, encoding)
    if extraction.kind is ExtractKind.OTHER:
        seen = empty_page(tree, html, base)
        return Extraction(seen.kind, encoding, next_url=seen.next_url)
    return extraction


def _from_json(document: object, base_url: str, encoding: str, today: date | None) -> Extraction:
    """A JSON list API response: a list when it holds dated records, else other."""
    items = json_items(document, base_url, today)
    if not items:
        return Extraction(ExtractKind.OTHER, encoding)
    return _list_extraction(items, encoding, None)


def _read_page(tree: Tree, base: str, today: date | None, pages: int | None, kind: PageKind | None) -> _Findings:
    records, links = find_records(tree, base, today)
    main = choose_main_list(tree, records, pages is not None)
    listed = tuple(_list_elements(records))
    documents = frozenset(record.link.index for record in records)
    findings = _Findings(main, None, listed, documents, pages, links, tree, today, tuple(records), kind)
    return replace(findings, article=publish_date(tree, today, findings.in_list))


def _list_elements(records: list[Record]) -> list[int]:
    """Elements of records that repeat (groups of two or more): list entries, not an article's own date."""
    counts: dict[tuple[str, ...], int] = {}
    for record in records:
        counts[record.signature] = counts.get(record.signature, 0) + 1
    repeated = [record for record in records if counts[record.signature] > 1]
    return [element for record in repeated for element in (record.element, record.date_element)]


def _decide(findings: _Findings, encoding: str) -> Extraction:
    """Choose the page kind from what was found, strongest evidence first.

    The catalogue nav's columns ride along with a list too (a catalogue page may show the newest
    documents, a column page the catalogue in its sidebar): discovery needs them either way.
    """
    if findings.kind is PageKind.HOMEPAGE:
        home = read_homepage(findings.tree, list(findings.records), findings.today)
        if home.records:
            return _homepage_extraction(home, encoding)
    entries = len(findings.main.records)
    article = findings.article
    items = _items(findings)
    if article is not None and not findings.main.homepage and _reads_as_article(findings, article, entries):
        return Extraction(ExtractKind.ARTICLE, encoding, newest_date=article.value)
    catalogue = find_catalogue(findings.tree, findings.links, findings.documents)
    columns = tuple(Column(link.title, link.url) for link in catalogue.columns) if catalogue else ()
    if items and not (catalogue and _names_a_catalogue(findings.tree)):
        if _sidebar_only(findings.main) and findings.has_body():
            # One document with link lists beside it that show no date: an article dated by its own
            # date or the one under its heading, never by its neighbours' URLs. A bare "日期：" alone
            # is not enough (a header widget on a URL-dated column page says as much).
            own = article if article is not None and article.source != "bare" else None
            dated = own or heading_date(findings.tree, findings.today, _linked_dates(findings))
            if dated is not None:
                return Extraction(ExtractKind.ARTICLE, encoding, newest_date=dated.value)
        headed = (
            heading_date(findings.tree, findings.today, _linked_dates(findings)) if _is_stray(findings.main) else None
        )
        if headed is not None and findings.has_body():
            return Extraction(ExtractKind.ARTICLE, encoding, newest_date=headed.value)
        return _list_extraction(items, encoding, findings.pages, columns)
    scripted = script_items(findings.tree.scripts, findings.links.base, findings.today)
    if len(scripted) >= MIN_SCRIPT_ITEMS:
        return _list_extraction(scripted, encoding, findings.pages, columns)
    if article is None and findings.has_body():
        article = heading_date(findings.tree, findings.today, _linked_dates(findings))
    if article is not None:
        return Extraction(ExtractKind.ARTICLE, encoding, newest_date=article.value)
    if findings.pages is not None:
        # A paginated list with nothing dated on it: a blank column, or one without dates.
        return Extraction(ExtractKind.LIST, encoding, columns=columns, pages_total=findings.pages)
    if columns:
        return Extraction(ExtractKind.CATALOGUE, encoding, columns=columns)
    return Extraction(ExtractKind.OTHER, encoding)


def _items(findings: _Findings) -> list[Item]:
    """The main list's items, yearless dates dated by the list's own full dates first (see redate)."""
    records = list(findings.main.records)
    if any(record.yearless for record in records):
        records = [record for members in redate(findings.tree, [records], findings.today) for record in members]
    return [Item(record.link.title, record.link.url, record.value) for record in records]


def _linked_dates(findings: _Findings) -> frozenset[int]:
    """Elements showing the date of a titled link (a related article beside the heading), not the
    article's own info line (`2021-01-05 来源：<a>某某局</a>`)."""
    tree = findings.tree
    return frozenset(
        record.date_element
        for record in findings.records
        if len(record.link.title) >= LINK_TITLE_CHARS
        and not _INFO_LINE.search(tree.text_of(record.date_element, frozenset({record.link.index})))
    )


def _sidebar_only(main: MainList) -> bool:
    """True when the "list" shows no date at all: links dated only by their URLs."""
    return all(record.url_dated for record in main.records)


def _is_stray(main: MainList) -> bool:
    """A "list" of fewer distinct targets than an article's odds and ends (share buttons, menu
    links paired with the article's own date) — too little to outweigh an article body."""
    return len({record.link.href for record in main.records}) < STRAY_LIST_TARGETS


def _names_a_catalogue(tree: Tree) -> bool:
    """True when the page calls itself a catalogue (信息公开目录) in its <title> or column name."""
    return CATALOGUE_WORD in tree.title or CATALOGUE_WORD in tree.meta.get("columnname", "")


def _reads_as_article(findings: _Findings, article: ArticleDate, entries: int) -> bool:
    """Whether the publish date outweighs the list entries found on the same page.

    A visibly labelled date wins unless a long paginated list is there too (article pages carry
    "related news" lists, not pagers); a meta/script date needs body text or very few entries.
    """
    if article.source in ("label", "box"):
        paged_list = entries >= PAGED_LIST_MIN_ITEMS and findings.pages is not None
        return not paged_list or findings.has_body()
    if article.source in ("meta", "script"):
        return entries < META_ARTICLE_MAX_ITEMS or findings.has_body()
    return entries == 0


def _list_extraction(
    items: list[Item], encoding: str, pages: int | None, columns: tuple[Column, ...] = ()
) -> Extraction:
    dated = [item.date for item in items if item.date is not None]
    newest = max(dated) if dated else None
    return Extraction(ExtractKind.LIST, encoding, tuple(items), newest, columns, pages)


def _homepage_extraction(home: Homepage, encoding: str) -> Extraction:
    """A homepage: every dated link of every block, the newest date across all of them."""
    items = tuple(Item(record.link.title, record.link.url, record.value) for record in home.records)
    newest = max(record.value for record in home.records)
    return Extraction(ExtractKind.HOMEPAGE, encoding, items, newest, blocks=home.blocks)


def _newest_shown_date(tree: Tree) -> date | None:
    """Stand-in for today when the caller gave none: the newest complete date on the page."""
    return max((found.value for found in find_full_dates(tree.page_text)), default=None)
