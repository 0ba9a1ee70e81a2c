"""The block-wise hex-string reader returns what pyHanko's own reader returns, leaves the
stream at the same place, and refuses what it refuses."""

from __future__ import annotations

import io

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PdfReadError

from signing import hexstrings

CASES = [
    b"<48656C6C6F> rest",
    b"<48 65\n6c\t6C\r6F\x00>/Next",
    b"<901FA>",  # odd: an implied final 0
    b"<>",
    b"<FEFF04100440044504380432>",  # UTF-16BE text: a text string
    b"<" + b"30820A" * 1000 + b"0" * 20000 + b">>> trailer",  # a signature's /Contents
    b"<4865 % a comment\n6C6C6F>",  # not hex syntax, but pyHanko reads it: left to it
]


def _read(reader, data: bytes):
    stream = io.BytesIO(data)
    try:
        value = reader(stream)
    except PdfReadError as exc:
        return ("error", type(exc), stream.tell())
    return (type(value), bytes(value) if isinstance(value, generic.ByteStringObject)
            else str(value), stream.tell())


@pytest.mark.parametrize("data", CASES + [b"<12G4>", b"<4865", b"<4865 6C"])
def test_same_value_type_and_position_as_pyhanko(data):
    assert _read(hexstrings.read_hex_string, data) == _read(hexstrings._library_reader, data)


def test_it_is_in_place_in_pyhanko_parser():
    """If a pyHanko upgrade removes the function this replaces, this fails: look again."""
    assert hexstrings.install()
    assert generic.read_hex_string_from_stream is hexstrings.read_hex_string
    assert bytes(generic.read_object(io.BytesIO(b"<0102AB>"), None)) == b"\x01\x02\xab"
