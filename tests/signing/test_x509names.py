"""The remembered name comparisons are asn1crypto's."""

from __future__ import annotations

import pytest
from asn1crypto import x509

from signing import x509names

NAMES = [
    {"common_name": "Орлова  Вера", "organization_name": "Школа"},
    {"common_name": "орлова вера", "organization_name": "ШКОЛА"},  # equal by RFC 5280
    {"common_name": "Орлов Вера", "organization_name": "Школа"},
    {"common_name": "ＡＢＣ"},  # NFKC: equal to ABC
    {"common_name": "ABC"},
    {"common_name": "a\u00adb"},  # a soft hyphen is mapped away
    {"common_name": "ab"},
    {"organization_name": "Школа", "common_name": "Орлова Вера"},  # another order of RDNs
]


def _names():
    return [x509.Name.build(n) for n in NAMES]


@pytest.mark.parametrize("i", range(len(NAMES)))
def test_the_same_answers_as_asn1crypto(i):
    one = _names()[i]
    for other in _names():
        assert (one == other) is x509names._library_eq(one, other), (NAMES[i], other.native)
        assert (one != other) is (not x509names._library_eq(one, other))
        assert one.hashable == x509names._library_hashable(one)
    assert one != "not a name"


def test_asked_twice_the_same_and_a_refused_name_refused_again():
    one, two = _names()[0], _names()[1]
    assert one == two and one == two
    for _ in range(2):
        bad = x509.Name.build({"common_name": "\ue000"})  # a private use character
        with pytest.raises(ValueError):
            bad == x509.Name.build({"common_name": "x"})  # noqa: B015
        with pytest.raises(ValueError):
            bad.hashable  # noqa: B018


def test_it_is_in_place():
    """If an asn1crypto upgrade changes what this replaces, this fails: look again."""
    assert x509names.install()
    assert x509.Name.__eq__ is x509names._eq
    assert x509names._library_eq is not None and x509names._library_hashable is not None
