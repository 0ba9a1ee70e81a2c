"""The block-wise readers of white space, names and numbers read what pyHanko's readers
read, leave the stream where they leave it, and refuse what they refuse."""

from __future__ import annotations

import io

import pytest
from pyhanko.pdf_utils import generic, misc
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader

from signing import tokens
from tests.support.signing import append_update, plain, sign_chain, stick_a_note

WHITESPACE = [b"  \n\t/Name", b"x", b"\x00\x0c\r\n1 0 R", b" % a comment\n /A", b"   ", b"",
              b" " * 40 + b"]", b"%only a comment"]
NAMES = [b"/Type /Page", b"/Type/Page", b"/A#20B ", b"/Ab#", b"/Name", b"/", b"/ ",
         b"/PTSans-Regular-Identity-H>>", b"/" + b"L" * 100 + b" ", b"/\xd0\x9f ", b"/\x01x ",
         b"/a(b", b"Type", b"/Tab\tx", b"/1.7]"]
NUMBERS = [b"12 0 R", b"-3.5]", b"+.5 ", b".", b"1,5 ", b"841.8898 595", b"0>>", b"7",
           b"1" * 40 + b" ", b"-", b"abc", b"3.4.5 "]


def _outcome(read, data: bytes, *args):
    stream = io.BytesIO(data)
    try:
        value = read(stream, *args)
    except (PdfError, ValueError, ArithmeticError) as exc:
        return ("error", type(exc).__name__, stream.tell() if not data else None)
    return (type(value).__name__, value, stream.tell())


@pytest.mark.parametrize("data", WHITESPACE)
@pytest.mark.parametrize("seek_back", [False, True])
def test_white_space_as_pyhanko(data, seek_back):
    for allow_eof in (False, True):
        assert (_outcome(tokens.read_non_whitespace, data, seek_back, allow_eof)
                == _outcome(tokens._library_non_whitespace, data, seek_back, allow_eof))


@pytest.mark.parametrize("data", NAMES)
def test_names_as_pyhanko(data):
    assert _outcome(tokens.read_name, data) == _outcome(tokens._library_name, data)


@pytest.mark.parametrize("data", NUMBERS)
def test_numbers_as_pyhanko(data):
    assert _outcome(tokens.read_number, data) == _outcome(tokens._library_number, data)


def _every_object(pdf: bytes):
    reader = PdfFileReader(io.BytesIO(pdf))
    out = []
    for revision in range(reader.xrefs.total_revisions):
        for ref in sorted(reader.xrefs.explicit_refs_in_revision(revision),
                          key=lambda r: r.idnum):
            out.append(plain(reader.get_object(ref, revision=revision)))
    return out


def test_a_signed_copy_parses_the_same_with_pyhankos_readers(unsigned, school, monkeypatch):
    pdf, fields = unsigned
    signed = append_update(sign_chain(pdf, fields, *school), stick_a_note)
    ours = _every_object(signed)
    monkeypatch.setattr(misc, "read_non_whitespace", tokens._library_non_whitespace)
    monkeypatch.setattr(generic, "read_non_whitespace", tokens._library_non_whitespace)
    monkeypatch.setattr(generic.NameObject, "read_from_stream",
                        staticmethod(tokens._library_name))
    monkeypatch.setattr(generic.NumberObject, "read_from_stream",
                        staticmethod(tokens._library_number))
    assert len(ours) > 50
    assert ours == _every_object(signed)


def test_they_are_in_place_in_pyhankos_parser():
    """If a pyHanko upgrade removes what these replace, this fails: look again."""
    assert tokens.install()
    assert generic.read_non_whitespace is tokens.read_non_whitespace
    assert misc.read_non_whitespace is tokens.read_non_whitespace
    assert generic.read_object(io.BytesIO(b"[ /Type /Page 12.5 ]"), None) == [
        "/Type", "/Page", generic.FloatObject("12.5")]
