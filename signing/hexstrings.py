"""A block-wise reader of PDF hex strings for pyHanko's parser.

pyHanko (0.38) reads a hex string ``<…>`` one byte at a time through a generator. Every
signature of a copy holds one in ``/Contents`` (the CMS container and its padding: about
11,000 hex digits each), so reading them was the largest item in a profile of verifying a
copy with 21 signatures, and signing the last field of a copy re-read all the earlier ones.

``read_hex_string`` reads the same syntax in blocks: up to the closing ``>``, PDF white
space dropped, the digits decoded by ``binascii`` (an odd count ends in an implied 0, as in
ISO 32000-2, 7.3.4.3). What it does not treat the same way it leaves to pyHanko's own
reader from the same position: a string with ``%`` in it, a character that is not a hex
digit (pyHanko raises its own error naming it), a string the file ends inside.
``install()`` puts it in place of pyHanko's reader once; if a later pyHanko no longer has
that function, nothing is replaced (the library's reader is only slower), and
``tests/signing/test_hexstrings.py`` fails so that someone looks.
"""

from __future__ import annotations

import binascii
import os
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PDF_WHITESPACE

_BLOCK = 1 << 16
_library_reader: Any = getattr(generic, "read_hex_string_from_stream", None)


def read_hex_string(stream) -> Any:
    """A hex string at the stream's position (on ``<``), as pyHanko's reader returns it."""
    start = stream.tell()
    stream.read(1)
    chunks = []
    while True:
        block = stream.read(_BLOCK)
        if not block:
            return _by_the_library(stream, start)
        end = block.find(b">")
        if end >= 0:
            chunks.append(block[:end])
            stream.seek(end + 1 - len(block), os.SEEK_CUR)  # just past the ``>``
            break
        chunks.append(block)
    digits = b"".join(chunks).translate(None, PDF_WHITESPACE)
    if b"%" in digits:
        return _by_the_library(stream, start)
    try:
        data = binascii.unhexlify(digits + b"0" * (len(digits) % 2))
    except (binascii.Error, ValueError):
        return _by_the_library(stream, start)
    return generic.pdf_string(data)


def _by_the_library(stream, start: int) -> Any:
    stream.seek(start)
    return _library_reader(stream)


def install() -> bool:
    """Use ``read_hex_string`` in pyHanko's parser; whether it is in place."""
    if _library_reader is None:
        return False
    generic.read_hex_string_from_stream = read_hex_string
    return True
