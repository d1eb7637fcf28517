"""Which CSS declarations hide an element from people, and which `<style>` rules carry them.

A deliberately small reader: inline `style` attributes and top-level rules of `<style>` blocks.
Rules inside at-rules (@media, @supports…) are skipped: responsive menus hidden on one screen size
are ordinary design, not 暗链. Pure, bounded by `MAX_RULES` and `MAX_STYLE_CHARS`; never raises.
"""

from __future__ import annotations

import re

MAX_STYLE_CHARS = 4_000
"""Longest inline style attribute read (hostile pages may carry megabyte attributes)."""

MAX_SHEET_CHARS = 400_000
"""Longest `<style>` block read."""

MAX_RULES = 2_000
"""Most top-level rules read from one page's style blocks."""

FAR_PX = 500.0
"""An offset at least this far (pixels) off the top/left edge puts content off-screen."""

COMMON_TECHNIQUES = frozenset({"display_none", "visibility_hidden", "hidden_attribute"})
"""How tab panels, menus and dropdowns hide; every other technique is mostly a spammer's."""

TECHNIQUE_PROPERTIES = {
    "display_none": ("display",),
    "visibility_hidden": ("visibility",),
    "font_size_zero": ("font-size",),
    "zero_height_overflow": ("height", "line-height", "max-height", "overflow"),
    "opacity_zero": ("opacity",),
    "text_indent": ("text-indent",),
    "off_screen": ("position", "left", "top"),
    "z_index_below": ("z-index", "position"),
    "color_as_background": ("color", "background", "background-color"),
}
"""Properties each technique relies on: an inline style setting one of them overrides a `<style>` rule."""

_HIDING_PROPERTIES = frozenset(
    {"display", "visibility", "font-size", "overflow", "overflow-y", "opacity", "text-indent", "position", "color"}
)
"""A declaration block without any of these cannot hide anything (the fast path for most styles)."""

_NAMED_COLOURS = {"white": "ffffff", "black": "000000", "red": "ff0000", "transparent": "transparent"}
_UNIT_PX = {"px": 1.0, "pt": 4 / 3, "em": 16.0, "rem": 16.0, "": 1.0}
_LENGTH = re.compile(r"^\s*(-?\d*\.?\d+)\s*(px|pt|em|rem|%)?\s*(?:!important)?\s*$")
_RGB = re.compile(r"rgba?\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)")
HIDING_WORDS = ("none", "hidden", "collapse", "font-size", "opacity", "indent", "absolute", "fixed", "color")
"""A style without one of these words cannot hide anything (most inline styles)."""

MIGHT_HIDE_SELECTOR = ", ".join(f'[style*="{word}" i]' for word in HIDING_WORDS)
"""The first look as a selector, so lexbor skips the other styled elements itself."""

_MIGHT_HIDE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*(?:hidden|collapse)|font-size\s*:\s*0|opacity\s*:\s*0"
    r"|text-indent\s*:\s*-|position\s*:\s*(?:absolute|fixed)|overflow(?:-y)?\s*:\s*hidden|background",
    re.IGNORECASE,
)
"""The second look, on the text: one of the declarations a technique needs (colour-as-background
needs a background)."""
_BRACE = re.compile(r"[{}]")
_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)


def might_hide(style: str) -> bool:
    """A cheap first look: False when the style cannot hide anything (most inline styles)."""
    return _MIGHT_HIDE.search(style) is not None


def declarations(style: str) -> dict[str, str]:
    """`a:b; c:d` -> {"a": "b", "c": "d"}, names and values lower-case, last one wins."""
    result: dict[str, str] = {}
    for part in style[:MAX_STYLE_CHARS].split(";"):
        name, colon, value = part.partition(":")
        if colon:
            result[name.strip().lower()] = value.replace("!important", "").strip().lower()
    return result


def hiding_technique(decls: dict[str, str]) -> str | None:
    """The name of the first way these declarations hide content from a person, or None."""
    if not decls:
        return None
    if not _HIDING_PROPERTIES.intersection(decls):
        return None
    if decls.get("display") == "none":
        return "display_none"
    if decls.get("visibility") in ("hidden", "collapse"):
        return "visibility_hidden"
    if _is_zero(decls.get("font-size")):
        return "font_size_zero"
    if _collapsed_box(decls):
        return "zero_height_overflow"
    if _is_zero(decls.get("opacity")):
        return "opacity_zero"
    if _far_negative(decls.get("text-indent")):
        return "text_indent"
    return _positioned_away(decls) or ("color_as_background" if _same_colour(decls) else None)


