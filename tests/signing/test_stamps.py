"""RFC 3161 timestamps over bytes (the audit checkpoints): every way a token can be wrong
is refused with its reason, and a good one proves the bytes and the time."""

from __future__ import annotations

import datetime as dt

from signing import pades, pki, stamps


def _school(name: str):
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    root = pki.create_root(name, now=now)
    tsa = pki.issue_tsa(root, school=name, now=now)
    return root, pades.school_timestamper(tsa, [root.certificate])


def test_a_token_proves_exactly_its_bytes_from_its_school():
    root, stamper = _school("Школа № 1")
    other_root, other_stamper = _school("Школа № 2")
    data = b'{"heads": {"1": {"seq": 5}}}'
    token = stamps.timestamp(data, stamper)
    good = stamps.check_timestamp(data, token, roots=[root.certificate])
    assert good.ok and "TSA Школа № 1" in good.tsa
    assert abs(good.at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
    changed = stamps.check_timestamp(data + b" ", token, roots=[root.certificate])
    assert not changed.ok and "текст изменён после штампа" in changed.reason
    foreign = stamps.check_timestamp(data, stamps.timestamp(data, other_stamper),
                                     roots=[root.certificate])
    assert not foreign.ok and "не службой времени этой школы" in foreign.reason
    assert other_root is not root
    garbage = stamps.check_timestamp(data, b"\x30\x03\x02\x01\x00", roots=[root.certificate])
    assert not garbage.ok and "повреждён" in garbage.reason
    flipped = bytearray(token)
    flipped[-40] ^= 1  # inside the TSA's signature value
    broken = stamps.check_timestamp(data, bytes(flipped), roots=[root.certificate])
    assert not broken.ok and broken.reason


def test_stamping_works_from_inside_a_running_event_loop():
    """An asynchronous worker task or a browser-driving test has a loop running."""
    import asyncio

    root, stamper = _school("Школа № 3")

    async def inside() -> bool:
        token = stamps.timestamp(b"x", stamper)
        return stamps.check_timestamp(b"x", token, roots=[root.certificate]).ok

    assert asyncio.run(inside())
