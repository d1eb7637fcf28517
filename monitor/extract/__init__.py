"""Bytes or text of one page -> Extraction: decode, document tree, dates, links, lists, data lists,
articles, catalogues, paging, selectors. Pure: no network, no database, no clock.
See docs/architecture.md.
"""

from monitor.extract._decode import decode
from monitor.extract._extract import extract, extract_document

__all__ = [
    "decode",
    "extract",
    "extract_document",
]
