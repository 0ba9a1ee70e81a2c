"""The revision-pair change analysis against pyHanko's own, on untouched and tampered copies.

Each case signs part of the small journal's chain, then (for the tampered ones) appends an
incremental update the way an attacker with a PDF library would, and compares the
modification level both policies give every signature.
"""

from __future__ import annotations

import io

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY, ModificationLevel
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp

from signing import pades
from signing.diff import RevisionPairPolicy
from signing.verify import verify_pdf
from tests.support.signing import (
    append_update,
    draw_over_first_page,
    sign_chain,
    stick_a_note,
    unsign,
)

OTHER = ModificationLevel.OTHER


def _levels(pdf: bytes, root, policy) -> dict[str, tuple[ModificationLevel, bool | None]]:
    """Per signature field: the modification level after it and pyHanko's DocMDP verdict."""
    vc = pades.validation_context([root.certificate])
    out = {}
    for sig in PdfFileReader(io.BytesIO(pdf)).embedded_signatures:
        if sig.sig_object.get("/Type") == "/DocTimeStamp":
            status = validate_pdf_timestamp(sig, validation_context=vc, diff_policy=policy)
            name = "document timestamp"
        else:
            status = validate_pdf_signature(sig, signer_validation_context=vc,
                                            ts_validation_context=vc, diff_policy=policy)
            name = sig.field_name
        out[name] = (status.modification_level, status.docmdp_ok)
    return out


def _both(pdf: bytes, root):
    return _levels(pdf, root, DEFAULT_DIFF_POLICY), _levels(pdf, root, RevisionPairPolicy())


def _fields(unsigned, *names):
    _pdf, fields = unsigned
    by_name = {f.name: f for f in fields}
    return [by_name[n] for n in names]


@pytest.fixture(scope="module")
def sealed(unsigned, school):
    """The whole chain, untouched."""
    pdf, fields = unsigned
    root, timestamper = school
    return sign_chain(pdf, fields, root, timestamper)


def test_an_untouched_chain_gets_the_same_verdicts(sealed, school):
    root, _ts = school
    theirs, ours = _both(sealed, school[0])
    assert ours == theirs
    assert all(level <= ModificationLevel.FORM_FILLING and ok is not False
               for level, ok in ours.values()), ours
    assert ours["seal"] == (ModificationLevel.LTA_UPDATES, True)  # only DSS and the timestamp


def test_a_page_drawn_over_after_the_teachers_is_caught_by_both(unsigned, school):
    root, timestamper = school
    pdf = sign_chain(unsigned[0], _fields(unsigned, "teacher_1", "teacher_2"), root,
                     timestamper)

    theirs, ours = _both(append_update(pdf, draw_over_first_page), root)
    assert ours == theirs
    assert ours["teacher_1"][0] is OTHER and ours["teacher_2"][0] is OTHER
    result = verify_pdf(append_update(pdf, draw_over_first_page), roots=[root.certificate])
    assert {s.field for s in result.broken()} == {"teacher_1", "teacher_2"}


def test_a_field_signed_after_the_seal_breaks_the_seal_in_both(unsigned, school):
    """The seal locks every field: a teacher who signs the field left empty afterwards
    leaves the earlier signatures fine and the seal broken."""
    root, timestamper = school
    chain = _fields(unsigned, "teacher_1", "class_leader", "deputy", "director", "seal")
    pdf = sign_chain(unsigned[0], chain, root, timestamper)
    late = sign_chain(pdf, _fields(unsigned, "teacher_2"), root, timestamper)
    theirs, ours = _both(late, root)
    assert ours == theirs
    assert ours["seal"][0] is OTHER
    assert ours["teacher_1"] == (ModificationLevel.FORM_FILLING, True)
    broken = {s.field for s in verify_pdf(late, roots=[root.certificate]).broken()}
    assert "seal" in broken and "teacher_1" not in broken


def test_a_signature_removed_later_is_caught(unsigned, school):
    """A revision that takes teacher 2's signature out of the field again: the signature is
    no longer in the file to complain, but the signatures before and after it are broken."""
    root, timestamper = school
    pdf = sign_chain(unsigned[0], _fields(unsigned, "teacher_1", "teacher_2", "class_leader"),
                     root, timestamper)

    tampered = append_update(pdf, unsign("teacher_2"))
    theirs, ours = _both(tampered, root)
    assert ours == theirs
    assert set(ours) == {"teacher_1", "class_leader"}
    assert ours["teacher_1"][0] is OTHER and ours["class_leader"][0] is OTHER
    broken = {s.field for s in verify_pdf(tampered, roots=[root.certificate]).broken()}
    assert broken == {"teacher_1", "class_leader"}


def test_a_note_stuck_on_a_sealed_copy_is_caught_by_both(sealed, school):
    """An annotation (a "sticky note") added after the seal: the seal allows no change."""
    root, _ts = school

    tampered = append_update(sealed, stick_a_note)
    theirs, ours = _both(tampered, root)
    assert ours == theirs
    assert ours["seal"][0] >= ModificationLevel.ANNOTATIONS and ours["seal"][1] is False
    result = verify_pdf(tampered, roots=[root.certificate])
    assert "seal" in {s.field for s in result.broken()}
