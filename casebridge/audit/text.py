"""How wide a chart label is, and where to break it, worked out on the server.

The report's charts are SVG drawn before any browser sees them, so a label cannot be measured
by the font that will show it. It is measured instead with the advance widths of DejaVu Sans
(``assets/text_widths.csv``, its source named there), a wide font, plus a margin: a label that
fits by these widths fits in the narrower fonts that browsers pick for ``system-ui``. A label
is never cut: a long one is wrapped onto more lines, at spaces, else after a slash or a dash,
else between any two characters.
"""

from __future__ import annotations

import csv
import re
from functools import cache
from pathlib import Path

WIDTHS_FILE = Path(__file__).parent / "assets" / "text_widths.csv"
# wider than any glyph of the measured font: a character it lacks is never underestimated
UNKNOWN_WIDTH = 1.0
# allowance for a font a little wider than the measured one, and for rounding in the browser
MARGIN = 1.06
# a word ends after a run of spaces, a slash or a dash; the separator stays with the word
WORD = re.compile(r".+?(?:[ /-]+|$)")


@cache
def _widths() -> dict[str, float]:
    """Each measured character's advance width, as a fraction of the font size."""
    with WIDTHS_FILE.open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(line for line in handle if not line.startswith("#"))
        return {chr(int(row["codepoint"])): int(row["width"]) / 1000 for row in rows}


def text_width(text: str, size: float = 12) -> float:
    """The width of ``text`` at font ``size`` (px), with a margin for wider fonts.

    Example:
        >>> round(text_width("Asian", 12))
        35
    """
    widths = _widths()
    return sum(widths.get(character, UNKNOWN_WIDTH) for character in text) * size * MARGIN


def wrap(text: str, width: float, size: float = 12) -> list[str]:
    """``text`` as lines no wider than ``width`` (a line is one character at the least).

    Every character is kept except the spaces where a line breaks.

    Example:
        >>> wrap("B1 Black/African/Caribbean/Black British - Caribbean", 150)
        ['B1 Black/African/', 'Caribbean/Black', 'British - Caribbean']
    """
    lines: list[str] = []
    current = ""
    for word in WORD.findall(text):
        if text_width((current + word).rstrip(), size) <= width:
            current += word
            continue
        if current.strip():
            lines.append(current.rstrip())
        current = ""
        while text_width(word.rstrip(), size) > width:
            piece = _longest_prefix(word, width, size)
            lines.append(piece)
            word = word[len(piece) :]
        current = word
    if current.strip() or not lines:
        lines.append(current.rstrip())
    return lines


def _longest_prefix(word: str, width: float, size: float) -> str:
    """The longest start of ``word`` that fits in ``width`` (one character at the least)."""
    end = 1
    while end < len(word) and text_width(word[: end + 1], size) <= width:
        end += 1
    return word[:end]


def widest(texts: list[str], size: float = 12) -> float:
    """The width of the widest of ``texts`` (0 for none)."""
    return max((text_width(text, size) for text in texts), default=0.0)
