"""pyHanko's PDF reader, remembering what it has already read of older revisions.

Verifying a signed copy looks at every revision of the file (24 for a journal copy with 21
signatures). pyHanko's reader keeps the objects of the newest revision once read, but reads
an object of an older revision afresh every time it is asked for (``get_object(ref,
revision)`` "never caches historical refs"), and it finds which xref section holds an object
by trying the sections one by one. Both are the same answer every time: the bytes of a file
at a given place do not change, nor do its xref sections once read.

``SignedFileReader`` remembers them:

- an object read from a given place in the file (an offset, or an index in an object
  stream), keyed by that place and the way it was read, the way pyHanko keeps the objects of
  the newest revision; callers receive the same object, as they do for those;
- the xref lookups by object (``get_last_change``, ``get_introducing_revision``) and by
  object and revision (``get_historical_ref``), including "not there".

Nothing else of pyHanko's reader changes. The tests in ``tests/signing`` verify every
signed and tampered copy through it.
"""

from __future__ import annotations

from typing import Any

from pyhanko.pdf_utils.reader import PdfFileReader

from signing import speedups  # noqa: F401  (installs the faster readers into pyHanko)


class SignedFileReader(PdfFileReader):
    """A ``PdfFileReader`` that reads each place of the file once."""

    def __init__(self, stream, strict: bool = True) -> None:
        super().__init__(stream, strict=strict)
        self._read_at: dict[tuple[Any, ...], Any] = {}
        _remember_lookups(self.xrefs)

    def release(self) -> None:
        """Let go of everything read (when the file has been verified).

        The objects read hold references back to the reader and to each revision's view,
        so they are freed only by Python's cycle collector, whose full runs then walk all of
        them: emptying the caches lets them go at once. (What ``signing.paths`` put on the
        revisions' views goes with ``ObjectGraph.release``.)
        """
        for resolver in self._historical_resolver_cache.values():
            resolver.cache.clear()
        self._historical_resolver_cache.clear()
        self.resolved_objects.clear()
        self._read_at.clear()
        self._embedded_signatures = None

    def _read_object(self, ref, marker, never_decrypt: bool = False,
                     as_metadata_stream: bool = False):
        key = (ref.idnum, ref.generation, marker, never_decrypt, as_metadata_stream)
        try:
            return self._read_at[key]
        except KeyError:
            obj = self._read_at[key] = super()._read_object(
                ref, marker, never_decrypt=never_decrypt, as_metadata_stream=as_metadata_stream)
            return obj


_MISSING = object()


def _remember_lookups(xrefs) -> None:
    """Answer the xref cache's lookups from a table once each has been worked out."""
    for name in ("get_last_change", "get_introducing_revision", "get_historical_ref"):
        lookup = getattr(xrefs, name, None)
        if lookup is not None:  # a later pyHanko without it: its own lookups, only slower
            setattr(xrefs, name, _remembered(lookup))


def _remembered(lookup):
    answers: dict[tuple[Any, ...], Any] = {}

    def remembered(ref, *args):
        key = (ref.idnum, ref.generation, *args)
        answer = answers.get(key, _MISSING)
        if answer is _MISSING:
            try:
                answer = lookup(ref, *args)
            except KeyError:
                answer = KeyError
            answers[key] = answer
        if answer is KeyError:
            raise KeyError(ref)
        return answer

    remembered.__doc__ = lookup.__doc__
    return remembered
