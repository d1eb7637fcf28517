"""Fault modes of the simulated portal: parsing, the per-path/site-wide table, substitute answers.

A fault replaces the answer (5xx, anti-bot, redirects, huge bodies, …: built here as data) or
changes its delivery (hang, slow, trickle, reset: done by the server, which owns the sockets).
"""

from __future__ import annotations

import asyncio
import random
import re
import zlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from monitor.sim._http import Request, Response
from monitor.sim._site import Site, not_found_page, render_link_target

HUGE_BYTES = 2 * 1024**3
"""Content-Length announced by `huge` (streamed lazily, never held in memory)."""
BOMB_DECODED_BYTES = 64 * 1024**2
"""What `gzip_bomb` inflates to: far over any sane body cap, from about 64 KiB on the wire."""
STREAM_CHUNK_BYTES = 64 * 1024
OFFSITE_URL = "http://www.offsite-portal.invalid/"

DELIVERY_MODES = frozenset({"hang", "slow", "trickle", "reset"})
"""Modes that change how the normal answer is sent rather than what it is."""
ANSWER_MODES = frozenset(
    {"500", "502", "503", "429", "412", "521", "challenge", "redirect", "redirect_loop", "redirect_offsite", "huge",
     "endless", "gzip_bomb", "garbage", "lying_charset", "soft404", "malformed", "hidden_links", "integrity",
     "head"}
)  # fmt: skip
_NEEDS_ARG = frozenset({"slow", "redirect", "integrity", "ipv6"})
_TAKES_NUMBER = frozenset({"slow", "trickle"})
HEAD_STATUSES = frozenset({"404", "405", "500", "501"})
"""`head:STATUS`: HEAD answered with STATUS, GET as usual (servers and WAFs that mishandle HEAD)."""
SLOW_LINK_S = 5.0
"""How long the portal's slow link target takes to answer: longer than the tests' and demo's 2 s timeout."""
BUSY_RETRY_AFTER_S = 2
"""The Retry-After of the portal's rate-limited link target (always 429: a `blocked` link)."""
SITE_WIDE = "*"
HIDDEN_LINK_TARGET = "http://www.casino-portal.invalid/"
_HIDDEN_BLOCKS = {
    "display_none": '<div style="display:none"><a href="{url}">澳门威尼斯人 百家乐</a></div>',
    "font_size_zero": '<span style="font-size:0"><a href="{url}">真人娱乐 娱乐城</a></span>',
    "off_screen": '<div style="position:absolute;left:-9999px"><a href="{url}">六合彩 时时彩</a></div>',
    "script": "<script>document.write(unescape('%3Ca href%3D%22{url}%22%3E%E5%8D%9A%E5%BD%A9%3C/a%3E'))</script>",
}
"""`hidden_links[:TECHNIQUE]`: 暗链 to a gambling site as injected into hacked portals (issue 13)."""
NEW_PARTNER_URL = "http://www.new-partner.invalid/"
LAPSED_PARTNER_URL = "http://www.lapsed-partner.invalid/"
FOREIGN_SCRIPT_URL = "http://203.0.113.7/js/tj.js"
SPAM_TITLE = "澳门威尼斯人娱乐城 百家乐"
SEARCH_REFERERS = ("baidu.com", "so.com", "sogou.com", "bing.com", "google.")
CRAWLER_AGENTS = ("baiduspider", "googlebot", "360spider", "sogou web spider", "bingbot", "bytespider")
MOBILE_AGENTS = ("iphone", "android", "mobile")
CRAWLER_SPAM = (
    '<div class="seo"><h1>澳门威尼斯人 百家乐 真人娱乐</h1><p>六合彩 时时彩 在线博彩 娱乐城 注册送彩金</p></div>'
)
"""What `crawler_cloak` serves search-engine crawlers in place of the page's news: a keyword farm."""
INTEGRITY_SIGNALS = frozenset(
    {
        "new_domain", "lapsed_domain", "referer_cloak", "crawler_cloak", "mobile_cloak", "tampered_title",
        "foreign_script", "no_site_code",
    }
)  # fmt: skip
"""`integrity:SIGNAL`: the other signals of issue 13 on the served page (docs/integrity.md): a link to
a new outside domain, to a lapsed one (`.invalid`), visitors arriving from a search engine sent to
a gambling site (`referer_cloak`), search-engine crawlers served a gambling keyword page
(`crawler_cloak`), phones sent to a gambling site (`mobile_cloak`), a spam title, a script from a
raw IP, the footer without its 网站标识码."""
IPV6_FAULTS = frozenset({"same", "different", "500", "refuse"})
"""`ipv6:MODE` changes only what the `::1` listener serves (a portal started with `ipv6=True`): `same` (the
default), `different` (an outdated copy: what a stale IPv6 reverse proxy serves), `500`, `refuse`
(the ::1 listener closed). The 127.0.0.1 answers stay as they are."""
IPV6_STALE_PAGE = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>网站维护中</title></head><body>'
    "<h1>网站升级改造中</h1><p>IPv6 访问入口 旧版页面 请稍后访问 本页面为历史镜像 不再更新</p></body></html>"
)
"""The page the ::1 listener serves under `ipv6:different`: same status, other content."""
_OPTIONAL_END_TAG = re.compile(r"</(li|span|div|p|ul)\s*>")
"""End tags `malformed` drops: the ones old templates most often leave out."""


