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
    """Split text into lines no wider than max_width (words longer than a line are cut)."""
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
        while width(word, font, size) > max_width:  # a very long word: cut it
            cut = len(word)
            while cut > 1 and width(word[:cut], font, size) > max_width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        line = word
    if line:
        lines.append(line)
    return tuple(lines) or ("",)


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
