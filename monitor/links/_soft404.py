"""Soft-404 verdicts: a "page not found" answered with 200, by its own signals or by its likeness to
the answer a surely-missing sibling URL gets on the same host. Pure; the probe request is the
checker's business. Never applied to a homepage (a portal's front page may say anything).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from monitor.extract import body_mentions_not_found, decode, title_says_not_found, visible_text_bytes

SHAPE_TOLERANCE = 0.1
"""Bodies within this share of each other's length (and with the same title) have the same shape."""

SHORT_PAGE_TEXT_BYTES = 3000
"""Body text signals count only on pages with less visible text than this (an error page is short)."""

_TITLE = re.compile(rb"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)
_HOMEPAGE_PATHS = frozenset({"/", "/index.html", "/index.htm", "/index.shtml", "/default.html", "/default.htm"})


@dataclass(frozen=True)
class Shape:
    """What a 200 answer looks like, for comparing a page with the surely-missing probe."""

    title: str
    length: int

    def like(self, other: Shape) -> bool:
        """Same title and lengths within SHAPE_TOLERANCE: the same page template, most likely."""
        longest = max(self.length, other.length, 1)
        return self.title == other.title and abs(self.length - other.length) / longest <= SHAPE_TOLERANCE


def shape_of(body: bytes, content_type: str | None) -> Shape:
    """The shape of a 200 answer: its title and its length."""
    return Shape(page_title(body, content_type), len(body))


def page_title(body: bytes, content_type: str | None) -> str:
    """The <title> of an HTML body, decoded, whitespace collapsed ("" when none)."""
    found = _TITLE.search(body, 0, 256 * 1024)
    return " ".join(decode(found.group(1), content_type).text.split()) if found else ""


def is_homepage(url: str) -> bool:
    """A site's front page (path `/` or `/index.html` and the like, no query)."""
    parts = urlsplit(url)
    return not parts.query and parts.path.lower() in _HOMEPAGE_PATHS


def says_not_found(body: bytes, content_type: str | None) -> bool:
    """True when the page's title, or the text of a short page, says the page does not exist."""
    if title_says_not_found(page_title(body, content_type)):
        return True
    # The phrase search is cheap and rarely matches; measuring the visible text is not, so it comes second.
    return body_mentions_not_found(body) and (visible_text_bytes(body) <= SHORT_PAGE_TEXT_BYTES)


def redirected_home(url: str, final_url: str | None) -> bool:
    """A deep link answered by a redirect to the front page: the usual way portals hide a 404."""
    return bool(final_url) and final_url != url and not is_homepage(url) and is_homepage(final_url or "")


def missing_sibling(url: str) -> str:
    """A URL in the same folder as `url` that surely does not exist (random name)."""
    parts = urlsplit(url)
    folder = parts.path[: parts.path.rfind("/") + 1] or "/"
    name = f"pm-surely-missing-{secrets.token_hex(8)}.html"
    return urlunsplit((parts.scheme, parts.netloc, folder + name, "", ""))
