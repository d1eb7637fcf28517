"""CPU of the integrity and identity checks against extraction of the same pages (a measurement, not a test).

Usage: python -m bench.integrity_cost [--pages DIR] [--rounds N] [--all]
A homepage check's CPU is fetch + decode + extract; fetching is I/O-bound and left out, so the
denominator is decode + extract of each page and the numerator is what integrity adds on the same
decoded text: `inspect_page` (hidden links, zero-width, identity, outside domains, snapshot) plus
`identity_findings` and `tag_findings`. Both are timed in the same run, interleaved page by page,
as process CPU time. By default only the corpus homepages are measured (`--all`: every HTML page).
"""

from __future__ import annotations

import argparse
import csv
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from bench._common import CORPUS, machine_facts
from monitor.extract import decode, extract
from monitor.integrity import Domains, TagProfile, identity_findings, inspect_page, load_vocabulary, tag_findings

TODAY = date(2026, 11, 27)


def pages(directory: Path, every: bool) -> list[tuple[str, str, bytes]]:
    """(file, page URL, body) of the homepages in the manifest (or every HTML page)."""
    manifest = directory.parent / "MANIFEST.tsv"
    rows: list[dict[str, str]] = []
    if manifest.exists():
        with manifest.open(encoding="utf-8") as lines:
            rows = list(csv.DictReader(lines, delimiter="\t"))
    kinds = {row["file"]: row["page_kind"] for row in rows}
    sites = {row["file"]: row["site"].split()[0].split("/")[0] for row in rows}
    chosen = []
    for path in sorted(directory.glob("*.html")):
        if every or kinds.get(path.name) == "homepage":
            chosen.append((path.name, f"http://{sites.get(path.name, 'www.example.gov.cn')}/", path.read_bytes()))
    return chosen


def cpu(work: Callable[[], object]) -> float:
    """Process CPU seconds one call takes."""
    started = time.process_time()
    work()
    return time.process_time() - started


def measure(chosen: list[tuple[str, str, bytes]], rounds: int) -> tuple[dict[str, float], dict[str, float]]:
    """Summed CPU per page: decode + extract, and integrity + identity, interleaved."""
    domains, vocabulary = Domains(), load_vocabulary()
    domains.registrable("warm.up.example.com")  # loads the suffix list once, as the daemon does at start
    extract_cpu = {name: 0.0 for name, _, _ in chosen}
    integrity_cpu = {name: 0.0 for name, _, _ in chosen}
    for _ in range(rounds):
        for name, url, body in chosen:
            text = decode(body).text

            def extraction(body: bytes = body, url: str = url) -> None:
                extract(decode(body).text, base_url=url, today=TODAY)

            def integrity(text: str = text, url: str = url) -> None:
                inspection = inspect_page(text, url, domains=domains, vocabulary=vocabulary)
                identity_findings(url, inspection.identity)
                tag_findings(url, inspection.identity, TagProfile.HOMEPAGE, host=url.split("/")[2])

            extract_cpu[name] += cpu(extraction)
            integrity_cpu[name] += cpu(integrity)
    return extract_cpu, integrity_cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=Path, default=CORPUS / "pages")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--all", action="store_true", help="every HTML page, not only homepages")
    args = parser.parse_args()
    chosen = pages(args.pages, args.all)
    if not chosen:
        raise SystemExit(f"no pages to measure under {args.pages}")
    extract_cpu, integrity_cpu = measure(chosen, args.rounds)
    print(" ".join(f"{key}={value}" for key, value in machine_facts().items()))
    print(f"{'page':<10}{'KB':>6}{'extract ms':>12}{'integrity ms':>14}{'ratio':>8}")
    for name, _, body in chosen:
        base, extra = extract_cpu[name] / args.rounds, integrity_cpu[name] / args.rounds
        ratio = extra / base if base else 0.0
        print(f"{name:<10}{len(body) / 1024:>6.0f}{base * 1000:>12.2f}{extra * 1000:>14.2f}{ratio:>8.0%}")
    total_base, total_extra = sum(extract_cpu.values()), sum(integrity_cpu.values())
    print(
        f"\n{len(chosen)} pages x {args.rounds} rounds: decode+extract {total_base * 1000 / args.rounds:.1f} ms, ",
        end="",
    )
    print(f"integrity+identity {total_extra * 1000 / args.rounds:.1f} ms per round")
    print(f"integrity+identity add {total_extra / total_base:.0%} to decode+extract (goal < 30%)")


if __name__ == "__main__":
    main()
