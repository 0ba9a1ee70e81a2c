"""The font of the signature stamps: embedded once in each document, shared by every stamp.

pyHanko embeds a fresh subset of the stamp font with every visible signature (a Type0 font,
its CID font, descriptor, font program and ToUnicode map: five objects per signature). A
journal copy with 21 signatures carried 21 copies of the same font, and every verification
read, copied and checked each of them in every later revision.

Instead the renderer puts the font into the document once, before the first signature, as a
form resource (``/AcroForm /DR /Font /ArchiveStamp``, what ISO 32000-1 12.7.3.3 provides for
fonts used in field appearances), built by pyHanko the way it builds a stamp font but with
every character a stamp may use (``STAMP_CHARACTERS``). Each signature's stamp then refers to
that font (``SharedFontFactory``) and is shaped with the very font program found in the
document, so the glyphs drawn are always the glyphs embedded. A document rendered before
this (without the resource) gets a subset embedded with its stamp, as before.
"""

from __future__ import annotations

import atexit
import io
import os
import tempfile
from functools import cache

import fontpkg_pt_sans
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.font.api import FontEngine, FontEngineFactory, ShapeResult
from pyhanko.pdf_utils.font.opentype import GlyphAccumulator, GlyphAccumulatorFactory
from pyhanko.pdf_utils.writer import BasePdfFileWriter, PdfFileWriter

from signing import speedups  # noqa: F401  (installs the faster readers into pyHanko)

STAMP_CHARACTERS = ("".join(chr(c) for c in range(0x20, 0x7F))
                    + "".join(chr(c) for c in range(0x400, 0x460)) + "№«»–—…·")
RESOURCE_NAME = "/ArchiveStamp"  # the font's name in the form's default resources
CARRIER_KEY = "/ArchiveStampFont"  # where the carrier file's catalog holds it


@cache
def font_file() -> str:
    """PT Sans cut down once per process to the characters a stamp uses (29 KB)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    # recalcTimestamp=False: the cut keeps the font's own dates, so it is the same bytes in
    # every process (and so is every document rendered with it).
    font = TTFont(str(fontpkg_pt_sans.ROOT / "files" / "PT_Sans-Web-Regular.ttf"),
                  recalcTimestamp=False)
    options = subset.Options()
    options.layout_features = []
    options.hinting = False
    options.name_IDs = ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=STAMP_CHARACTERS)
    subsetter.subset(font)
    handle, path = tempfile.mkstemp(prefix="stamp-font-", suffix=".ttf")
    with os.fdopen(handle, "wb") as out:
        font.save(out)
    atexit.register(os.unlink, path)
    return path


@cache
def carrier_pdf() -> bytes:
    """A PDF whose catalog holds the stamp font under ``/ArchiveStampFont``, embedded by
    pyHanko as it embeds a stamp's font, with every one of ``STAMP_CHARACTERS``: the
    renderer copies it from here into each document."""
    writer = PdfFileWriter(stream_xrefs=False)
    with open(font_file(), "rb") as handle:
        engine = GlyphAccumulator(writer, io.BytesIO(handle.read()), font_size=10)
    engine.shape(STAMP_CHARACTERS, with_actual_text=False)
    engine.tt.recalcTimestamp = False  # pyHanko saves the subset it embeds: keep its dates
    writer.root[CARRIER_KEY] = engine.as_resource()
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def embedded_font(writer: BasePdfFileWriter) -> tuple[generic.IndirectObject, bytes] | None:
    """The document's shared stamp font and its font program, or None if it has none."""
    try:
        ref = writer.root["/AcroForm"]["/DR"]["/Font"].raw_get(RESOURCE_NAME)
        if not isinstance(ref, generic.IndirectObject):
            return None
        font = ref.get_object()
        [descendant] = font["/DescendantFonts"]
        descendant = descendant.get_object()
        if (font["/Subtype"] != "/Type0" or font["/Encoding"] != "/Identity-H"
                or descendant["/Subtype"] != "/CIDFontType2"
                or descendant["/CIDToGIDMap"] != "/Identity"):
            return None
        program = descendant["/FontDescriptor"]["/FontFile2"].data
    except (KeyError, TypeError, ValueError, AttributeError):  # not there, or not ours
        return None
    return ref, program


class SharedFont(FontEngine):
    """A stamp's text in the document's shared stamp font: shaped with its font program,
    nothing embedded."""

    def __init__(self, writer: BasePdfFileWriter, font: generic.IndirectObject,
                 program: bytes, font_size: int = 10) -> None:
        # pyHanko's own shaping (HarfBuzz), on a scratch writer: it embeds nothing here.
        self._shaper = GlyphAccumulator(PdfFileWriter(), io.BytesIO(program), font_size)
        self._font = font
        super().__init__(writer, "ArchiveStamp", embedded_subset=False, font_size=font_size)

    @property
    def font_size(self) -> int:  # pyHanko's text box sets it after creating the engine
        return self._shaper.font_size

    @font_size.setter
    def font_size(self, value: int) -> None:
        self._shaper.font_size = value

    def shape(self, txt: str) -> ShapeResult:
        """The glyphs of ``txt`` as pyHanko's glyph accumulator draws them."""
        return self._shaper.shape(txt)

    def as_resource(self) -> generic.IndirectObject:
        """The shared font, already in the document."""
        return self._font


class SharedFontFactory(FontEngineFactory):
    """The shared stamp font where the document has one; otherwise a subset of the stamp
    font embedded with the stamp (pyHanko's way)."""

    def create_font_engine(self, writer: BasePdfFileWriter, obj_stream=None) -> FontEngine:
        found = embedded_font(writer)
        if found is None:
            return GlyphAccumulatorFactory(font_file()).create_font_engine(writer, obj_stream)
        return SharedFont(writer, *found)


@cache
def _advances() -> tuple[dict[int, int], int]:
    """The stamp font's advance widths by code point, and its units per em."""
    from fontTools.ttLib import TTFont

    font = TTFont(font_file())
    metrics = font["hmtx"].metrics
    return ({code: metrics[name][0] for code, name in font.getBestCmap().items()},
            font["head"].unitsPerEm)


def text_width(text: str, size: float) -> float:
    """The width of ``text`` in the stamp font at ``size`` points (no kerning: the stamp's
    layout features are cut)."""
    advances, units = _advances()
    default = advances.get(ord("?"), units // 2)
    return sum(advances.get(ord(ch), default) for ch in text) * size / units


def wrap(text: str, size: float, max_width: float) -> list[str]:
    """Words in lines no wider than ``max_width`` (a word wider than a line stays whole:
    pyHanko then narrows the stamp, it never cuts it)."""
    lines: list[str] = []
    for word in text.split():
        if lines and text_width(f"{lines[-1]} {word}", size) <= max_width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines
