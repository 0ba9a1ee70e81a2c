"""The stamp font embedded once per document and shared by every signature's stamp."""

from __future__ import annotations

import io
import subprocess
import sys

import pikepdf
import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from signing import stampfont
from signing.verify import verify_pdf
from tests.support.signing import sign_chain


def _fonts(pdf: bytes) -> list[pikepdf.Object]:
    with pikepdf.open(io.BytesIO(pdf)) as opened:
        return [(o.objgen, str(o.BaseFont)) for o in opened.objects
                if isinstance(o, pikepdf.Dictionary) and o.get("/Subtype") == "/Type0"]


def _stamp_fonts(pdf: bytes) -> list[tuple[int, int]]:
    """The font each signed field's stamp draws with."""
    with pikepdf.open(io.BytesIO(pdf)) as opened:
        return [field.AP.N.Resources.Font.F1.objgen for field in opened.Root.AcroForm.Fields
                if "/V" in field and "/Resources" in field.AP.N]


def _text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "signed.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


@pytest.fixture(scope="module")
def teachers_signed(unsigned, school):
    pdf, fields = unsigned
    return sign_chain(pdf, [f for f in fields if f.step == "teachers"], *school)


def test_every_stamp_draws_with_the_one_font_of_the_document(unsigned, teachers_signed,
                                                            tmp_path):
    pdf, fields = unsigned
    [(shared, name)] = _fonts(pdf)  # rendered with it, before any signature
    assert name.endswith("+PTSans-Regular-Identity-H")
    teachers = [f for f in fields if f.step == "teachers"]
    assert len(teachers) >= 2
    assert _fonts(teachers_signed) == [(shared, name)]  # no signature added one
    assert _stamp_fonts(teachers_signed) == [shared] * len(teachers)
    text = _text(teachers_signed, tmp_path)
    assert text.count("ДОКУМЕНТ ПОДПИСАН") == len(teachers)
    assert text.count("СВЕДЕНИЯ О СЕРТИФИКАТЕ ЭП") == len(teachers)
    assert all(f.signer in text for f in teachers)


def _stamp_sizes(pdf: bytes) -> list[float]:
    """The effective font size of each signed field's stamp text on the page: the size set
    in its appearance times the scale at which the appearance is drawn into the field."""
    import re

    sizes = []
    with pikepdf.open(io.BytesIO(pdf)) as opened:
        for field in opened.Root.AcroForm.Fields:
            if "/V" not in field:
                continue
            outer = field.AP.N
            x1, y1, x2, y2 = (float(v) for v in field.Rect)
            bx1, by1, bx2, by2 = (float(v) for v in outer.BBox)
            fit = min((x2 - x1) / abs(bx2 - bx1), (y2 - y1) / abs(by2 - by1))
            streams = [outer.read_bytes()] + [x.read_bytes() for x in
                                              outer.Resources.get("/XObject", {}).values()]
            scale = 1.0
            for data in streams:
                for m in re.finditer(rb"([\d.]+) 0 0 ([\d.]+) [\d.\-]+ [\d.\-]+ cm", data):
                    scale *= float(m.group(1))
            for data in streams:
                sizes += [float(s) * scale * fit for s in re.findall(rb"/F\w+ ([\d.]+) Tf",
                                                                      data)]
    return sizes


def test_the_stamps_are_printed_at_seven_points_at_least(teachers_signed):
    """Seed 002's stamp, readable on paper: nothing shrinks it to fit its field."""
    sizes = _stamp_sizes(teachers_signed)
    assert sizes and min(sizes) >= 7.0, sizes


def test_a_stamp_wraps_a_long_position_instead_of_shrinking():
    from signing.clock import local_time
    from signing.pades import STAMP_FONT_SIZE, STAMP_TEXT_WIDTH, stamp_text

    text = stamp_text(serial="7A" * 20, owner="Константинопольская Александра Владиславовна",
                      position="Заместитель директора по учебно-воспитательной работе",
                      valid_from="01.09.2025", valid_to="31.08.2026",
                      signed_at="06.12.2026 14:05 (UTC+05:00)")
    lines = text.split("\n")
    assert lines[:3] == ["ДОКУМЕНТ ПОДПИСАН", "ЭЛЕКТРОННОЙ ПОДПИСЬЮ",
                         "СВЕДЕНИЯ О СЕРТИФИКАТЕ ЭП"]
    assert all(stampfont.text_width(line, STAMP_FONT_SIZE) <= STAMP_TEXT_WIDTH
               for line in lines), lines
    assert len(lines) <= 11  # the field holds eleven lines at 7 pt
    import datetime as dt

    moment = dt.datetime(2026, 12, 6, 9, 5, tzinfo=dt.UTC)
    assert local_time(moment, "Asia/Yekaterinburg") == "06.12.2026 14:05 (UTC+05:00)"
    assert local_time(moment, "Europe/Moscow") == "06.12.2026 12:05 (UTC+03:00)"


def test_a_signature_revision_holds_only_the_field_the_signature_and_the_stamp(
        teachers_signed):
    reader = PdfFileReader(io.BytesIO(teachers_signed))
    written = [len(reader.xrefs.explicit_refs_in_revision(r))
               for r in range(1, reader.xrefs.total_revisions)]
    # The first one also puts the PAdES extension into the catalog and SigFlags into the form.
    assert written[0] == 5
    assert set(written[1:]) == {3}


def test_the_metadata_stays_as_rendered(unsigned, teachers_signed):
    def xmp(pdf):
        with pikepdf.open(io.BytesIO(pdf)) as opened:
            return opened.Root.Metadata.read_bytes()

    assert xmp(teachers_signed) == xmp(unsigned[0])


def test_a_copy_rendered_before_the_shared_font_gets_a_font_with_each_stamp(
        unsigned, school, tmp_path):
    pdf, fields = unsigned
    with pikepdf.open(io.BytesIO(pdf)) as opened:
        del opened.Root.AcroForm["/DR"]
        out = io.BytesIO()
        opened.save(out)
    teachers = [f for f in fields if f.step == "teachers"]
    signed = sign_chain(out.getvalue(), teachers, *school)
    stamp_fonts = _stamp_fonts(signed)
    assert len(set(stamp_fonts)) == len(teachers)  # one subset per stamp, as pyHanko does
    assert len(_fonts(signed)) == len(teachers)
    text = _text(signed, tmp_path)
    assert all(f.signer in text for f in teachers)
    result = verify_pdf(signed, roots=[school[0].certificate])
    assert result.ok, result.broken()


def test_the_stamp_font_is_the_same_in_every_process():
    """pyHanko names a font subset at random; the renderer names it by its program, so a
    snapshot renders to the same bytes in any process."""
    code = ("import io, hashlib, pikepdf; from archive_service.rendering import pdfa; "
            "pdf = pikepdf.new(); font = pdfa._stamp_font(pdf); out = io.BytesIO(); "
            "pdf.Root.F = font; pdf.save(out, deterministic_id=True); "
            "print(hashlib.sha256(out.getvalue()).hexdigest())")
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True).stdout for _ in range(2)}
    assert len(runs) == 1


def test_the_carrier_holds_every_stamp_character_the_font_has():
    from fontTools.ttLib import TTFont

    cut = TTFont(stampfont.font_file()).getBestCmap()
    present = [c for c in stampfont.STAMP_CHARACTERS if ord(c) in cut]
    assert len(present) > len(stampfont.STAMP_CHARACTERS) - 10  # PT Sans lacks a few (Ѝ)
    with pikepdf.open(io.BytesIO(stampfont.carrier_pdf())) as carrier:
        font = carrier.Root[stampfont.CARRIER_KEY]
        cmap = font.ToUnicode.read_bytes().decode("ascii").lower()
        program = font.DescendantFonts[0].FontDescriptor.FontFile2.read_bytes()
    embedded = TTFont(io.BytesIO(program)).getBestCmap()
    for char in present:
        assert ord(char) in embedded, char  # drawn with the glyph embedded
        assert f"<{ord(char):04x}>" in cmap, char  # and extracted as the character


def test_a_form_font_of_that_name_that_is_not_the_stamp_font_is_not_used(unsigned, school,
                                                                          tmp_path):
    """Someone else's font under the same name (a simple Helvetica here) is left alone: each
    stamp gets its own subset, and the signatures verify."""
    pdf, fields = unsigned
    with pikepdf.open(io.BytesIO(pdf)) as opened:
        opened.Root.AcroForm.DR.Font[stampfont.RESOURCE_NAME] = opened.make_indirect(
            pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                               BaseFont=pikepdf.Name.Helvetica))
        out = io.BytesIO()
        opened.save(out)
    teachers = [f for f in fields if f.step == "teachers"]
    signed = sign_chain(out.getvalue(), teachers, *school)
    assert len(set(_stamp_fonts(signed))) == len(teachers)
    assert all(f.signer in _text(signed, tmp_path) for f in teachers)
    assert verify_pdf(signed, roots=[school[0].certificate]).ok
