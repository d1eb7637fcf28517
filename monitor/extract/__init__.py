"""Bytes or text of one page -> Extraction: decode, document tree, dates, links, lists, data lists,
articles, catalogues, paging, selectors. Pure: no network, no database, no clock.
See docs/architecture.md.
"""

from monitor.extract._antibot import CHALLENGE_MAX_BYTES, challenge_vendor, visible_text_bytes
from monitor.extract._decode import decode
from monitor.extract._extract import extract, extract_document
from monitor.extract._notfound import body_mentions_not_found, title_says_not_found

__all__ = [
    "CHALLENGE_MAX_BYTES",
    "body_mentions_not_found",
    "challenge_vendor",
    "decode",
    "extract",
    "extract_document",
    "title_says_not_found",
    "visible_text_bytes",
]
