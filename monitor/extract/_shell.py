"""Pages with no content of their own: what was seen instead, and where it leads.

A `shell` leads on the way a browser would go: a meta refresh, a script redirect (`location = …`,
`location.href = …`, `location.replace(…)`, `window.open(…)` when the page loads), a frameset's
main frame, a splash page's one entry link. An `app_shell` is an empty page a script fills in
(`<div id="app">`, `{{…}}` templates); a `challenge` an anti-bot interstitial. Pure, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from monitor.extract._antibot import challenge_vendor
from monitor.extract._links import resolve
from monitor.extract._tree import Tree
from monitor.models import ExtractKind

SMALL_TEXT_CHARS = 200
"""A page showing less text than this (whitespace dropped) has no content of its own to read."""

MAX_REFRESH_SECONDS = 10
"""A meta refresh leading elsewhere within this many seconds makes the page a shell."""

MAX_SPLASH_LINKS = 6
"""A splash entry page has a handful of links at most."""

PICTURE_ONLY_CHARS = 20
"""A splash page without an "enter" word shows next to no text: a picture that is its only link."""

APP_TEMPLATE_SHARE = 0.3
"""A page whose visible text is mostly `{{…}}` template placeholders is an app shell."""

_REFRESH = re.compile(r"^\s*(\d+)\s*(?:[;,]\s*(?:url\s*=\s*)?['\"]?\s*([^'\"\s][^'\"]*?)\s*['\"]?\s*)?$", re.IGNORECASE)
_LITERALS = r"((?:(?:'[^'\n]*'|\"[^\"\n]*\")\s*\+\s*)*(?:'[^'\n]*'|\"[^\"\n]*\"))"
_SCRIPT_REDIRECTS = (
    re.compile(r"(?:\b(?:window|self|top|document|parent)\s*\.\s*)?\blocation(?:\s*\.\s*href)?\s*=\s*" + _LITERALS),
    re.compile(r"\blocation\s*\.\s*(?:replace|assign)\s*\(\s*" + _LITERALS),
    re.compile(r"\bwindow\s*\.\s*open\s*\(\s*" + _LITERALS),
)
_LITERAL = re.compile(r"'([^'\n]*)'|\"([^\"\n]*)\"")
_CONDITIONAL = re.compile(
    r"userAgent|navigator|screen\.width|innerWidth|\bif\s*\(|function\s*\w*\s*\(|=>|onclick", re.I
)
_ON_LOAD = re.compile(r"onload\s*=\s*function\s*\(\s*\)\s*\{[^{}]*$", re.IGNORECASE)
_MAIN_FRAME = re.compile(r"main|content|body|center|right|zhuti|nr|index", re.IGNORECASE)
_SIDE_FRAME = re.compile(r"top|head|banner|menu|left|nav|foot|bottom|title|logo|bar", re.IGNORECASE)
_ENTRY = re.compile(r"进入|進入|enter", re.IGNORECASE)
_TEMPLATE = re.compile(r"\{\{[^{}]{0,80}\}\}")
_APP_ROOT_IDS = frozenset({"app", "root", "__next", "__nuxt", "q-app"})
_APP_ATTRIBUTES = ("v-cloak", "ng-app", "ng-controller", "ms-controller", "data-reactroot")


@dataclass(frozen=True)
class Shell:
    """What a content-less page was seen as, and (for a `shell`) the URL it leads to."""

    kind: ExtractKind
    next_url: str | None = None


def leading_shell(tree: Tree, base: str) -> Shell | None:
    """A frameset or an immediate meta refresh elsewhere: a shell whatever else the page holds."""
    frame = _main_frame(tree)
    if frame:
        return Shell(ExtractKind.SHELL, resolve(base, frame))
    target = _refresh_target(tree)
    if target and resolve(base, target) != base:
        return Shell(ExtractKind.SHELL, resolve(base, target))
    return None


def empty_page(tree: Tree, text: str, base: str) -> Shell:
    """What a page with nothing readable is: a redirect or splash shell, an app shell, an anti-bot
    challenge, or `other`."""
    shown = "".join(tree.page_text.split())
    if len(shown) < SMALL_TEXT_CHARS:
        target = _script_target(tree) or _splash_entry(tree)
        if target:
            return Shell(ExtractKind.SHELL, resolve(base, target))
    if challenge_vendor(text.encode("utf-8", "replace")) is not None:
        return Shell(ExtractKind.CHALLENGE)
    if _is_app_shell(tree, shown):
        return Shell(ExtractKind.APP_SHELL)
    return Shell(ExtractKind.OTHER)


def _main_frame(tree: Tree) -> str:
    """The src of a frameset's content frame (named main/content…, else the first that is no
    banner or menu, else the last), or "" when the page has no frames."""
    frames = [(node.attrs.get("src", "").strip(), node) for node in tree.nodes if node.tag == "frame"]
    frames = [(src, node) for src, node in frames if src and not src.lower().startswith(("javascript:", "about:"))]
    if not frames:
        return ""
    for src, node in frames:
        if _MAIN_FRAME.search(node.attrs.get("name", "") + " " + node.attrs.get("id", "")):
            return src
    plain = [src for src, node in frames if not _SIDE_FRAME.search(node.attrs.get("name", "") + " " + src)]
    return plain[0] if plain else frames[-1][0]


def _refresh_target(tree: Tree) -> str:
    """The URL of a `<meta http-equiv="refresh" content="0; url=…">` firing within seconds, or ""."""
    match = _REFRESH.match(tree.meta.get("refresh", ""))
    if match is None or not match.group(2) or int(match.group(1)) > MAX_REFRESH_SECONDS:
        return ""
    return match.group(2)


def _script_target(tree: Tree) -> str:
    """The URL an unconditional script redirect on load goes to (`location.href = 'http:/' + '/' + …`)."""
    handlers = [node.attrs.get("onload", "") for node in tree.nodes if node.tag in ("body", "frameset")]
    for script in [*tree.scripts, *handlers]:
        for pattern in _SCRIPT_REDIRECTS:
            for match in pattern.finditer(script):
                before = script[: match.start()]
                if _CONDITIONAL.search(before) and not _ON_LOAD.search(before):
                    continue
                target = "".join(a or b for a, b in _LITERAL.findall(match.group(1))).strip()
                if target and not target.lower().startswith(("javascript:", "#")):
                    return target
    return ""


def _splash_entry(tree: Tree) -> str:
    """The entry link of a splash page: one saying 进入 / enter (in its text, title or picture), or
    the only link of a page that is nothing but a picture. "返回首页" on an error page is no entry."""
    links = [index for index, node in enumerate(tree.nodes) if node.tag == "a" and node.attrs.get("href", "").strip()]
    if not links or len(links) > MAX_SPLASH_LINKS:
        return ""
    entries = [index for index in links if _ENTRY.search(_link_words(tree, index))]
    if entries:
        return tree.attr(entries[0], "href").strip()
    hrefs = {tree.attr(index, "href").strip() for index in links}
    pictured = any(tree.nodes[inner].tag == "img" for inner in range(links[0], tree.nodes[links[0]].end + 1))
    bare = len("".join(tree.page_text.split())) < PICTURE_ONLY_CHARS
    return hrefs.pop() if len(hrefs) == 1 and pictured and bare else ""


def _link_words(tree: Tree, index: int) -> str:
    """A link's text, title and image alt/src: what says "enter"."""
    words = [tree.text_of(index), tree.attr(index, "title")]
    for inner in range(index + 1, tree.nodes[index].end + 1):
        node = tree.nodes[inner]
        if node.tag == "img":
            words += [node.attrs.get("alt", ""), node.attrs.get("src", "")]
    return " ".join(words)


def _is_app_shell(tree: Tree, shown: str) -> bool:
    """An empty page a script fills: a framework root and next to no text, or mostly `{{…}}`."""
    templated = sum(len(match) for match in _TEMPLATE.findall(shown))
    if shown and templated >= APP_TEMPLATE_SHARE * len(shown):
        return True
    if len(shown) >= SMALL_TEXT_CHARS or not tree.scripts:
        return False
    return any(
        node.attrs.get("id", "") in _APP_ROOT_IDS or any(name in node.attrs for name in _APP_ATTRIBUTES)
        for node in tree.nodes
    )
