"""The spam vocabulary (gambling, lottery, porn, loans) and matching it against text and hosts.

The shipped list is `words.txt` beside this module (documented in its header); an operator's file
of the same format replaces it. Pure: reading the file is the caller's one I/O, done once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path

DEFAULT_WORDS = "words.txt"
"""The packaged word list (monitor/integrity/words.txt)."""

_HEADER = re.compile(r"^\[([a-z_]+)\]$")


class VocabularyError(ValueError):
    """A word list file that cannot be read or has no words; the message is one line for the operator."""


@dataclass(frozen=True)
class Vocabulary:
    """Words by category; `match` says which word (and category) a text or host contains."""

    words: tuple[tuple[str, str], ...]
    """(category, word) pairs, words lower-case."""

    @cached_property
    def _ascii_patterns(self) -> dict[str, re.Pattern[str]]:
        """ASCII words match between non-letters only, so `bet` is not found in `alphabet`."""
        return {word: re.compile(f"(?<![a-z]){re.escape(word)}(?![a-z])") for _, word in self.words if word.isascii()}

    def match(self, *texts: str) -> tuple[str, str] | None:
        """The (category, word) found first in the first text that has one, or None.

        One substring search per word (C speed, unlike a Python regex alternation of a hundred
        words); the earliest hit in the text wins, the longer word on a tie.
        """
        for text in texts:
            found = self._earliest(text.lower()) if text else None
            if found is not None:
                return found
        return None

    def _earliest(self, text: str) -> tuple[str, str] | None:
        best: tuple[int, int, str, str] | None = None
        for category, word in self.words:
            position = text.find(word)
            if position < 0:
                continue
            if word in self._ascii_patterns:
                hit = self._ascii_patterns[word].search(text, position)
                if hit is None:
                    continue
                position = hit.start()
            if best is None or (position, -len(word)) < (best[0], best[1]):
                best = (position, -len(word), category, word)
        return (best[2], best[3]) if best else None


def parse_vocabulary(text: str, origin: str = "word list") -> Vocabulary:
    """Read the word-list format (`[category]` headers, one word a line, `#` comments)."""
    category = ""
    words: list[tuple[str, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        header = _HEADER.match(line)
        if header:
            category = header.group(1)
        elif not category:
            raise VocabularyError(f"{origin}:{number}: a word before any [category] header")
        else:
            words.append((category, line.lower()))
    if not words:
        raise VocabularyError(f"{origin}: no words")
    return Vocabulary(tuple(words))


def load_vocabulary(path: Path | None = None) -> Vocabulary:
    """The operator's word list at `path`, or the shipped one."""
    if path is None:
        text = resources.files(__package__ or "monitor.integrity").joinpath(DEFAULT_WORDS).read_text("utf-8")
        return parse_vocabulary(text, DEFAULT_WORDS)
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise VocabularyError(f"{path}: cannot read the word list ({error.__class__.__name__})") from error
    return parse_vocabulary(text, str(path))
