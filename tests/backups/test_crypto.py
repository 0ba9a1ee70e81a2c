"""The backup cryptography: every way a chunk, a slot, a key or a manifest can be wrong is
refused with a message, and the right keys open everything."""

from __future__ import annotations

import pytest

from archive_service.backups import crypto
from archive_service.backups.crypto import BackupCryptoError, HolderKey

FAST = 2**10  # scrypt cost for tests (the default is 2^17)


def test_a_file_round_trips_and_every_misplaced_chunk_is_refused():
    key = crypto.new_data_key()
    data = bytes(range(256)) * 41  # 10,496 bytes: three chunks of 4,096
    chunks = crypto.seal_file(key, data, backup_id="b1", file_id="f1", chunk_size=4096)
    assert len(chunks) == 3
    assert crypto.open_file(key, chunks, backup_id="b1", file_id="f1") == data
    flipped = bytearray(chunks[1])
    flipped[20] ^= 1
    cases = {
        "flipped byte": ([chunks[0], bytes(flipped), chunks[2]], "b1", "f1", "Часть 2"),
        "swapped": ([chunks[1], chunks[0], chunks[2]], "b1", "f1", "Часть 1"),
        "truncated": (chunks[:2], "b1", "f1", "Часть 2"),
        "other file": (chunks, "b1", "f2", "Часть 1 файла f2"),
        "other backup": (chunks, "b2", "f1", "резервной копии b2"),
        "extra chunk": (chunks + [chunks[2]], "b1", "f1", "Часть 3"),
    }
    for name, (pieces, backup, file_id, message) in cases.items():
        with pytest.raises(BackupCryptoError, match=message):
            crypto.open_file(key, pieces, backup_id=backup, file_id=file_id)
        assert name  # every case is refused
    with pytest.raises(BackupCryptoError, match="Часть 1"):
        crypto.open_file(crypto.new_data_key(), chunks, backup_id="b1", file_id="f1")
    with pytest.raises(BackupCryptoError, match="нет ни одной части"):
        crypto.open_file(key, [], backup_id="b1", file_id="f1")
    [empty] = crypto.seal_file(key, b"", backup_id="b1", file_id="e")
    assert crypto.open_file(key, [empty], backup_id="b1", file_id="e") == b""


def test_the_director_and_the_escrow_slot_each_open_the_data_key():
    director, escrow = HolderKey.generate(), HolderKey.generate()
    data_key = crypto.new_data_key()
    slots = {name: crypto.wrap(data_key, holder.public_bytes, backup_id="b1", slot=name)
             for name, holder in (("director", director), ("escrow", escrow))}
    assert crypto.unwrap(slots["director"], director, backup_id="b1") == data_key
    assert crypto.unwrap(slots["escrow"], escrow, backup_id="b1") == data_key
    with pytest.raises(BackupCryptoError, match="не подходит к ячейке «director»"):
        crypto.unwrap(slots["director"], escrow, backup_id="b1")
    with pytest.raises(BackupCryptoError, match="повреждена или подменена"):
        crypto.unwrap(slots["director"], director, backup_id="b2")  # a slot moved elsewhere
    forged = {**slots["escrow"], "slot": "director"}
    with pytest.raises(BackupCryptoError, match="повреждена или подменена"):
        crypto.unwrap(forged, escrow, backup_id="b1")


def test_the_directors_code_locks_the_key_and_the_escrow_key_survives_paper():
    director = HolderKey.generate()
    locked = director.lock("код директора 2025", n=FAST)
    assert "код" not in str(locked) and director.private_bytes.hex() not in str(locked)
    assert HolderKey.unlock(locked, "код директора 2025", ).public_bytes == director.public_bytes
    with pytest.raises(BackupCryptoError, match="Неверный код директора"):
        HolderKey.unlock(locked, "код директора 2026")
    with pytest.raises(BackupCryptoError, match="не меньше 8 знаков"):
        director.lock("1234", n=FAST)
    escrow = HolderKey.generate()
    paper = escrow.to_paper()
    assert len(paper.replace(" ", "")) == 52
    assert HolderKey.from_paper(paper.lower()).private_bytes == escrow.private_bytes
    with pytest.raises(BackupCryptoError, match="переписан полностью"):
        HolderKey.from_paper(paper[:-5])


def test_a_forged_or_changed_manifest_is_refused():
    school = crypto.new_signing_key()
    manifest = {"backup": "b1", "files": [{"id": "f1", "size": 10, "sha256": "ab" * 32}]}
    signed = crypto.sign_manifest(manifest, school)
    assert crypto.check_manifest(signed, school.public_key()) == manifest
    changed = {**signed, "manifest": {**manifest, "files": []}}
    with pytest.raises(BackupCryptoError, match="не подписана ключом школы"):
        crypto.check_manifest(changed, school.public_key())
    forged = crypto.sign_manifest(manifest, crypto.new_signing_key())
    with pytest.raises(BackupCryptoError, match="не подписана ключом школы"):
        crypto.check_manifest(forged, school.public_key())


def test_object_secrets_open_only_for_their_holders_and_their_name():
    director, escrow, stranger = HolderKey.generate(), HolderKey.generate(), HolderKey.generate()
    wrapper = crypto.ObjectWrapper({"director": director.public_bytes,
                                    "escrow": escrow.public_bytes})
    secret = crypto.new_object_secret()
    wrapped = wrapper.wrap(secret, "data/ab/x")
    assert crypto.ObjectUnwrapper(director, "director").unwrap(wrapped, "data/ab/x") == secret
    assert crypto.ObjectUnwrapper(escrow, "escrow").unwrap(wrapped, "data/ab/x") == secret
    with pytest.raises(BackupCryptoError, match="не открывается этим ключом"):
        crypto.ObjectUnwrapper(stranger, "director").unwrap(wrapped, "data/ab/x")
    with pytest.raises(BackupCryptoError, match="не открывается этим ключом"):
        crypto.ObjectUnwrapper(director, "director").unwrap(wrapped, "data/ab/y")  # moved
    with pytest.raises(BackupCryptoError, match="не завёрнут для ячейки"):
        crypto.ObjectUnwrapper(director, "other").unwrap(wrapped, "data/ab/x")
    # The erasure share is half of the key: without it (or with another) the key differs.
    share = crypto.new_share()
    key = crypto.object_key(secret, share)
    assert key != crypto.object_key(secret, crypto.new_share())
    assert key != crypto.object_key(secret, b"") and key != secret


def test_a_lock_carries_the_retired_keys_behind_the_current_one():
    old, current = HolderKey.generate(), HolderKey.generate()
    locked = current.lock("новый-код-2027", n=FAST, earlier=(old,))
    both = HolderKey.unlock_all(locked, "новый-код-2027")
    assert [k.public_bytes for k in both] == [current.public_bytes, old.public_bytes]
    assert HolderKey.unlock(locked, "новый-код-2027").public_bytes == current.public_bytes
    with pytest.raises(BackupCryptoError, match="Неверный код"):
        HolderKey.unlock_all(locked, "старый-код-2026")
