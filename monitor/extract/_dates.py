"""Date reading for the extractor: displayed dates, year inference, dates in URLs and JSON values.

Pure helpers on strings; no HTML here. A displayed date is read only from short "date-like" text
(a date plus brackets, a label or a time), so years inside titles (2025年第101号, 2021-2025年) are
never taken for publish dates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

FUTURE_TOLERANCE = timedelta(days=2)
"""Dates later than `today` by more than this are typos or templates, not publish dates."""

EARLIEST_YEAR = 1990
"""No Chinese government portal published anything before this year."""

SHORT_DATE_URL_WINDOW = timedelta(days=62)
"""How much later than its URL date a yearless date (month-day) may be and still take its year."""

_FULLWIDTH = str.maketrans("０１２３４５６７８９－／．：", "0123456789-/.:")
_FULLWIDTH_DIGIT = re.compile("[０-９]")

_FULL_DATE = re.compile(
    r"(?<!\d)((?:19|20)\d\d)\s*([-/.])\s*(\d{1,2})\s*\2\s*(\d{1,2})(?!\d)"
    r"|(?<!\d)((?:19|20)\d\d)\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"
)
_SHORT_DATE = re.compile(
    # Numeric month-days only zero-padded (12-24, 01-07, 03.16): `1/7` is a pager, `3-5` a range.
    r"(?<![\d\-/.年])(\d{2})\s*([-/.])\s*(\d{2})(?![\d\-/.%])"
    r"|(?<![\d年])(\d{1,2})\s*月\s*(\d{1,2})\s*日"
)
_TIME_OF_DAY = re.compile(r"\d{1,2}\s*[:：时]\s*\d{1,2}(?:\s*[:：分]\s*\d{1,2}(?:\.\d+)?)?\s*秒?")
_NOT_LABEL = re.compile(r"[\s\W_]+")
_DATE_LABEL = re.compile(
    r"(?:发布|公布|公开|公示|发表|更新|成文|发文|印发|上传|录入|创建|提交|留言|回复|答复|受理|办结|"
    r"日期|时间|于|日|为|date|time|pubdate)*",
    re.IGNORECASE,
)
_WEEKDAY = re.compile(r"星期|礼拜|周[一二三四五六日天]")

_URL_DATES: tuple[re.Pattern[str], ...] = (
    # TRS: t20181224_123.html, /202204/t20220426_…
    re.compile(r"(?<![0-9a-z])t((?:19|20)\d\d)(\d\d)(\d\d)_\d+"),
    # Hanweb and others: /art/2018/12/24/art_…, /art/2024/1/3/, /2018-12/24/
    re.compile(r"/((?:19|20)\d\d)[/-](\d{1,2})[/-](\d{1,2})/"),
    # 17-digit timestamps (20251014104752137.html) and plain 8-digit dates in a path segment
    re.compile(r"/((?:19|20)\d\d)(\d\d)(\d\d)(?:\d{6,9})?(?:[_.][^/]*)?$"),
    # DATE_20221110 and similar labelled folders
    re.compile(r"(?i)date_((?:19|20)\d\d)(\d\d)(\d\d)(?!\d)"),
)

_OPENERS = " \t([【"
_CLOSERS = ")]】"
"""Brackets that set a date off a title. Full-width （） belong to titles: 会议纪要（2018年12月24日）."""
_SPLIT_DAY_FIRST = re.compile(r"^(\d{1,2})日?\s+((?:19|20)\d\d)\s*[-/.年]\s*(\d{1,2})月?$")
_SPLIT_YEAR_MONTH_FIRST = re.compile(
    r"^((?:19|20)\d\d)\s*(?:[-/.年]\s*|\s+)(\d{1,2})(?:月\s*|\s*[-/.]\s*|\s+)(\d{1,2})日?$"
)
_SPLIT_YEAR_LAST = re.compile(r"^(\d{1,2})\s*[-/.月]\s*(\d{1,2})日?\s+((?:19|20)\d\d)年?$")
_URL_MONTH = re.compile(r"/((?:19|20)\d\d)(0[1-9]|1[0-2])/")
_ISO_LIKE = re.compile(r"^\s*((?:19|20)\d\d)[-/.年](\d{1,2})[-/.月](\d{1,2})")
_EPOCH_SECONDS = (631_152_000, 4_102_444_800)
"""1990-01-01 .. 2100-01-01: an integer in this range is read as Unix seconds."""


@dataclass(frozen=True)
class FoundDate:
    """A date read from text: the value, whether its year was inferred, and where it sat."""

    value: date
    yearless: bool
    start: int
    end: int


def normalise_digits(text: str) -> str:
    """Full-width digits and separators to ASCII, keeping every character's position."""
    return text.translate(_FULLWIDTH) if _FULLWIDTH_DIGIT.search(text) else text


def make_date(year: int, month: int, day: int) -> date | None:
    """A real calendar date no earlier than EARLIEST_YEAR, or None."""
    if year < EARLIEST_YEAR:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def infer_year(month: int, day: int, today: date | None, hint: date | None = None) -> date | None:
    """The date of a yearless `MM-DD`: the latest one not long after a hint (the date in the item's
    URL), else the latest one not after today.

    A URL is written when a document is (re)published, so the shown date is at most a little
    later than it, usually earlier. Without a hint, a month-day later than today belongs to last
    year, which is what makes `12-28` read on 5 January land in the previous December. Without
    either, there is no year.
    """
    if hint is not None:
        candidates = [make_date(year, month, day) for year in (hint.year + 1, hint.year, hint.year - 1)]
        fitting = [c for c in candidates if c is not None and c - hint <= SHORT_DATE_URL_WINDOW]
        if fitting and not (today is not None and is_future(max(fitting), today)):
            return max(fitting)
    if today is None:
        return None
    for year in (today.year, today.year - 1):
        candidate = make_date(year, month, day)
        if candidate and not is_future(candidate, today):
            return candidate
    return None


