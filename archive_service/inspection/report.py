"""The verification report of one document (протокол проверки), as JSON and as PDF/A.

For an inspector who must see for themselves that nothing changed since the director
signed, and check it again without this software: the document's identity and hashes; each
signature (signer, position, certificate, signing time, the timestamp, intact, trusted)
verified now against the school's root; the register entry; the chain of custody from the
snapshot to the seal; the verification and fixity history; the root and TSA certificates'
fingerprints and which free tools check the file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from cryptography import x509
from sqlalchemy import select

from archive_service.accounts import access
from archive_service.actors import Actor
from archive_service.db import Archive
from archive_service.errors import NotFoundError

HOW_TO_CHECK = [
    "Подписи проверяются без программы архива: в Adobe Acrobat Reader (добавить корневой "
    "сертификат школы root.pem в доверенные), командой «pdfsig документ.pdf» (poppler-utils) "
    "или «pyhanko sign validate --trust root.pem документ.pdf» (pyHanko). Отозванные "
    "сертификаты школы — в school.crl (подпись, сделанная до отзыва по штампу времени, "
    "остаётся действительной).",
    "Хеш файла: «sha256sum документ.pdf» должен совпасть с SHA-256 в этом протоколе.",
    "Сертификат подлинный, если SHA-256 его DER-представления совпадает с отпечатком ниже "
    "(«openssl x509 -in root.pem -outform der | sha256sum»).",
]


def _fingerprint(pem: bytes) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding

    return hashlib.sha256(x509.load_pem_x509_certificate(pem).public_bytes(Encoding.DER)
                          ).hexdigest()


def _iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    value = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return value.isoformat(timespec="seconds")


def report_data(archive: Archive, document_id: int, *, reader: Actor, who=None  # noqa: ANN001
                ) -> dict[str, Any]:
    """Everything the report says, verified now. ``who``: the web principal (refused unless
    a current grant covers the document's school and year)."""
    from archive_service.fixity.models import FixityState
    from archive_service.journals.models import School
    from archive_service.register.models import RegisterEntry
    from archive_service.rendering.models import RenderedDocument
    from archive_service.signatures.models import (
        DocumentReturn,
        DocumentVerification,
        SchoolPki,
        SignatureRecord,
        SigningUser,
    )
    from archive_service.signatures.service import TSA_NAME, signed_pdf, verify_document
    from archive_service.signatures.state import ARCHIVAL_TIMESTAMP_STEP
    from archive_service.snapshots.models import PeriodSnapshot
    from archive_service.snapshots.service import snapshot_info

    with archive.sessions() as s:
        doc = s.get(RenderedDocument, document_id) if 0 < document_id < 2**31 else None
        if doc is None:
            raise NotFoundError(f"Документ № {document_id} не найден.")
        snap = s.get(PeriodSnapshot, doc.snapshot_id)
        info = snapshot_info(s, snap)
        if not access.read_scope(s, who, doc.school_id, info.academic_year).covers(
                snap.school_class_id, doc.steps):
            raise NotFoundError(f"Документ № {document_id} не найден.")
        school = s.get(School, doc.school_id)
        pki_row = s.scalars(select(SchoolPki).filter_by(school_id=doc.school_id)).first()
        users = {u.id: u for u in s.scalars(select(SigningUser).filter_by(
            school_id=doc.school_id))}
        records = s.scalars(select(SignatureRecord).filter_by(document_id=doc.id)
                            .order_by(SignatureRecord.sequence)).all()
        entry = s.scalars(select(RegisterEntry).filter_by(document_id=doc.id)).first()
        returned = s.scalars(select(DocumentReturn).filter_by(document_id=doc.id)).first()
        checks = s.scalars(select(DocumentVerification).filter_by(document_id=doc.id)
                           .order_by(DocumentVerification.id)).all()
        fixity = {kind: s.get(FixityState, (kind, item)) for kind, item in
                  (("document", doc.id), ("snapshot", snap.id))}
        custody = [
            {"at": _iso(snap.created_at), "event": f"срез журнала зафиксирован (версия "
             f"{snap.version}, SHA-256 {snap.sha256})", "by": snap.created_by},
            {"at": _iso(doc.created_at), "event": f"документ сформирован (PDF/A, страниц "
             f"{doc.pages}, SHA-256 {doc.sha256})", "by": doc.created_by}]
        custody += [{"at": _iso(r.signed_at), "event": (
                         f"штамп времени продлён ({r.note}); SHA-256 после него {r.hash_after}"
                         if r.step == ARCHIVAL_TIMESTAMP_STEP else
                         f"подпись: шаг «{r.step}», поле {r.field}; SHA-256 после подписи "
                         f"{r.hash_after}"),
                     "by": (TSA_NAME if r.user_id is None else users[r.user_id].full_name
                            if r.user_id in users else str(r.user_id))}
                    for r in records]
        if entry is not None:
            custody.append({"at": _iso(entry.received_at), "event": f"зарегистрирован под № "
                            f"{entry.number} ({entry.year}); передал(а) {entry.handed_over_by}; "
                            f"место хранения: {entry.location}", "by": entry.received_by})
        if returned is not None:
            custody.append({"at": _iso(returned.returned_at), "event": "возвращён на "
                            f"исправление: {returned.reason}", "by": str(returned.user_id)})
        custody.sort(key=lambda e: e["at"] or "")
        history = [{"at": _iso(c.verified_at), "by": c.verified_by, "ok": c.ok,
                    "sha256": c.sha256} for c in checks]
        certificates = {} if pki_row is None else {
            "root_sha256": _fingerprint(pki_row.root_cert),
            "tsa_sha256": _fingerprint(pki_row.tsa_cert)}
        identity = {"document_id": doc.id, "number": doc.number, "kind": doc.kind,
                    "school": school.name, "school_code": school.code,
                    "class": info.class_name, "period": info.period_name,
                    "academic_year": info.academic_year, "pages": doc.pages,
                    "sheets": doc.sheets, "rendered_sha256": doc.sha256,
                    "snapshot_id": snap.id, "snapshot_sha256": snap.sha256}
        register = None if entry is None else {
            "number": entry.number, "year": entry.year, "received_at": _iso(entry.received_at),
            "handed_over_by": entry.handed_over_by, "received_by": entry.received_by,
            "location": entry.location, "sheets": entry.sheets}
        fixity_out = {kind: None if st is None else {"checked_at": _iso(st.checked_at),
                                                     "ok": st.ok, "run": st.run_id}
                      for kind, st in fixity.items()}
    data = signed_pdf(archive, document_id, reader=reader)
    result = verify_document(archive, document_id, reader=None)
    positions = {u.full_name: u.position for u in users.values()}
    return {
        "format": "school-archive-verification-report/1",
        "made_at": _iso(dt.datetime.now(dt.UTC)), "made_for": reader.name,
        "document": {**identity, "sha256": hashlib.sha256(data).hexdigest(),
                     "size": len(data)},
        "verdict": {"ok": result.ok, "signatures": len(result.signatures),
                    "document_timestamps": result.document_timestamps, "error": result.error},
        "signatures": [{**sig, "position": positions.get(sig["signer"])}
                       for sig in result.as_dict()["signatures"]],
        "register": register, "custody": custody, "verifications": history,
        "fixity": fixity_out, "certificates": certificates, "how_to_check": HOW_TO_CHECK,
    }


def report_pdf(data: dict[str, Any]) -> bytes:
    """The report as PDF/A-2b (Russian)."""
    from reportlab.lib import colors
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

    from archive_service.rendering import fonts
    from archive_service.rendering.layout import DocumentMeta, Rendered
    from archive_service.rendering.pdfa import finish
    from archive_service.rendering.tables import markup

    fonts.register()
    cell = ParagraphStyle("cell", fontName=fonts.SANS, fontSize=7.5, leading=9.5)
    head = ParagraphStyle("head", parent=cell, fontName=fonts.SANS_BOLD)
    body = ParagraphStyle("body", fontName=fonts.SANS, fontSize=9, leading=12)
    h1 = ParagraphStyle("h1", fontName=fonts.SERIF_BOLD, fontSize=13, leading=17,
                        spaceAfter=2 * mm)
    h2 = ParagraphStyle("h2", fontName=fonts.SANS_BOLD, fontSize=10, leading=13,
                        spaceBefore=3 * mm, spaceAfter=1 * mm)
    d, v = data["document"], data["verdict"]
    e = markup  # every value from the archive is text, never reportlab markup

    def table(rows: list[list[str]], widths: list[float]) -> Table:
        t = Table([[Paragraph(e(c), head if i == 0 else cell) for c in row]
                   for i, row in enumerate(rows)], colWidths=[w * mm for w in widths],
                  repeatRows=1)
        t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.black),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        return t

    yes = {True: "да", False: "НЕТ", None: "—"}
    story = [
        Paragraph("Протокол проверки электронного документа архива", h1),
        Paragraph(f"{e(d['school'])}. Документ № {e(d['document_id'])} ({e(d['number'])}): "
                  f"{d['kind'] == 'journal' and 'копия классного журнала' or 'сводная ведомость'}"
                  f", класс {e(d['class'])}, {e(d['period'])} {e(d['academic_year'])}; страниц "
                  f"{e(d['pages'])}. Проверено {e(data['made_at'])} для: "
                  f"{e(data['made_for'])}.", body),
        Paragraph("ИТОГ: " + ("все подписи целы, действительны и доверенные; изменений после "
                              "подписей нет." if v["ok"] else
                              "ПОДПИСИ НЕ ПРОХОДЯТ ПРОВЕРКУ (см. таблицу)."), h2),
        Paragraph("Хеши", h2),
        table([["Что", "SHA-256"], ["Файл документа (со всеми подписями)", d["sha256"]],
               ["Файл при формировании (без подписей)", d["rendered_sha256"]],
               ["Срез журнала, из которого сформирован", d["snapshot_sha256"]]], [60, 126]),
        Paragraph("Подписи (проверены сейчас по корневому сертификату школы)", h2),
        table([["Поле", "Подписант, должность", "Сертификат", "Время подписи / штамп времени",
                "Цел", "Верна", "Доверена", "Изменения после"]]
              + [[s["field"], f"{s['signer']}, {s.get('position') or ''}",
                  s["certificate_serial"], f"{s['signing_time'] or '—'} / "
                  f"{s['timestamp_time'] or '—'}", yes[s["intact"]], yes[s["valid"]],
                  yes[s["trusted"]], "ЕСТЬ" if s["modified_after"] else "нет"]
                 for s in data["signatures"]], [22, 38, 30, 40, 12, 12, 14, 18]),
        *[Paragraph(f"{e(s['field'])}: {e(s['summary'])}.", body)
          for s in data["signatures"] if s.get("revoked_at")],
        Paragraph(f"Штампов времени документа (PAdES B-LTA): {v['document_timestamps']}.",
                  body),
    ]
    reg = data["register"]
    story += [Paragraph("Запись в реестре", h2), Paragraph(
        "Не зарегистрирован." if reg is None else
        f"№ {e(reg['number'])} ({e(reg['year'])}), принят {e(reg['received_at'])} от "
        f"{e(reg['handed_over_by'])}, принял(а) {e(reg['received_by'])}; листов "
        f"{e(reg['sheets'])}; место хранения: {e(reg['location'])}.", body)]
    story += [Paragraph("Путь документа (от среза до печати)", h2),
              table([["Когда", "Что", "Кто"]] + [[e["at"], e["event"], e["by"]]
                                                 for e in data["custody"]], [34, 112, 40])]
    story += [Paragraph("История проверок подписей", h2),
              table([["Когда", "Кто", "Итог"]] + [[c["at"], c["by"], "верно" if c["ok"]
                                                   else "НАРУШЕНИЯ"]
                                                  for c in data["verifications"][-20:]],
                    [40, 110, 36])]
    fx = data["fixity"]
    story += [Paragraph("Проверка целостности хранения", h2), Paragraph("; ".join(
        f"{'документ' if k == 'document' else 'срез'}: " + (
            "ещё не проверялся" if st is None else
            f"{e(st['checked_at'])} — {'хеш совпал' if st['ok'] else 'НАРУШЕНИЕ'}")
        for k, st in fx.items()) + ".", body)]
    cert = data["certificates"]
    story += [Paragraph("Как проверить самостоятельно", h2)]
    story += [Paragraph(t, body) for t in HOW_TO_CHECK]
    if cert:
        story += [Paragraph(f"Отпечаток корневого сертификата школы (SHA-256): "
                            f"{e(cert['root_sha256'])}<br/>Отпечаток сертификата службы штампов "
                            f"времени (SHA-256): {e(cert['tsa_sha256'])}", body)]
    story.append(Spacer(1, 3 * mm))
    drawn, pages = fonts.story_pdf(story, top_mm=12, bottom_mm=12)
    meta = DocumentMeta("report", f"ПРОТОКОЛ-{d['number']}", d["snapshot_sha256"],
                        "Архив электронных классных журналов",
                        dt.date.fromisoformat(data["made_at"][:10]), "")
    return finish(Rendered(drawn, pages, []), meta,
                  title=f"Протокол проверки документа {d['number']}", subject=d["school"]).pdf
