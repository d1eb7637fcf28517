"""The read worker: started as `python -m monitor.check._readmain` by `monitor.check._readpool`.

Reads one request at a time from stdin — a JSON line with the page's read settings and the body's
length, then the raw body — and answers with one JSON line on stdout: the `Reading` of
`monitor.check.read_body`, or {"error": …}. Imports only what reading needs (no database layer),
so it starts fast. Never run by hand.
"""

from __future__ import annotations

import contextlib
import json
import signal
import sys
from datetime import date
from pathlib import Path
from typing import IO, Any

from monitor.check._pipeline import Inspector, Reading, read_body
from monitor.integrity import (
    Domains,
    Inspection,
    Vocabulary,
    VocabularyError,
    inspect_page,
    inspection_to_json,
    load_vocabulary,
)
from monitor.models import Page, PageKind, ProbeResult, Result

READY = {"ready": True}
"""The first line a worker writes, once it has imported the extractor."""


class Inspectors:
    """The worker's integrity engine: one Domains (the suffix list loads once) and each word list
    the daemon names (`inspect` in a request: a path, "" for the shipped list), loaded once."""

    def __init__(self) -> None:
        self._domains: Domains | None = None
        self._vocabularies: dict[str, Vocabulary | str] = {}

    def inspector(self, words: str) -> Inspector:
        """`inspect_page` bound to the domains and the word list; a list that will not load gives an
        Inspection with `error` set (the daemon validated it; a file changed since is data, not a crash)."""
        if self._domains is None:
            self._domains = Domains()
        domains = self._domains
        if words not in self._vocabularies:
            try:
                self._vocabularies[words] = load_vocabulary(Path(words) if words else None)
            except (OSError, VocabularyError) as exc:
                self._vocabularies[words] = f"word list {words}: {exc}"[:300]
        vocabulary = self._vocabularies[words]
        if isinstance(vocabulary, str):
            problem = vocabulary
            return lambda text, url: Inspection(url, error=problem)
        return lambda text, url: inspect_page(text, url, domains=domains, vocabulary=vocabulary)


def read_request(settings: dict[str, Any], body: bytes, inspectors: Inspectors | None = None) -> Reading:
    """The worker's side: `read_body` on a page and answer rebuilt from the request."""
    page = Page(
        "",
        "",
        settings["url"],
        PageKind(settings["kind"]),
        expect=settings["expect"],
        item_selector=settings["item_selector"],
        date_selector=settings["date_selector"],
    )
    probe = ProbeResult(
        settings["url"],
        0.0,
        Result.UP,
        final_url=settings["final_url"],
        content_type=settings["content_type"],
        body=body,
    )
    words = settings.get("inspect")
    inspector = inspectors.inspector(str(words)) if inspectors is not None and words is not None else None
    return read_body(page, probe, date.fromisoformat(settings["today"]), inspector)


def reading_to_json(reading: Reading) -> dict[str, Any]:
    problem = [reading.problem[0].value, reading.problem[1]] if reading.problem else None
    extraction = reading.extraction.to_json() if reading.extraction is not None else None
    inspection = inspection_to_json(reading.inspection) if reading.inspection is not None else None
    return {"problem": problem, "encoding": reading.encoding, "extraction": extraction, "inspection": inspection}


def send(stream: IO[bytes], header: dict[str, Any], body: bytes = b"") -> None:
    stream.write(json.dumps(header, ensure_ascii=True).encode() + b"\n")
    stream.write(body)
    stream.flush()


def receive(stream: IO[bytes] | None) -> dict[str, Any]:
    """One JSON line; EOFError when the other side is gone."""
    if stream is None:
        raise EOFError
    line = stream.readline()
    if not line:
        raise EOFError
    answer = json.loads(line)
    if not isinstance(answer, dict):
        raise ValueError("not a JSON object")
    return answer


def serve(requests: IO[bytes], replies: IO[bytes]) -> None:
    """The worker's loop: a JSON line and the body it announces in, one JSON line out."""
    send(replies, READY)
    inspectors = Inspectors()
    while True:
        try:
            settings = receive(requests)
        except EOFError:
            return
        body = requests.read(int(settings["length"]))
        try:
            answer = reading_to_json(read_request(settings, body, inspectors))
        except Exception as exc:  # reported to the parent: an error result
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        send(replies, answer)


def main() -> None:
    """Entry point of a worker: Ctrl-C is the parent's to handle; stdout carries only replies; when
    memory runs out (the unit's MemoryMax), the kernel kills a worker before the daemon."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(OSError):
        Path("/proc/self/oom_score_adj").write_text("1000")
    replies = sys.stdout.buffer
    sys.stdout = sys.stderr
    serve(sys.stdin.buffer, replies)