@dataclass(frozen=True)
class Fault:
    """A fault mode with its optional argument (`slow:3` -> mode "slow", arg "3")."""

    mode: str
    arg: str = ""

    @classmethod
    def parse(cls, text: str) -> Fault:
        """`ok`, `refuse`, `500`, `503:120`/`429:30` (Retry-After), `slow:2.5`, `trickle[:S]`, `redirect:URL`,
        `head[:405|501|404|500]` (HEAD answered so, GET as usual), …"""
        mode, _, arg = text.strip().partition(":")
        mode = mode.lower()
        if mode not in ANSWER_MODES | DELIVERY_MODES | {"ok", "refuse", "ipv6"}:
            raise ValueError(f"unknown fault mode {mode!r}")
        if mode in _NEEDS_ARG and not arg:
            raise ValueError(f"fault {mode!r} needs an argument ({mode}:VALUE)")
        if mode == "hidden_links" and arg and arg not in _HIDDEN_BLOCKS:
            raise ValueError(f"fault 'hidden_links' takes one of {', '.join(_HIDDEN_BLOCKS)}, got {arg!r}")
        if mode == "integrity" and arg not in INTEGRITY_SIGNALS:
            raise ValueError(f"fault 'integrity' takes one of {', '.join(sorted(INTEGRITY_SIGNALS))}, got {arg!r}")
        if mode == "ipv6" and arg not in IPV6_FAULTS:
            raise ValueError(f"fault 'ipv6' takes one of {', '.join(sorted(IPV6_FAULTS))}, got {arg!r}")
        if mode == "head" and arg and arg not in HEAD_STATUSES:
            raise ValueError(f"fault 'head' takes one of {', '.join(sorted(HEAD_STATUSES))}, got {arg!r}")
        if mode in _TAKES_NUMBER and arg and not _is_positive_number(arg):
            raise ValueError(f"fault {mode!r} takes a number of seconds, got {arg!r}")
        return cls(mode, arg)

    @property
    def seconds(self) -> float:
        """Delay for `slow`, interval between bytes for `trickle` (1 s unless given).

        Real seconds, not the sim's injectable clock: these faults exist to test client deadlines.
        """
        return float(self.arg) if self.arg else 1.0

    def __str__(self) -> str:
        return f"{self.mode}:{self.arg}" if self.arg else self.mode


LINK_TARGET_FAULTS = {
    "/links/head405.html": Fault("head", "405"),
    "/links/head501.pdf": Fault("head", "501"),
    "/links/head404.html": Fault("head", "404"),
    "/links/slow.html": Fault("slow", f"{SLOW_LINK_S:g}"),
    "/links/busy.html": Fault("429", str(BUSY_RETRY_AFTER_S)),
    "/links/rs412.html": Fault("412"),
    "/links/jsl521.html": Fault("521"),
    "/links/challenge.html": Fault("challenge"),
}
"""The hostile behaviour of each of `HOSTILE_LINKS` (monitor.sim._site), built into a portal with
dead links: not switched off by `reset`, and outranked by any fault switched on for the path or site."""


