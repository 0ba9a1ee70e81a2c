"""The remembering reader reads what pyHanko's reader reads."""

from __future__ import annotations

import io

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader

from signing.reader import SignedFileReader
from tests.support.signing import append_update, plain, sign_chain, stick_a_note


@pytest.fixture(scope="module")
def signed(unsigned, school):
    pdf, fields = unsigned
    return append_update(sign_chain(pdf, fields[:3], *school), stick_a_note)


def test_every_object_of_every_revision_reads_the_same(signed):
    ours, theirs = SignedFileReader(io.BytesIO(signed)), PdfFileReader(io.BytesIO(signed))
    total = theirs.xrefs.total_revisions
    assert total == ours.xrefs.total_revisions > 3
    refs = {ref for r in range(total) for ref in theirs.xrefs.explicit_refs_in_revision(r)}
    for revision in range(total):
        for ref in sorted(refs, key=lambda r: r.idnum):
            mine = generic.Reference(ref.idnum, ref.generation, ours)
            assert (ours.xrefs.get_historical_ref(mine, revision)
                    == theirs.xrefs.get_historical_ref(ref, revision))
            if theirs.xrefs.get_historical_ref(ref, revision) is None:
                continue
            first = ours.get_object(mine, revision=revision)
            assert plain(first) == plain(theirs.get_object(ref, revision=revision))
            assert ours.get_object(mine, revision=revision) is first  # read once
            hist_ours = ours.get_historical_resolver(revision)(mine)
            hist_theirs = theirs.get_historical_resolver(revision)(ref)
            assert plain(hist_ours) == plain(hist_theirs)


def test_lookups_answer_and_fail_as_pyhankos(signed):
    ours, theirs = SignedFileReader(io.BytesIO(signed)), PdfFileReader(io.BytesIO(signed))
    absent = generic.Reference(99999, 0)
    for reader in (ours, theirs):
        with pytest.raises(KeyError):
            reader.xrefs.get_last_change(absent)
        with pytest.raises(KeyError):  # asked twice: refused twice
            reader.xrefs.get_last_change(absent)
        with pytest.raises(KeyError):
            reader.xrefs.get_introducing_revision(absent)
    catalog = theirs.trailer.raw_get("/Root").reference
    assert ours.xrefs.get_last_change(catalog) == theirs.xrefs.get_last_change(catalog)
    assert (ours.xrefs.get_introducing_revision(catalog)
            == theirs.xrefs.get_introducing_revision(catalog) == 0)
