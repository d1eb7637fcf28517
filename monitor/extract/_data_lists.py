"""List data that is not plain HTML: JSON list APIs, JSON arrays in page scripts, Hanweb <datastore>.

JSON (TRS/gkmlpt style) becomes items directly; a Hanweb `<script type="text/xml"><datastore>`
block (or a bare datastore XML answer) is unwrapped into ordinary HTML so the list reader sees
its records. Pure, no I/O.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from monitor.extract._dates import is_future, parse_value_date
from monitor.extract._links import resolve
from monitor.extract._tree import collapse
from monitor.models import Item
from monitor.text import without_lone_surrogates

MAX_JSON_DEPTH = 6
"""How deep inside a JSON document a list of records is looked for."""

MAX_SCRIPT_JSON_CHARS = 2_000_000
"""Scripts longer than this are libraries, not inlined list data."""

_DATASTORE = re.compile(
    r"<script\b[^>]*>\s*(<datastore\b.*?</datastore>)\s*</script>|(<datastore\b.*?</datastore>)",
    re.IGNORECASE | re.DOTALL,
)
_TOTAL_PAGES = re.compile(r"<totalpage>\s*(\d+)\s*</totalpage>", re.IGNORECASE)
_JS_LITERAL_START = re.compile(r"[=:(]\s*(?=[\[{])")
_CDATA_RECORD = re.compile(r"<record\b[^>]*>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.IGNORECASE | re.DOTALL)
_JSONP = re.compile(r"^\s*[\w.$]+\s*\(\s*(.*?)\s*\)\s*;?\s*$", re.DOTALL)
_DATE_KEY_RANKS: tuple[re.Pattern[str], ...] = (
    re.compile(r"pub|publish|release|fbsj|fbrq|fabu"),
    re.compile(r"reltime|docdate|^date$|^time$|_date$|date_|^rq$"),
    re.compile(r"creat|ctime|addtime|inputtime|writetime"),
)
_NOT_PUBLISH_KEY = re.compile(r"modif|updat|effect|efect|abol|expir|end|start|valid|cwrq|fwrq|birth|deadline")
_TITLE_KEY = re.compile(r"title|^name$|filename|subject|^bt$|wjbt|doctitle|headline")
_URL_KEY = re.compile(r"url|link|href|path")


def unwrap_datastore(html: str) -> tuple[str, int | None]:
    """HTML with each Hanweb <datastore> replaced by its CDATA records as plain markup, and the
    datastore's <totalpage> when it states one."""
    if "<datastore" not in html.lower():
        return html, None
    total = _TOTAL_PAGES.search(html)

    def records(match: re.Match[str]) -> str:
        store = match.group(1) or match.group(2)
        return "<div>" + "".join(_CDATA_RECORD.findall(store)) + "</div>"

    return _DATASTORE.sub(records, html), int(total.group(1)) if total else None


def parse_json(text: str) -> Any:
    """The JSON value of a JSON or JSONP document, or None when the text is not JSON."""
    stripped = text.strip()
    if not stripped or stripped[0] not in "[{":
        match = _JSONP.match(stripped)
        if not match or match.group(1)[:1] not in ("[", "{"):
            return None
        stripped = match.group(1)
    try:
        return _whole_strings(json.loads(stripped))
    except (ValueError, RecursionError):
        return None


def json_items(document: Any, base_url: str, today: date | None) -> list[Item]:
    """Items of the largest dated array of records anywhere in a JSON document."""
    best: list[Item] = []
    for records in _record_arrays(document, 0):
        items = [item for record in records if (item := _json_item(record, base_url, today)) is not None]
        if len(items) > len(best):
            best = items
    return best


def script_items(scripts: list[str], base_url: str, today: date | None) -> list[Item]:
    """Items of the largest dated JSON array inlined in the page scripts (`var list = [{…}]`).

    Pages rendered in the browser often ship their first page of data this way.
    """
    best: list[Item] = []
    for script in scripts:
        if len(script) > MAX_SCRIPT_JSON_CHARS or "[" not in script:
            continue
        for literal in _json_literals(script):
            items = json_items(literal, base_url, today)
            if len(items) > len(best):
                best = items
    return best