class FaultTable:
    """Which fault applies to a path: an exact-path fault wins over the site-wide one, which wins
    over a built-in one (`builtin`: the hostile link targets of a portal with dead links)."""

    def __init__(self, builtin: dict[str, Fault] | None = None) -> None:
        self._faults: dict[str, Fault] = {}
        self._builtin = dict(builtin or {})

    def set(self, fault: Fault, path: str | None = None) -> None:
        key = path or SITE_WIDE
        if fault.mode == "ok":
            self._faults.pop(key, None)
        else:
            self._faults[key] = fault

    def clear(self) -> None:
        self._faults.clear()

    def lookup(self, path: str) -> Fault | None:
        return self._faults.get(path) or self._faults.get(SITE_WIDE) or self._builtin.get(path)

    def snapshot(self) -> dict[str, str]:
        return {path: str(fault) for path, fault in sorted(self._faults.items())}


class FaultAnswers:
    """Builds the substitute answer of an answer-mode fault (state: the lazily built gzip bomb)."""

    def __init__(self, site: Site) -> None:
        self._site = site
        self._bomb: bytes | None = None
        self._builders: dict[str, Callable[[Fault, Request], Response]] = {
            "500": _server_error, "502": _server_error, "503": _server_error, "429": _server_error,
            "412": lambda f, r: Response(412, _RUISHU_PAGE),
            "521": lambda f, r: Response(521, _JIASULE_PAGE),
            "challenge": lambda f, r: Response(200, _RUISHU_PAGE),
            "redirect": lambda f, r: _redirect(f.arg),
            "redirect_loop": lambda f, r: _redirect(r.path if "loop" in r.query else r.path + "?loop=1"),
            "redirect_offsite": lambda f, r: _redirect(OFFSITE_URL),
            "huge": lambda f, r: Response(200, stream=_filler(HUGE_BYTES), length=HUGE_BYTES),
            "endless": lambda f, r: Response(200, stream=_filler(None)),
            "gzip_bomb": lambda f, r: self._gzip_bomb(),
            "garbage": lambda f, r: Response(200, random.Random(site.seed).randbytes(4096)),
            "lying_charset": self._lying_charset,
            "malformed": self._malformed,
            "hidden_links": self._hidden_links,
            "integrity": self._integrity,
            "soft404": lambda f, r: Response(200, not_found_page().encode()),
            "head": self._head,
        }  # fmt: skip

    def answer(self, fault: Fault, request: Request) -> Response:
        return self._builders[fault.mode](fault, request)

    def _gzip_bomb(self) -> Response:
        if self._bomb is None:
            deflater = zlib.compressobj(6, zlib.DEFLATED, zlib.MAX_WBITS | 16)
            block = bytes(1024**2)
            parts = [deflater.compress(block) for _ in range(BOMB_DECODED_BYTES // len(block))]
            self._bomb = b"".join(parts) + deflater.flush()
        return Response(200, self._bomb, headers=[("Content-Encoding", "gzip")])

    def _head(self, fault: Fault, request: Request) -> Response:
        """HEAD answered with `fault.arg` (405 unless given); GET with the page as usual."""
        if request.method == "HEAD":
            return Response(int(fault.arg or 405), b"")
        document = self._site.document(request.path)
        if document is None:
            text, content_type = render_link_target(request.path)
            return Response(200, text.encode(), content_type)
        return Response(200, document.body, document.content_type)

    def _lying_charset(self, fault: Fault, request: Request) -> Response:
        """The page's GBK bytes labelled UTF-8 in both the header and <meta> (seen on migrated sites)."""
        text = self._site.text_of(request.path) or not_found_page()
        body = text.replace("charset=gb2312", "charset=utf-8").encode("gbk", errors="xmlcharrefreplace")
        return Response(200, body, "text/html; charset=utf-8")

    def _malformed(self, fault: Fault, request: Request) -> Response:
        """The page as broken templates and truncated writes leave it: block elements left open, stray
        closing tags, and the document cut off inside an attribute. Browsers still show it."""
        text = _OPTIONAL_END_TAG.sub("", self._site.text_of(request.path) or not_found_page())
        text = text.replace("<body>", "<body></table></td></div>", 1)
        cut = text[: len(text) * 3 // 4]
        return Response(200, (cut[: cut.rfind("<") + 4] + '="').encode(), "text/html; charset=utf-8")

    def _hidden_links(self, fault: Fault, request: Request) -> Response:
        """The page with a hidden block of gambling links before `</body>`, hidden by `fault.arg`."""
        text = self._site.text_of(request.path) or not_found_page()
        block = _HIDDEN_BLOCKS[fault.arg or "display_none"].replace("{url}", HIDDEN_LINK_TARGET)
        head, _, tail = text.rpartition("</body>")
        page = f"{head}{block}</body>{tail}" if head else text + block
        charset = "gb2312" if "charset=gb2312" in text else "utf-8"
        return Response(200, page.encode(charset, errors="xmlcharrefreplace"), f"text/html; charset={charset}")

    def _integrity(self, fault: Fault, request: Request) -> Response:
        """The page with one integrity signal of `fault.arg` (`INTEGRITY_SIGNALS`)."""
        referer = request.headers.get("referer", "").lower()
        agent = request.headers.get("user-agent", "").lower()
        if fault.arg == "referer_cloak" and any(engine in referer for engine in SEARCH_REFERERS):
            return _redirect(HIDDEN_LINK_TARGET)
        if fault.arg == "mobile_cloak" and any(phone in agent for phone in MOBILE_AGENTS):
            return _redirect(HIDDEN_LINK_TARGET)
        text = self._site.text_of(request.path) or not_found_page()
        crawler = any(bot in agent for bot in CRAWLER_AGENTS)
        text = _with_signal(text, fault.arg if fault.arg != "crawler_cloak" or crawler else "")
        charset = "gb2312" if "charset=gb2312" in text else "utf-8"
        return Response(200, text.encode(charset, errors="xmlcharrefreplace"), f"text/html; charset={charset}")


def _with_signal(text: str, signal: str) -> str:
    """The page's text changed the way `signal` says (the cloaking signals leave other visitors' page alone)."""
    footer = '<div class="footer">'
    if signal == "new_domain":
        return text.replace(footer, f'{footer}<p><a href="{NEW_PARTNER_URL}">合作网站</a></p>', 1)
    if signal == "lapsed_domain":
        return text.replace(footer, f'{footer}<p><a href="{LAPSED_PARTNER_URL}">友情链接</a></p>', 1)
    if signal == "tampered_title":
        return re.sub(r"<title>[^<]*</title>", f"<title>{SPAM_TITLE}</title>", text, count=1)
    if signal == "foreign_script":
        return text.replace("</head>", f'<script src="{FOREIGN_SCRIPT_URL}"></script></head>', 1)
    if signal == "no_site_code":
        return re.sub(r"网站标识码：\d+", "", text, count=1)
    if signal == "crawler_cloak":
        head, _, tail = text.partition("<body>")
        return f"{head}<body>{CRAWLER_SPAM}</body></html>" if tail else CRAWLER_SPAM
    return text


def _server_error(fault: Fault, request: Request) -> Response:
    headers = [("Retry-After", fault.arg)] if fault.arg else []
    page = f"<html><head><title>{fault.mode} Error</title></head><body><h1>{fault.mode}</h1></body></html>"
    return Response(int(fault.mode), page.encode(), headers=headers)


def _redirect(location: str) -> Response:
    return Response(302, b"", headers=[("Location", location)])


async def _filler(total: int | None) -> AsyncIterator[bytes]:
    """`total` bytes of HTML comment filler (endless if None), one reused chunk at a time."""
    chunk = b"<!--" + b"x" * (STREAM_CHUNK_BYTES - 7) + b"-->"
    sent = 0
    while total is None or sent < total:
        piece = chunk if total is None else chunk[: total - sent]
        sent += len(piece)
        yield piece
        await asyncio.sleep(0)


def _is_positive_number(text: str) -> bool:
    try:
        return float(text) > 0
    except ValueError:
        return False


# Shaped like the real thing (see corpus pages 014 and the 521 pages of 加速乐), with fake tokens.
_RUISHU_PAGE = (
    b'<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
    b'<meta content="' + b"Zx9" * 120 + b'" r="m">'
    b"<script type=\"text/javascript\" r='m'>$_ts=window['$_ts'];if(!$_ts)$_ts={};$_ts.nsd=12345;"
    b'$_ts.cd="' + b"qAbC" * 200 + b'";if($_ts.lcd)$_ts.lcd();</script>'
    b'<script type="text/javascript" charset="utf-8" src="/sim4Rs/abcdef.1234567.js" r=\'m\'></script>'
    b"</head><body></body></html><script type=\"text/javascript\" r='m'>_$a8();</script>"
)
_JIASULE_PAGE = (
    b"<html><body><script>document.cookie=('__jsl_clearance=1700000000.123|0|'+(function(){return 'aBcD'})()"
    b"+';Expires=Tue, 14-Nov-23 00:00:00 GMT;Path=/;');location.href=location.pathname+location.search"
    b"</script></body></html>"
)
