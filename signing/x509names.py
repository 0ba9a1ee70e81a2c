"""Comparisons of X.509 names, worked out once per pair of encodings.

Verifying a signature compares names over and over: its issuer against the certificate's,
a timestamp's ESS certificate identifier against the TSA certificate, every certificate's
issuer against the trust roots while building its path. asn1crypto compares two names by RFC
5280 (7.1): every attribute value is prepared by RFC 4518 (``NameTypeAndValue.
_ldap_string_prep``: character mapping, NFKC, prohibited and bidirectional characters), in
pure Python, and that preparation is kept only on the parsed object. Every signature and
every timestamp token of a copy carries its own parsed copies of the school's names, so a
copy with 21 signatures had the same few names prepared hundreds of times.

The outcome of a comparison is a function of the two encodings alone, and so is a name's
``hashable`` form (the prepared values, used as a dictionary key), so ``install()`` puts a
bounded memory of both in front of asn1crypto's: keyed by the DER of the names, filled by
asn1crypto's own code. A name asn1crypto refuses to prepare (``ValueError``) is refused
again each time. If asn1crypto no longer has these methods, nothing is replaced (only
slower), and ``tests/signing/test_x509names.py`` fails so that someone looks.
"""

from __future__ import annotations

from typing import Any

from asn1crypto import x509

_LIMIT = 4096  # a school's names are a few dozen; this bounds a long-running process
_library_eq: Any = x509.Name.__dict__.get("__eq__")
_library_hashable: Any = getattr(x509.Name.__dict__.get("hashable"), "fget", None)
_equal: dict[tuple[bytes, bytes], bool] = {}
_hashable: dict[bytes, str] = {}


def _eq(self: x509.Name, other: object) -> bool:
    if not isinstance(other, x509.Name):
        return False
    key = (self.dump(), other.dump())
    answer = _equal.get(key)
    if answer is None:
        answer = _library_eq(self, other)
        if len(_equal) < _LIMIT:
            _equal[key] = answer
    return answer


def _hashable_of(self: x509.Name) -> str:
    key = self.dump()
    answer = _hashable.get(key)
    if answer is None:
        answer = _library_hashable(self)
        if len(_hashable) < _LIMIT:
            _hashable[key] = answer
    return answer


def install() -> bool:
    """Answer asn1crypto's name comparisons from the memory; whether it does."""
    if _library_eq is None or _library_hashable is None:
        return False
    x509.Name.__eq__ = _eq  # asn1crypto's __ne__ is ``not self == other``: it follows
    x509.Name.hashable = property(_hashable_of, doc=_library_hashable.__doc__)
    return True
