"""PDF/A-2b finishing and the empty signature fields (pikepdf).

Order matters (see ../shared/notes/signing.md): the drawn file is made PDF/A first (no
document-info dictionary, XMP only, fonts embedded, no /Trans), validated by pikepdf's
PDF/A-2b checker, and only then are the signature fields added, in the same revision, so
that every later signature is an incremental update into an existing field.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from dataclasses import dataclass

import pikepdf
import pikepdf.pdfa

from archive_service.rendering.layout import DocumentMeta, FieldSpec, Rendered
from signing import stampfont

PRODUCER = "Архив электронных классных журналов"


@dataclass(frozen=True)
class Finished:
    """The archival PDF and what was checked of it."""

    pdf: bytes
    unsigned_pdfa: bytes | None  # with validate=True: the checked file before the fields
    pages: int


def _xmp(pdf: pikepdf.Pdf, meta: DocumentMeta, title: str, subject: str) -> None:
    stamp = dt.datetime.combine(meta.render_date, dt.time(0, 0), tzinfo=dt.UTC).isoformat()
    with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as xmp:
        xmp["dc:title"] = title
        xmp["dc:description"] = subject
        xmp["dc:creator"] = [meta.source_system]
        xmp["dc:identifier"] = meta.number
        xmp["pdf:Producer"] = PRODUCER
        xmp["pdf:Keywords"] = f"snapshot-sha256:{meta.snapshot_sha256}"
        xmp["xmp:CreateDate"] = stamp
        xmp["xmp:ModifyDate"] = stamp
        xmp["xmp:MetadataDate"] = stamp
        xmp["xmp:CreatorTool"] = PRODUCER


def finish(rendered: Rendered, meta: DocumentMeta, *, title: str, subject: str,
           validate: bool = False) -> Finished:
    """Make the drawn file PDF/A-2b, then add one empty signature field per signer.

    ``validate`` runs pikepdf's PDF/A-2b validator on the unsigned file (about 8 ms a page,
    as long as the drawing itself); the tests and ``archive render --validate`` use it.
    """
    with pikepdf.open(io.BytesIO(rendered.pdf)) as pdf:
        for page in pdf.pages:
            if "/Trans" in page.obj:
                del page.obj["/Trans"]
        _inherit_resources(pdf)
        pikepdf.pdfa.prepare(pdf, "2b")
        # After prepare, which stamps the current time and itself as producer: the dates
        # must come from the snapshot so that one snapshot always gives the same bytes.
        _xmp(pdf, meta, title, subject)
        if "/Info" in pdf.trailer:  # XMP only (prepare writes a /Producer there)
            del pdf.trailer["/Info"]
        kwargs = pikepdf.pdfa.resolve_save_kwargs("2b", deterministic_id=True)
        # No object streams (reportlab writes none): 6% larger, but every verification of
        # every signature reads objects directly instead of inflating whole streams
        # (5 signatures on a 40-page copy: 0.35 s -> 0.25 s).
        kwargs["object_stream_mode"] = pikepdf.ObjectStreamMode.preserve
        unsigned = None
        if validate:  # pikepdf's validator does not check files with forms: check before
            buffer = io.BytesIO()
            pdf.save(buffer, **kwargs)
            unsigned = buffer.getvalue()
            with pikepdf.open(io.BytesIO(unsigned)) as written:
                report = pikepdf.pdfa.check(written, "2b")
            if report.findings:
                raise pikepdf.pdfa.PdfaError(report)
        _add_fields(pdf, rendered.fields)
        out = io.BytesIO()
        pdf.save(out, **kwargs)
    return Finished(out.getvalue(), unsigned, rendered.pages)


def _inherit_resources(pdf: pikepdf.Pdf) -> None:
    """Put the pages' resources once on the page tree root when every page has the same.

    Resources are inheritable (ISO 32000-1, 7.7.3.4). Signature verification walks every path
    from the trailer to every object once per signature (pyHanko's change analysis); with
    the fonts under each of 40-60 pages that walk visited each width of each font per page,
    about 45,000 nodes per signature, and took most of the verification time.
    """
    pages = pdf.pages
    if not len(pages):
        return
    first = pages[0].obj.get("/Resources")
    if first is None or any(p.obj.get("/Resources") is None
                            or p.obj.Resources.unparse() != first.unparse() for p in pages):
        return
    pdf.Root.Pages["/Resources"] = pdf.make_indirect(pikepdf.Dictionary(first))
    for page in pages:
        del page.obj["/Resources"]


def _add_fields(pdf: pikepdf.Pdf, fields: list[FieldSpec]) -> None:
    if not fields:
        return
    refs = []
    for f in fields:
        page = pdf.pages[f.page]
        x1, y1, x2, y2 = f.rect
        appearance = pdf.make_stream(b"", {"/Type": pikepdf.Name.XObject,
                                           "/Subtype": pikepdf.Name.Form,
                                           "/BBox": pikepdf.Array([0, 0, x2 - x1, y2 - y1])})
        widget = pdf.make_indirect(pikepdf.Dictionary({
            "/Type": pikepdf.Name.Annot, "/Subtype": pikepdf.Name.Widget,
            "/FT": pikepdf.Name.Sig, "/T": pikepdf.String(f.name),
            "/TU": pikepdf.String(f.label), "/Rect": pikepdf.Array([x1, y1, x2, y2]),
            "/F": 4, "/P": page.obj, "/AP": pikepdf.Dictionary({"/N": appearance}),
        }))
        if f.step == "seal":  # the seal locks every field and allows no change after it
            widget["/Lock"] = pikepdf.Dictionary({
                "/Type": pikepdf.Name.SigFieldLock, "/Action": pikepdf.Name.All, "/P": 1})
        annots = page.obj.get("/Annots")
        if annots is None:
            page.obj["/Annots"] = pikepdf.Array([widget])
        else:
            annots.append(widget)
        refs.append(widget)
    pdf.Root["/AcroForm"] = pdf.make_indirect(pikepdf.Dictionary({
        "/Fields": pikepdf.Array(refs), "/SigFlags": 0,
        "/DR": pikepdf.Dictionary({"/Font": pikepdf.Dictionary({
            stampfont.RESOURCE_NAME: _stamp_font(pdf)})})}))


def _stamp_font(pdf: pikepdf.Pdf) -> pikepdf.Object:
    """The signature stamps' font, copied into ``pdf`` once for all its stamps
    (``signing.stampfont``), named by its font program so that the same snapshot always
    renders to the same bytes (pyHanko picks a random subset tag)."""
    with pikepdf.open(io.BytesIO(stampfont.carrier_pdf())) as carrier:
        font = pdf.copy_foreign(carrier.Root[stampfont.CARRIER_KEY])
    descendant = font.DescendantFonts[0]
    program = descendant.FontDescriptor.FontFile2.read_bytes()
    tag = "".join(chr(ord("A") + b % 26) for b in hashlib.sha256(program).digest()[:6])
    name = str(descendant.BaseFont).split("+", 1)[1]
    descendant.BaseFont = descendant.FontDescriptor.FontName = pikepdf.Name(f"/{tag}+{name}")
    font.BaseFont = pikepdf.Name(f"/{tag}+{name}-Identity-H")
    return font
