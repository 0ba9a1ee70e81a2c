"""A test school's PKI and the signing of a whole chain with the pure signing library."""

from __future__ import annotations

import datetime as dt
import io

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from signing import pades, pki

SCHOOL = "МБОУ «Тестовая школа»"
NOW = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)


def school_crl(root: pki.Credential):
    """The school root's CRL (nothing revoked)."""
    return pki.issue_crl(root, now=NOW - dt.timedelta(days=1))


def sign_chain(pdf: bytes, fields, root: pki.Credential, timestamper) -> bytes:
    """Sign ``fields`` in order, each with a fresh certificate of the school; the seal with
    the organisation's (B-LTA)."""
    vc = pades.validation_context([root.certificate], crls=[school_crl(root)])
    for field in fields:
        if field.step == "seal":
            cred = pki.issue_organisation(root, school=SCHOOL, now=NOW)
        else:
            cred = pki.issue_person(root, name=field.signer or "Орлова Вера Павловна",
                                    position=field.label.split(":")[0], school=SCHOOL, now=NOW)
        pdf = pades.sign(pdf, pades.SignRequest(
            field.name, pades.local_signer(cred, [root.certificate]), cred.certificate,
            field.label.split(":")[0], timestamper, vc, archival=field.step == "seal"))
    return pdf


def append_update(pdf: bytes, change) -> bytes:
    """An incremental update made by ``change(writer)``, the way an attacker with a PDF
    library would make it."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def signature_field(writer, name: str):
    """The reference to the signature field called ``name``."""
    for ref in writer.root["/AcroForm"].raw_get("/Fields"):
        if ref.get_object()["/T"] == name:
            return ref
    raise LookupError(name)


def draw_over_first_page(writer) -> None:
    """A red square drawn over the first page."""
    stream = writer.add_object(generic.StreamObject(stream_data=b"q 1 0 0 rg 0 0 500 500 re"
                                                                b" f Q"))
    writer.add_stream_to_page(0, stream)


def unsign(name: str):
    """A change that takes the signature out of the field ``name`` again."""
    def change(writer) -> None:
        ref = signature_field(writer, name)
        del ref.get_object()["/V"]
        writer.mark_update(ref)
    return change


def stick_a_note(writer) -> None:
    """A note (a text annotation) stuck on the first page."""
    page_ref, _resources = writer.find_page_for_modification(0)
    note = writer.add_object(generic.DictionaryObject({
        generic.NameObject("/Type"): generic.NameObject("/Annot"),
        generic.NameObject("/Subtype"): generic.NameObject("/Text"),
        generic.NameObject("/Rect"): generic.ArrayObject(
            [generic.NumberObject(n) for n in (10, 10, 30, 30)]),
        generic.NameObject("/Contents"): generic.TextStringObject("исправить оценку")}))
    writer.register_annotation(page_ref, note)


def swap_first_pages(writer) -> None:
    """The first two pages swapped in the page tree."""
    pages = writer.root["/Pages"]
    kids = pages["/Kids"]
    kids[0], kids[1] = kids[1], kids[0]
    writer.update_container(kids)


def plain(obj):
    """A parsed PDF object as nested Python values (references as (number, generation),
    strings with their type and bytes), for comparing what two readers read."""
    if isinstance(obj, generic.IndirectObject):
        return ("ref", obj.idnum, obj.generation)
    if isinstance(obj, generic.StreamObject):
        return ("stream", {k: plain(v) for k, v in obj.items()}, obj.encoded_data)
    if isinstance(obj, generic.DictionaryObject):
        return {k: plain(v) for k, v in obj.items()}
    if isinstance(obj, generic.ArrayObject):
        return [plain(v) for v in obj]
    if isinstance(obj, (generic.TextStringObject, generic.ByteStringObject)):
        return (type(obj).__name__, obj.original_bytes)
    return (type(obj).__name__, obj)