def find_full_dates(text: str) -> list[FoundDate]:
    """Every complete (year-month-day) date in `text`, in order."""
    found = []
    for match in _FULL_DATE.finditer(normalise_digits(text)):
        groups = match.groups()
        year, month, day = (groups[0], groups[2], groups[3]) if groups[0] else groups[4:7]
        value = make_date(int(year), int(month), int(day))
        if value:
            found.append(FoundDate(value, False, match.start(), match.end()))
    return found


def find_short_date(text: str, today: date | None, hint: date | None) -> FoundDate | None:
    """The first yearless date (`12-24`, `12/24`, `12.24`, `12月24日`) in `text`, its year inferred."""
    for match in _SHORT_DATE.finditer(normalise_digits(text)):
        groups = match.groups()
        month, day = (groups[0], groups[2]) if groups[0] else (groups[3], groups[4])
        value = infer_year(int(month), int(day), today, hint)
        if value:
            return FoundDate(value, True, match.start(), match.end())
    return None


def date_like(text: str, today: date | None, hint: date | None = None) -> FoundDate | None:
    """The date of a short text that is essentially a date, else None.

    Accepts `2018-12-24`, `[2018-12-24]`, `(2018/12/24)`, `2018年12月24日`, `发布时间：2018.12.24 10:30`,
    `12-24`; rejects titles that merely contain a date and "today is …" header widgets.
    """
    if len(text) > 60 or _WEEKDAY.search(text):
        return None
    full = find_full_dates(text)
    found = full[0] if len(full) == 1 else None
    if found is None and not full:
        found = find_short_date(text, today, hint)
    if found is None:
        return None
    rest = text[: found.start] + " " + _TIME_OF_DAY.sub(" ", text[found.end :])
    return found if _DATE_LABEL.fullmatch(_NOT_LABEL.sub("", rest)) else None


def edge_date(text: str) -> FoundDate | None:
    """A complete date opening or closing a longer text (`标题 2018-12-24`, `[2018-12-24] 标题`), else None.

    The date must be set off from the rest by a space or bracket, so `2021-2025年规划` and titles
    that merely mention a day inside a phrase are not read as dated.
    """
    full = find_full_dates(text)
    if not full:
        return None
    last = full[-1]
    before = text[: last.start].rstrip()
    after = _TIME_OF_DAY.sub("", text[last.end :])
    if before and not _NOT_LABEL.sub("", after) and (before[-1] in _OPENERS or text[last.start - 1].isspace()):
        return last
    first = full[0]
    rest = _TIME_OF_DAY.sub("", text[first.end :], count=1)
    if first.start == 0 or not _NOT_LABEL.sub("", text[: first.start]):
        stripped = rest.lstrip()
        if stripped and (rest[:1].isspace() or rest[:1] in _CLOSERS):
            return first
    return None


def split_date(text: str) -> date | None:
    """A date whose parts sit in separate elements of a badge: `24 2018-12`, `2018-12 24`, `12-24 2018`."""
    match = _SPLIT_DAY_FIRST.match(text)
    if match:
        return make_date(int(match.group(2)), int(match.group(3)), int(match.group(1)))
    match = _SPLIT_YEAR_MONTH_FIRST.match(text)
    if match:
        return make_date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    match = _SPLIT_YEAR_LAST.match(text)
    if match:
        return make_date(int(match.group(3)), int(match.group(1)), int(match.group(2)))
    return None


def url_month(url: str) -> date | None:
    """The last day of the month a URL's dated folder names (`/202205/2032457.shtml`), for year hints."""
    match = _URL_MONTH.search(url.split("?", 1)[0])
    if match is None:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    following = make_date(year + month // 12, month % 12 + 1, 1)
    return following - timedelta(days=1) if following else None


def url_hint(url: str) -> date | None:
    """The date a URL says about its document, to its day or to its month (for year inference)."""
    return url_date(url) or url_month(url)


def url_date(url: str) -> date | None:
    """The date a CMS wrote into a document URL (TRS t20181224_…, /art/2018/12/24/, timestamps)."""
    path = url.split("?", 1)[0].split("#", 1)[0]
    for pattern in _URL_DATES:
        match = pattern.search(path)
        if match:
            value = make_date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
            if value:
                return value
    return None


def parse_value_date(value: object) -> date | None:
    """A date from a JSON value: "YYYY-MM-DD[ HH:MM:SS]" strings, Unix seconds or milliseconds."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        stripped = value.strip()
        if stripped.isdigit():
            return parse_value_date(int(stripped))
        match = _ISO_LIKE.match(normalise_digits(stripped))
        return make_date(int(match.group(1)), int(match.group(2)), int(match.group(3))) if match else None
    if isinstance(value, int | float):
        seconds = float(value)
        if seconds > _EPOCH_SECONDS[1]:
            seconds /= 1000.0
        if _EPOCH_SECONDS[0] <= seconds < _EPOCH_SECONDS[1]:
            # Portals publish on Beijing time; a midnight post must not slip to the previous day.
            return (datetime.fromtimestamp(seconds, UTC) + timedelta(hours=8)).date()
    return None


def is_future(value: date, today: date | None) -> bool:
    """True when `value` lies beyond today (with a small tolerance for time zones); never without a today."""
    return today is not None and value - today > FUTURE_TOLERANCE
