"""An external RFC 3161 time-stamping service over HTTP (``ARCHIVE_TSA_URL``).

The service is a real HTTP server on 127.0.0.1 answering ``application/timestamp-query``
with pyHanko's responder and a TSA certificate of the school root, so verification trusts it.
"""

from __future__ import annotations

import dataclasses
import http.server
import threading

import pytest
from asn1crypto import tsp
from cryptography import x509

from archive_service.db import Archive
from archive_service.errors import SignatureRefusedError
from archive_service.signatures.models import SchoolPki
from archive_service.signatures.service import verify_document
from signing import pades, pki
from tests.signatures.test_chain import TSA, _setup, _sign
from tests.support.state import archive_state


@pytest.fixture
def tsa_server(archive, tmp_path):
    """Set up the chain, then serve the school TSA key over HTTP; yields (doc, archive, log)."""
    doc = _setup(archive, tmp_path)
    with archive.sessions() as s:
        row = s.query(SchoolPki).one()
        root = x509.load_pem_x509_certificate(row.root_cert)
        tsa = pki.Credential(x509.load_pem_x509_certificate(row.tsa_cert),
                             pki.decrypt_key(row.tsa_key, TSA, owner="tsa"))
    responder = pades.SchoolTimeStamper(tsa, [root])
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers["Content-Length"]))
            requests.append(self.headers["Content-Type"])
            answer = responder.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *_args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/tsa"
    external = Archive(dataclasses.replace(archive.settings, tsa_url=url))
    yield doc, external, requests, server
    server.shutdown()
    external.dispose()


def test_timestamps_come_from_the_configured_service(tsa_server):
    doc, archive, requests, _server = tsa_server
    for login in ("belova", "smirnova", "petrova", "zam", "register", "director", "secretary"):
        _sign(archive, doc, login)
    # six signature timestamps and the document timestamp after the seal (pyHanko also asks
    # once per action for a sample token, to size the signature)
    assert len(requests) >= 7 and set(requests) == {"application/timestamp-query"}
    result = verify_document(archive, doc)
    assert result.ok and result.document_timestamps == 1


def test_an_unreachable_service_is_a_clear_refusal_and_nothing_is_written(tsa_server):
    doc, archive, requests, server = tsa_server
    server.shutdown()
    server.server_close()
    before = archive_state(archive)
    with pytest.raises(SignatureRefusedError, match="Служба штампов времени не ответила"):
        _sign(archive, doc, "smirnova")
    assert archive_state(archive) == before and requests == []


@pytest.mark.parametrize("service_down", [False, True])
def test_a_renewal_the_external_service_cannot_make_is_named_and_nothing_is_written(
        tsa_server, service_down):
    """Renewing through an external TSA: its certificate is known only from its answer.
    This one answers with the certificate that made the seal's timestamp (no time gained),
    or not at all; either way the copy is named and nothing is stored."""
    import datetime as dt

    from archive_service.errors import RenewalBatchError
    from archive_service.signatures.renewal import renew_timestamps

    doc, archive, _requests, server = tsa_server
    for login in ("belova", "smirnova", "petrova", "zam", "register", "director", "secretary"):
        _sign(archive, doc, login)
    if service_down:
        server.shutdown()
        server.server_close()
    before = archive_state(archive)
    why = "Служба штампов времени не ответила" if service_down else "не дольше прежнего штампа"
    with pytest.raises(RenewalBatchError, match=f"продлено 0, не продлено 1(?s:.*){why}"):
        renew_timestamps(archive, school_code=None, within=dt.timedelta(days=365 * 11),
                         tsa_passphrase=TSA)
    assert archive_state(archive) == before