def _positioned_away(decls: dict[str, str]) -> str | None:
    if decls.get("position") not in ("absolute", "fixed"):
        return None
    if _off_screen(decls):
        return "off_screen"
    return "z_index_below" if _below_page(decls) else None


def overridden(technique: str, inline: dict[str, str]) -> bool:
    """True when an element's inline style sets a property the rule's technique relies on."""
    return any(name in inline for name in TECHNIQUE_PROPERTIES.get(technique, ()))


def hidden_rules(sheet: str) -> list[tuple[str, str]]:
    """(selector, technique) for each top-level rule of a style block that hides what it matches."""
    rules: list[tuple[str, str]] = []
    if not might_hide(sheet):
        return rules
    for selectors, body in _top_level_rules(_COMMENT.sub(" ", sheet[:MAX_SHEET_CHARS])):
        technique = hiding_technique(declarations(body)) if might_hide(body) else None
        if technique is not None:
            rules.extend((selector.strip(), technique) for selector in selectors.split(",") if selector.strip())
    return rules


def _top_level_rules(sheet: str) -> list[tuple[str, str]]:
    """`sel { body }` pairs at brace depth 0, in one pass over the braces; at-rule blocks are stepped over."""
    rules: list[tuple[str, str]] = []
    depth, head_start, body_start, head = 0, 0, 0, ""
    for brace in _BRACE.finditer(sheet):
        if brace.group() == "{":
            if depth == 0:
                head, body_start = sheet[head_start : brace.start()].strip(), brace.end()
            depth += 1
        elif depth > 0:
            depth -= 1
            if depth == 0:
                if not head.startswith("@"):
                    rules.append((head.rsplit(";", 1)[-1], sheet[body_start : brace.start()]))
                    if len(rules) >= MAX_RULES:
                        break
                head_start = brace.end()
        else:
            head_start = brace.end()  # a stray closing brace
    return rules


def _px(value: str | None) -> float | None:
    if not value:
        return None
    match = _LENGTH.match(value)
    if match is None or match.group(2) == "%":
        return None
    return float(match.group(1)) * _UNIT_PX[match.group(2) or ""]


def _is_zero(value: str | None) -> bool:
    match = _LENGTH.match(value or "")
    return match is not None and float(match.group(1)) == 0.0


def _far_negative(value: str | None) -> bool:
    px = _px(value)
    return px is not None and px <= -FAR_PX


def _collapsed_box(decls: dict[str, str]) -> bool:
    if decls.get("overflow") != "hidden" and decls.get("overflow-y") != "hidden":
        return False
    return any(_is_zero(decls.get(name)) for name in ("height", "line-height", "max-height", "width"))


def _off_screen(decls: dict[str, str]) -> bool:
    if decls.get("position") not in ("absolute", "fixed"):
        return False
    return any(_far_negative(decls.get(side)) for side in ("left", "top", "right", "margin-left", "margin-top"))


def _below_page(decls: dict[str, str]) -> bool:
    z_index = decls.get("z-index", "")
    return decls.get("position") in ("absolute", "fixed") and z_index.lstrip("-").isdigit() and int(z_index) < 0


def _same_colour(decls: dict[str, str]) -> bool:
    colour = _colour(decls.get("color"))
    background = _colour(decls.get("background-color") or decls.get("background"))
    return colour is not None and colour == background and colour != "transparent"


def _colour(value: str | None) -> str | None:
    """A colour as six hex digits, or None when the value is not one simple colour."""
    if not value:
        return None
    value = value.strip()
    if value in _NAMED_COLOURS:
        return _NAMED_COLOURS[value]
    rgb = _RGB.match(value)
    if rgb:
        return "".join(f"{min(int(part), 255):02x}" for part in rgb.groups())
    if re.fullmatch(r"#[0-9a-f]{6}", value):
        return value[1:]
    if re.fullmatch(r"#[0-9a-f]{3}", value):
        return "".join(char * 2 for char in value[1:])
    return None