def _json_literals(script: str) -> list[Any]:
    """Strict-JSON object/array literals assigned or passed in a script."""
    decoder = json.JSONDecoder()
    found = []
    for match in _JS_LITERAL_START.finditer(script):
        try:
            value, _ = decoder.raw_decode(script, match.end())
        except (ValueError, RecursionError):
            continue
        if isinstance(value, list | dict):
            found.append(_whole_strings(value))
    return found


def _whole_strings(value: Any) -> Any:
    """The decoded JSON value with every lone surrogate (`"\\ud83d"`, an emoji cut in half by a
    backend) replaced by U+FFFD, in place: such a str cannot be encoded, and every use of a title or
    URL downstream (hashing, SQLite, printing) encodes it. Valid pairs were already joined by json."""
    if isinstance(value, str):
        return without_lone_surrogates(value)
    pending = [value]
    while pending:
        node = pending.pop()
        pairs = list(node.items()) if isinstance(node, dict) else list(enumerate(node))
        for key, child in pairs:
            if isinstance(child, str):
                node[key] = without_lone_surrogates(child)
            elif isinstance(child, list | dict):
                pending.append(child)
            if isinstance(key, str) and without_lone_surrogates(key) != key:
                node[without_lone_surrogates(key)] = node.pop(key)
    return value


def _record_arrays(value: Any, depth: int) -> list[list[dict[str, Any]]]:
    """Every array of objects inside a JSON value, outermost first."""
    if depth > MAX_JSON_DEPTH:
        return []
    found: list[list[dict[str, Any]]] = []
    if isinstance(value, list):
        objects = [element for element in value if isinstance(element, dict)]
        if objects:
            found.append(objects)
        children: list[Any] = value
    elif isinstance(value, dict):
        children = list(value.values())
    else:
        return []
    for child in children:
        if isinstance(child, list | dict):
            found += _record_arrays(child, depth + 1)
    return found


def _json_item(record: dict[str, Any], base_url: str, today: date | None) -> Item | None:
    """One JSON record as an Item, when it has a title, a link and a publish date."""
    published = _record_date(record)
    title = _record_title(record)
    url = _record_url(record)
    if published is None or not title or not url or is_future(published, today):
        return None
    return Item(title, resolve(base_url, url), published)


def _record_date(record: dict[str, Any]) -> date | None:
    """The publish date of a record: the best-ranked date-like key that parses."""
    keys = [key for key in record if isinstance(key, str) and not _NOT_PUBLISH_KEY.search(key.lower())]
    for rank in _DATE_KEY_RANKS:
        for key in keys:
            if rank.search(key.lower()):
                value = parse_value_date(record[key])
                if value is not None:
                    return value
    return None


def _record_title(record: dict[str, Any]) -> str:
    """The record's title: a title-like key, else its longest plain text value."""
    strings = {key: collapse(value) for key, value in record.items() if isinstance(value, str)}
    for key, value in strings.items():
        if _TITLE_KEY.search(key.lower()) and value and not _looks_like_url(value):
            return value
    texts = [value for value in strings.values() if not _looks_like_url(value) and parse_value_date(value) is None]
    return max(texts, key=len, default="")


def _record_url(record: dict[str, Any]) -> str:
    """The record's link: a URL-like value under a url/link key, else any URL-like value."""
    strings = {key: value.strip() for key, value in record.items() if isinstance(value, str)}
    for key, value in strings.items():
        if _URL_KEY.search(key.lower()) and _looks_like_url(value):
            return value
    return next((value for value in strings.values() if _looks_like_url(value)), "")


def _looks_like_url(value: str) -> bool:
    return value.startswith(("http://", "https://", "/", "./", "../")) and " " not in value.strip()
