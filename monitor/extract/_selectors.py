"""Items picked by a site's configured CSS selectors (`item_selector` / `date_selector`).

For odd sites the automatic list finder cannot read: each element matching the item selector is
one item, its link the element itself or its first <a href>, its date the text of the date selector
inside it (or any date in the item). Pure, no I/O.
"""

from __future__ import annotations

from datetime import date

from selectolax.lexbor import LexborHTMLParser, LexborNode

from monitor.extract._dates import date_like, find_full_dates, is_future, url_date, url_hint
from monitor.extract._links import best_title, resolve, strip_edge_date
from monitor.extract._tree import collapse
from monitor.models import Item


def select_items(html: str, item_selector: str, date_selector: str | None, base: str, today: date | None) -> list[Item]:
    """Items of the elements matching `item_selector`, in page order; undated ones included.

    An invalid selector raises lexbor's ValueError (config validation should have caught it).
    """
    elements = LexborHTMLParser(html).css(item_selector)
    items = []
    for element in elements:
        item = _item(element, date_selector, base, today)
        if item is not None:
            items.append(item)
    return items


def _item(element: LexborNode, date_selector: str | None, base: str, today: date | None) -> Item | None:
    link = element if element.tag == "a" else element.css_first("a[href]")
    if link is None:
        return None
    href = (link.attributes.get("href") or "").strip()
    title = best_title(strip_edge_date(collapse(link.text(deep=True))), link.attributes.get("title") or "")
    if not href or not title:
        return None
    return Item(title, resolve(base, href), _item_date(element, date_selector, today, href))


def _item_date(element: LexborNode, date_selector: str | None, today: date | None, href: str) -> date | None:
    """The date shown in the date element (or anywhere in the item), else the date in the link."""
    scope = element.css_first(date_selector) if date_selector else element
    shown = _shown_date(collapse(scope.text(deep=True)), today, href) if scope is not None else None
    if shown is not None:
        return shown
    fallback = url_date(href)
    return fallback if fallback is not None and not is_future(fallback, today) else None


def _shown_date(text: str, today: date | None, href: str) -> date | None:
    """The item's shown date: a date-like text, else the last complete date in it."""
    found = date_like(text, today, hint=url_hint(href))
    if found is None:
        full = find_full_dates(text)
        found = full[-1] if full else None
    return found.value if found is not None and not is_future(found.value, today) else None
