"""Page previews: pdfium is not thread-safe, so concurrent renders must be serialised.

Before the lock, a browser loading several page images at once from the threaded development
server crashed the whole process (segmentation fault in CI)."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from archive_service.signatures import views


def _pdf(pages: int) -> bytes:
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4)
    for n in range(pages):
        c.drawString(72, 720, f"page {n + 1}")
        c.rect(72 + 10 * n, 300, 100, 100, fill=1)
        c.showPage()
    c.save()
    return out.getvalue()


def test_concurrent_renders_do_not_crash_and_match_sequential():
    pdf = _pdf(6)
    jobs = [(page, dpi) for page in range(1, 7) for dpi in (40, 41, 42, 43)]
    views._PAGES.clear()
    sequential = {job: views.render_page(pdf, *job) for job in jobs}
    views._PAGES.clear()
    with ThreadPoolExecutor(8) as pool:
        concurrent = dict(zip(jobs, pool.map(lambda job: views.render_page(pdf, *job), jobs),
                              strict=True))
    assert concurrent == sequential
    image = Image.open(io.BytesIO(sequential[(1, 43)]))
    assert image.format == "PNG" and image.size == (round(A4[0] * 43 / 72), round(A4[1] * 43 / 72))
    # pages differ from one another (each page really rendered, not a cached first page)
    assert len({sequential[(page, 40)] for page in range(1, 7)}) == 6


def test_the_cache_is_bounded_and_keyed_by_content(monkeypatch):
    monkeypatch.setattr(views, "_PAGES_KEPT", 4)
    views._PAGES.clear()
    first, second = _pdf(1), _pdf(2)
    assert views.render_page(first, 1, 30) != views.render_page(second, 2, 30)
    for dpi in range(20, 30):
        views.render_page(first, 1, dpi)
    assert len(views._PAGES) == views._PAGES_KEPT
