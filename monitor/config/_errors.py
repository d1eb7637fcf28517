"""The one exception of the config package: every problem, one line each, with its key path."""

from __future__ import annotations


class ConfigError(Exception):
    """The configuration cannot be used; `problems` are one line each, prefixed by the key path."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))
