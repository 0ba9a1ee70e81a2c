"""PT Sans / PT Serif (ParaType, made for Russian) registered with reportlab, embedded."""

from __future__ import annotations

from functools import cache, lru_cache

import fontpkg_pt_sans
import fontpkg_pt_serif
from reportlab import rl_config
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

SANS, SANS_BOLD, SERIF_BOLD = "PTSans", "PTSans-Bold", "PTSerif-Bold"


@cache
def register() -> None:
    """Register the fonts once per process."""
    files = {
        SANS: fontpkg_pt_sans.ROOT / "files" / "PT_Sans-Web-Regular.ttf",
        SANS_BOLD: fontpkg_pt_sans.ROOT / "files" / "PT_Sans-Web-Bold.ttf",
        SERIF_BOLD: fontpkg_pt_serif.ROOT / "files" / "PT_Serif-Web-Bold.ttf",
    }
    for name, path in files.items():
        pdfmetrics.registerFont(TTFont(name, str(path)))
    # Binary (not ASCII85) streams: smaller files, and encoding was a third of the time.
    rl_config.useA85 = 0


def width(text: str, font: str, size: float) -> float:
    """Width of a string in points."""
    return pdfmetrics.stringWidth(text, font, size)


@lru_cache(maxsize=65536)
def wrap(text: str, font: str, size: float, max_width: float) -> tuple[str, ...]:
    """Split text into lines no wider than max_width. A word wider than a whole line is
    hyphenated by the Russian rules (pyphen's ru_RU patterns, the hyphenation dictionary of
    LibreOffice): as much as fits, a hyphen, the rest on the next line; a word with no
    hyphenation point that fits (a long number, a code) is broken with a hyphen too. Text is
    never dropped."""
    words = text.split()
    lines: list[str] = []
    line = ""
    for word in words:
        candidate = f"{line} {word}" if line else word
        if width(candidate, font, size) <= max_width:
            line = candidate
            continue
        if line:
            lines.append(line)
        while len(word) > 1 and width(word, font, size) > max_width:  # longer than a line
            head, word = _hyphenated(word, font, size, max_width)
            lines.append(head)
        line = word
    if line:
        lines.append(line)
    return tuple(lines) or ("",)


@cache
def _dictionary():  # noqa: ANN202 - a pyphen.Pyphen
    import pyphen

    return pyphen.Pyphen(lang="ru_RU")


@lru_cache(maxsize=4096)
def _hyphenated(word: str, font: str, size: float, max_width: float) -> tuple[str, str]:
    """The longest first part of ``word`` that fits ``max_width`` with its hyphen, and the
    rest: at a hyphen the word has, else at a hyphenation point, else at a letter."""
    options = [(word[:i + 1], word[i + 1:]) for i in range(len(word) - 1, 0, -1)
               if word[i] == "-"]
    options += [(f"{head}-", tail) for head, tail in _dictionary().iterate(word)]
    options.sort(key=lambda o: -len(o[0]))
    for head, tail in options:
        if width(head, font, size) <= max_width:
            return head, tail
    cut = len(word) - 1
    while cut > 1 and width(f"{word[:cut]}-", font, size) > max_width:
        cut -= 1
    return f"{word[:cut]}-", word[cut:]


def story_pdf(story: list, *, top_mm: float = 12, bottom_mm: float = 14) -> tuple[bytes, int]:
    """A reportlab flowable story as an A4 PDF (12 mm side margins, PT Sans, reproducible
    bytes) and its number of pages: the folder's contents, acts, verification reports."""
    import io

    import pikepdf
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas
    from reportlab.platypus import SimpleDocTemplate

    register()
    buffer = io.BytesIO()

    def canvasmaker(*args, **kwargs) -> Canvas:
        return Canvas(*args, **{**kwargs, "initialFontName": SANS, "initialFontSize": 8,
                                "invariant": 1})

    SimpleDocTemplate(buffer, pagesize=A4, leftMargin=12 * mm, rightMargin=12 * mm,
                      topMargin=top_mm * mm, bottomMargin=bottom_mm * mm).build(
        story, canvasmaker=canvasmaker)
    with pikepdf.open(io.BytesIO(buffer.getvalue())) as pdf:
        return buffer.getvalue(), len(pdf.pages)
