"""Block-wise readers of PDF white space, names and numbers for pyHanko's parser.

pyHanko's lexer reads a byte at a time: white space through ``misc.read_non_whitespace``, a
name through a generator that yields one byte per step and a decoder that walks it again,
a number sixteen bytes at a time with a regular expression. Every object of a file goes
through them, at every verification and at every signature (the signer parses the whole
file again).

The readers here do the same in one read of a block and one regular expression: the same
value, the stream left at the same place. What they do not treat the same way they leave to
pyHanko's own reader from the same position: a comment where white space is skipped, a
name with a ``#`` escape or a byte that must be escaped, a token that runs to the end of
the block (and so perhaps beyond it), anything at the end of the file. ``install()`` puts
them in place once; if a later pyHanko no longer has what they replace, nothing is replaced
(only slower) and ``tests/signing/test_tokens.py`` fails so that someone looks.
"""

from __future__ import annotations

import re
from typing import Any

from pyhanko.pdf_utils import generic, misc

# How far each reader looks ahead: most white space is one byte, most names and numbers a
# few; a longer one goes to pyHanko's reader.
_WHITESPACE_BLOCK, _NAME_BLOCK, _NUMBER_BLOCK = 16, 64, 32
_WHITESPACE = misc.PDF_WHITESPACE
_non_whitespace = re.compile(b"[^" + re.escape(_WHITESPACE) + b"]")
_name_end = re.compile(b"[" + re.escape(_WHITESPACE + misc.PDF_DELIMITERS) + b"]")
_plain_name = re.compile(rb"[!-~]*")  # printable ASCII: nothing to unescape or refuse
_number_end = generic.NumberObject.NumberPattern

_library_non_whitespace: Any = getattr(misc, "read_non_whitespace", None)
_library_name: Any = getattr(generic.NameObject, "read_from_stream", None)
_library_number: Any = getattr(generic.NumberObject, "read_from_stream", None)


def read_non_whitespace(stream, seek_back: bool = False, allow_eof: bool = False) -> bytes:
    """The first byte after white space (pyHanko's ``misc.read_non_whitespace``)."""
    start = stream.tell()
    block = stream.read(_WHITESPACE_BLOCK)
    found = _non_whitespace.search(block)
    if found is None or block[found.start()] == 0x25:  # all white space, or a comment
        stream.seek(start)
        return _library_non_whitespace(stream, seek_back=seek_back, allow_eof=allow_eof)
    at = found.start()
    stream.seek(start + at + (0 if seek_back else 1))
    return block[at:at + 1]


def read_name(stream) -> generic.NameObject:
    """A name at the stream's position (pyHanko's ``NameObject.read_from_stream``)."""
    start = stream.tell()
    block = stream.read(_NAME_BLOCK)
    end = _name_end.search(block, 1)
    if block[:1] != b"/" or end is None:  # not a name (pyHanko says so), or maybe longer
        stream.seek(start)
        return _library_name(stream)
    token = block[1:end.start()]
    if b"#" in token or _plain_name.fullmatch(token) is None:
        stream.seek(start)
        return _library_name(stream)
    stream.seek(start + end.start())
    return generic.NameObject("/" + token.decode("ascii"))


def read_number(stream) -> generic.NumberObject | generic.FloatObject:
    """A number at the stream's position (pyHanko's ``NumberObject.read_from_stream``)."""
    start = stream.tell()
    block = stream.read(_NUMBER_BLOCK)
    end = _number_end.search(block)
    if end is None:
        stream.seek(start)
        return _library_number(stream)
    digits = block[:end.start()]
    stream.seek(start + end.start())
    if digits.find(b".") != -1:
        return generic.FloatObject(digits.decode("ascii"))
    return generic.NumberObject(digits.decode("ascii"))


def install() -> bool:
    """Use these readers in pyHanko's parser; whether they are in place."""
    if (_library_non_whitespace is None or _library_name is None or _library_number is None
            or getattr(generic, "read_non_whitespace", None) not in (
                _library_non_whitespace, read_non_whitespace)):
        return False
    misc.read_non_whitespace = read_non_whitespace
    generic.read_non_whitespace = read_non_whitespace
    generic.NameObject.read_from_stream = staticmethod(read_name)
    generic.NumberObject.read_from_stream = staticmethod(read_number)
    return True
