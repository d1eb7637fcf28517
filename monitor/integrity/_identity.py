"""Site identity (网站标识) read from a page, and the findings it gives.

Reads the 网站标识码 (footer text, the 找错 script's `sitecode`, `<meta name="SiteIDCode">`), the ICP
number, the 公安机关备案 number, the 党政机关网站标识 (CONAC badge, and its error variant), the
我为政府网站找错 entry and the 主办单位, plus the page tags of the 网页设计规范 by page type. Pure:
the parsed document and its visible text in, frozen values out.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from selectolax.lexbor import LexborHTMLParser

from monitor.integrity._scripts import payloads
from monitor.integrity._text import visible_text

SITE_CODE = re.compile(r"标识码\s*[：:]?\s*(bm\d{8}|\d{10})(?!\d)", re.IGNORECASE)
CODE_VALUE = re.compile(r"^(?:bm\d{8}|\d{10})$", re.IGNORECASE)
ICP = re.compile(r"([\u4e00-\u9fff])\s*ICP\s*备\s*(\d{5,12})\s*号(?:\s*-\s*(\d{1,3}))?")
POLICE = re.compile(r"([\u4e00-\u9fff])\s*公网安备\s*(\d{14})(?!\d)")
POLICE_LINK = re.compile(r"recordcode=(\d{14})(?!\d)")
ORGANISER = re.compile(r"主办(?:单位)?\s*[：:]\s*([^\s|｜,，。;；©<>]{2,40})")
ORGANISER_BEFORE = re.compile(r"([\u4e00-\u9fff（）]{4,40})主办(?!单位)")
"""`湖北省市场监督管理局主办`, `本站由国家药品监督管理局主办`: the organiser named before the word."""
JIUCUO_HOSTS = {"zfwzgl.www.gov.cn": "national", "pucha.kaipuyun.cn": "old"}
"""Hosts of the 找错 script: the national portal's current one and the older one."""

CONAC_ERROR_HINTS = ("error", "错误", "未通过", "过期", "注销", "失效")
"""Words in a CONAC badge image's src/alt/title that mark the error badge."""

SITE_TAGS = ("SiteName", "SiteDomain", "SiteIDCode")
COLUMN_TAGS = (*SITE_TAGS, "ColumnName", "ColumnDescription", "ColumnKeywords", "ColumnType")
ARTICLE_TAGS = (*COLUMN_TAGS, "ArticleTitle", "PubDate", "ContentSource")
PUBDATE_FORMAT = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}(?::\d{2})?$")


class Element(StrEnum):
    """Identity elements a government site's pages must carry (stable strings)."""

    SITE_CODE = "site_code"
    ICP = "icp"
    POLICE = "police_record"
    CONAC = "conac"
    JIUCUO = "jiucuo"
    ORGANISER = "organiser"


class TagProfile(StrEnum):
    """Which page tags a page must carry: the homepage's, a column's or an article's."""

    HOMEPAGE = "homepage"
    COLUMN = "column"
    ARTICLE = "article"


REQUIRED_TAGS = {TagProfile.HOMEPAGE: SITE_TAGS, TagProfile.COLUMN: COLUMN_TAGS, TagProfile.ARTICLE: ARTICLE_TAGS}


@dataclass(frozen=True)
class Identity:
    """What one page says about who runs the site. Absent values are "" / empty."""

    site_codes: tuple[tuple[str, str], ...] = ()
    """(source, code): source is `footer`, `jiucuo` or `meta`."""
    icp: str = ""
    police: str = ""
    conac: tuple[str, ...] = ()
    """Forms of the CONAC badge seen: `span` (_ideConac), `script` (dcs.conac.cn), `link` (bszs.conac.cn)."""
    conac_error: bool = False
    jiucuo: str = ""
    """`national`, `old`, `local` (a copy served by the site) or `link` (a 找错 page link), "" when absent."""
    organiser: str = ""
    tags: tuple[tuple[str, str], ...] = ()

    @property
    def site_code(self) -> str:
        """The code most sources give (the footer's on a tie), "" when none does."""
        if not self.site_codes:
            return ""
        counts = Counter(code for _, code in self.site_codes)
        return max(counts, key=lambda code: (counts[code], code == self.site_codes[0][1]))

    def present(self) -> dict[Element, bool]:
        """Which identity elements the page carries."""
        return {
            Element.SITE_CODE: bool(self.site_codes),
            Element.ICP: bool(self.icp),
            Element.POLICE: bool(self.police),
            Element.CONAC: bool(self.conac),
            Element.JIUCUO: bool(self.jiucuo),
            Element.ORGANISER: bool(self.organiser),
        }

    def form_values(self) -> dict[str, str]:
        """The 年度报表 identity fields this page shows (keys of report's IDENTITY_KEYS), non-empty only."""
        values = {"sponsor": self.organiser, "site_code": self.site_code, "icp": self.icp, "police": self.police}
        return {key: value for key, value in values.items() if value}

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form (phase 2 keeps the previous reading of each homepage)."""
        return {
            "site_codes": [list(pair) for pair in self.site_codes],
            "icp": self.icp,
            "police": self.police,
            "conac": list(self.conac),
            "conac_error": self.conac_error,
            "jiucuo": self.jiucuo,
            "organiser": self.organiser,
            "tags": [list(pair) for pair in self.tags],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Identity:
        """The inverse of `as_dict`."""
        return cls(
            site_codes=tuple((str(source), str(code)) for source, code in data.get("site_codes", ())),
            icp=str(data.get("icp", "")),
            police=str(data.get("police", "")),
            conac=tuple(str(form) for form in data.get("conac", ())),
            conac_error=bool(data.get("conac_error", False)),
            jiucuo=str(data.get("jiucuo", "")),
            organiser=str(data.get("organiser", "")),
            tags=tuple((str(name), str(content)) for name, content in data.get("tags", ())),
        )

    def value(self, element: Element) -> str:
        """The element's value as text (what a change is detected on)."""
        values = {
            Element.SITE_CODE: self.site_code,
            Element.ICP: self.icp,
            Element.POLICE: self.police,
            Element.CONAC: "error" if self.conac_error else ",".join(self.conac),
            Element.JIUCUO: self.jiucuo,
            Element.ORGANISER: self.organiser,
        }
        return values[element]


