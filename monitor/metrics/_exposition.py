"""The Prometheus text format of a registry, byte for byte what `generate_latest` writes, faster.

With 10,000 pages /metrics holds ~270,000 samples; `generate_latest` validates and escapes every
label name of every sample again and took ~2.6 s a scrape. Here each distinct label set is
formatted once per scrape (a page's labels recur in ~25 families). Only plain gauge and counter
families take this path; anything else (histograms, timestamps, odd names) goes to
`generate_latest` unchanged. Private to `monitor.metrics`; no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from prometheus_client.exposition import generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.openmetrics.exposition import escape_label_name
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

_LEGACY_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_FAST_TYPES = {"gauge": "", "counter": "_total"}
"""Family types written here, with the suffix the text format adds to the family name."""


class _One(Collector):
    """A registry of one family, to hand the families we do not format to `generate_latest`."""

    def __init__(self, family: Metric) -> None:
        self._family = family

    def collect(self) -> Iterable[Metric]:
        return [self._family]


class LabelText:
    """Text already formatted in this scrape: label sets, single labels and values all recur
    (a page's site/page/kind in ~25 families, values 0, 1 and shared timestamps)."""

    def __init__(self) -> None:
        self.sets: dict[tuple[tuple[str, str], ...], str] = {}
        self.pairs: dict[tuple[str, str], str] = {}
        self.values: dict[float | str, str] = {}

    def label_text(self, pairs: tuple[tuple[str, str], ...]) -> str:
        text = self.sets.get(pairs)
        if text is None:
            text = self.sets[pairs] = "{" + ",".join(self._pair(p) for p in sorted(pairs)) + "}" if pairs else ""
        return text

    def labels(self, names: tuple[str, ...], values: tuple[str, ...]) -> str:
        """`{a="…",b="…"}` for label names and their values (sorted by name, as prometheus_client does)."""
        return self.label_text(tuple(zip(names, values, strict=True)))

    @staticmethod
    def doc(text: str) -> str:
        """A HELP text, escaped as the text format wants."""
        return text.replace("\\", r"\\").replace("\n", r"\n")

    @staticmethod
    def braced(pairs: tuple[str, ...], order: tuple[int, ...]) -> str:
        """`{…}` of formatted pairs in `order` (their label names' sorted order)."""
        return "{" + ",".join([pairs[i] for i in order]) + "}"

    def pair(self, name: str, value: str) -> str:
        """`name="value"`, escaped, formatted once per scrape."""
        return self._pair((name, value))

    def _pair(self, pair: tuple[str, str]) -> str:
        text = self.pairs.get(pair)
        if text is None:
            text = self.pairs[pair] = f'{escape_label_name(pair[0])}="{_escape(pair[1])}"'
        return text

    def value_text(self, value: float) -> str:
        # 0.0 == -0.0 but they print differently: zeros are keyed by their text.
        key: float | str = value if value != 0 else repr(float(value))
        text = self.values.get(key)
        if text is None:
            text = self.values[key] = floatToGoString(value)  # type: ignore[no-untyped-call]
        return text


def exposition(registry: Collector) -> bytes:
    """`generate_latest(registry)`, with the label sets and values of one scrape formatted once each."""
    cache = LabelText()
    # Encoded family by family: 270,000 line strings alive at once doubled the scrape's memory peak.
    out: list[bytes] = []
    for family in registry.collect():
        out.append(_family_text(family, cache).encode("utf-8") if _fast(family) else generate_latest(_One(family)))
    return b"".join(out)


def _fast(family: Metric) -> bool:
    suffix = _FAST_TYPES.get(family.type)
    if suffix is None or not _LEGACY_NAME.match(family.name):
        return False
    name = family.name + suffix
    return all(s.name == name and s.timestamp is None for s in family.samples)


def _family_text(family: Metric, cache: LabelText) -> str:
    name = family.name + _FAST_TYPES[family.type]
    doc = LabelText.doc(family.documentation)
    lines = [f"# HELP {name} {doc}\n# TYPE {name} {family.type}\n"]
    for sample in family.samples:
        labels = cache.label_text(tuple(sample.labels.items()))
        lines.append(f"{name}{labels} {cache.value_text(sample.value)}\n")
    return "".join(lines)


def _escape(value: str) -> str:
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")
