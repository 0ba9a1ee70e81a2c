"""A test school's PKI and the signing of a whole chain with the pure signing library."""

from __future__ import annotations

import datetime as dt

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