def read_identity(html: str) -> Identity:
    """The identity elements of a page's HTML (parses it; `inspect_page` reuses its own parse)."""
    doc = LexborHTMLParser(html)
    marks = read_marks(doc)
    return with_text(marks, visible_text(doc))


def read_marks(doc: LexborHTMLParser) -> Identity:
    """What the markup says (scripts, links, meta tags); read before the scripts are stripped."""
    meta = _meta_tags(doc)
    codes = []
    jiucuo, jiucuo_code = _jiucuo(doc)
    if jiucuo_code:
        codes.append(("jiucuo", jiucuo_code))
    if CODE_VALUE.match(meta.get("SiteIDCode", "")):
        codes.append(("meta", meta["SiteIDCode"].lower()))
    conac, conac_error = _conac(doc)
    police = _police_link(doc)
    return Identity(
        site_codes=tuple(codes),
        police=police,
        conac=conac,
        conac_error=conac_error,
        jiucuo=jiucuo,
        tags=tuple(sorted(meta.items())),
    )


def with_text(marks: Identity, text: str) -> Identity:
    """The markup's identity completed from the visible text (the footer lines)."""
    footer = tuple(("footer", code.lower()) for code in SITE_CODE.findall(text)[:3])
    police = POLICE.search(text)
    return replace(
        marks,
        site_codes=footer + marks.site_codes,
        icp=_icp(text),
        police=police.group(2) if police else marks.police,
        organiser=_organiser(text),
    )


def _meta_tags(doc: LexborHTMLParser) -> dict[str, str]:
    tags: dict[str, str] = {}
    wanted = {name.lower(): name for name in ARTICLE_TAGS}
    for node in doc.css("meta[name]"):
        name = wanted.get((node.attributes.get("name") or "").strip().lower())
        if name is not None and name not in tags:
            tags[name] = " ".join((node.attributes.get("content") or "").split())[:200]
    return tags


def _icp(text: str) -> str:
    match = ICP.search(text)
    if match is None:
        return ""
    suffix = f"-{match.group(3)}" if match.group(3) else ""
    return f"{match.group(1)}ICP备{match.group(2)}号{suffix}"


def _police_link(doc: LexborHTMLParser) -> str:
    for link in doc.css("a[href*='recordcode=']")[:20]:
        found = POLICE_LINK.search(link.attributes.get("href") or "")
        if found:
            return found.group(1)
    return ""


def _jiucuo(doc: LexborHTMLParser) -> tuple[str, str]:
    """(generation, sitecode) of the 找错 widget: its script, else a link to a 找错 page."""
    script = doc.css_first("script#_jiucuo_")
    if script is not None:
        source = (script.attributes.get("src") or "").lower()
        host = source.split("//", 1)[-1].split("/", 1)[0] if "//" in source else ""
        code = (script.attributes.get("sitecode") or "").strip().lower()
        return JIUCUO_HOSTS.get(host, "local"), code if CODE_VALUE.match(code) else ""
    for link in doc.css("a[href*='jiucuo'], #_span_jiucuo")[:1]:
        return "link", _code_in(link.attributes.get("href") or "")
    return "", ""


def _code_in(href: str) -> str:
    match = re.search(r"site_?code=(bm\d{8}|\d{10})(?!\d)", href, re.IGNORECASE)
    return match.group(1).lower() if match else ""


def _conac(doc: LexborHTMLParser) -> tuple[tuple[str, ...], bool]:
    """Forms of the CONAC badge present, and whether its image is the error badge."""
    forms = []
    if doc.css_first("#_ideConac") is not None:
        forms.append("span")
    if doc.css_first("script[src*='conac.cn']") is not None or _written_conac_script(doc):
        forms.append("script")
    links = doc.css("a[href*='conac']")
    if links:
        forms.append("link")
    images = [image for link in links[:5] for image in link.css("img")] + doc.css("#_ideConac img, img#imgConac")
    error = any(_is_error_badge(image.attributes) for image in images[:10])
    return tuple(forms), error


def _written_conac_script(doc: LexborHTMLParser) -> bool:
    """True when an inline script writes the dcs.conac.cn script (document.write(unescape(…)))."""
    for script in doc.css("script"):
        text = script.text(deep=True) or ""
        lowered = text.lower()
        if "conac" in lowered and any("conac.cn" in payload.text.lower() for payload in payloads(text)):
            return True
    return False


def _is_error_badge(attrs: dict[str, str | None]) -> bool:
    words = " ".join((attrs.get(name) or "") for name in ("src", "alt", "title")).lower()
    return any(hint in words for hint in CONAC_ERROR_HINTS)


def _organiser(text: str) -> str:
    named = _first(ORGANISER, text)
    if named:
        return named
    before = _first(ORGANISER_BEFORE, text)
    for lead in ("本网站由", "本站由", "网站由", "由"):
        if before.startswith(lead):
            return before[len(lead) :]
    return before


def _first(pattern: re.Pattern[str], text: str) -> str:
    match = pattern.search(text)
    return match.group(1) if match else ""
