"""The cryptography of a backup (issue 6, first part): key slots, chunk sealing, manifests.

Pure functions over bytes (no database, no storage), so every rule is unit-tested:

* **Data key.** Every backup has a fresh random 256-bit data key. Chunks are sealed with
  AES-256-GCM under it; the associated data binds the backup id, the file id, the chunk's
  position and whether it is the last chunk, so a chunk moved to another place, another file
  or another backup, or a file cut short after any chunk, fails to open.
* **Key slots.** The data key is wrapped for each holder's X25519 public key (an ephemeral
  key agreement, HKDF-SHA256, AES-256-GCM with the backup id and slot name as associated
  data): the director's slot and the escrow slot. Scheduled backups need only the public
  keys; the server never holds the director's code.
* **Holder keys at rest.** The director's private key is stored encrypted under the
  director's code with scrypt (N=2^17, r=8, p=1 by default: ~0.3 s, 128 MiB) and AES-256-GCM.
  The escrow private key is printed (raw 32 bytes as text) and kept in the safe.
* **Object keys (issue 30).** Every stored object has its own random key, made from two
  parts: a *secret* wrapped for the director's and the escrow public key (``ObjectWrapper``:
  one ephemeral X25519 agreement per holder per run, AES-256-GCM per object with the
  object's name as associated data) and an *erasure share* kept outside the backups'
  immutable parts (``object_key``). The server keeps only the wrapped form, so neither the
  server nor its database opens an object; an executed act deletes the shares of what it
  destroyed, so no backup, earlier or later, opens those objects again.
* **Manifest.** The list of files with sizes and hashes is signed with the school's Ed25519
  backup key, so nobody holding only the public keys can forge or swap a backup.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

CHUNK_SIZE = 4 * 1024 * 1024
NONCE = 12
SCRYPT_N = 2**17


class BackupCryptoError(Exception):
    """A backup piece does not open or does not verify (message in Russian, for people)."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def new_data_key() -> bytes:
    """A fresh random AES-256 key for one backup."""
    return AESGCM.generate_key(bit_length=256)


# --- chunks ----------------------------------------------------------------------------------

def _chunk_aad(backup_id: str, file_id: str, index: int, last: bool) -> bytes:
    return json.dumps(["chunk", backup_id, file_id, index, last],
                      separators=(",", ":")).encode()


def seal_chunk(key: bytes, plaintext: bytes, *, backup_id: str, file_id: str, index: int,
               last: bool) -> bytes:
    """nonce || AES-256-GCM(plaintext) with the chunk's place as associated data."""
    nonce = os.urandom(NONCE)
    return nonce + AESGCM(key).encrypt(nonce, plaintext,
                                       _chunk_aad(backup_id, file_id, index, last))


def open_chunk(key: bytes, sealed: bytes, *, backup_id: str, file_id: str, index: int,
               last: bool) -> bytes:
    """The plaintext, or an error naming the chunk (changed, moved, or not where it was)."""
    try:
        return AESGCM(key).decrypt(sealed[:NONCE], sealed[NONCE:],
                                   _chunk_aad(backup_id, file_id, index, last))
    except (InvalidTag, ValueError):
        raise BackupCryptoError(
            f"Часть {index + 1} файла {file_id} резервной копии {backup_id} не открывается: "
            "она изменена, переставлена или взята из другой копии.") from None


def seal_file(key: bytes, data: bytes, *, backup_id: str, file_id: str,
              chunk_size: int = CHUNK_SIZE) -> list[bytes]:
    """A file as sealed chunks (an empty file is one empty last chunk)."""
    count = max(1, -(-len(data) // chunk_size))
    return [seal_chunk(key, data[i * chunk_size:(i + 1) * chunk_size], backup_id=backup_id,
                       file_id=file_id, index=i, last=i == count - 1) for i in range(count)]


def open_file(key: bytes, chunks: list[bytes], *, backup_id: str, file_id: str) -> bytes:
    """The file from its sealed chunks; a missing tail or an extra chunk is refused."""
    if not chunks:
        raise BackupCryptoError(f"У файла {file_id} резервной копии {backup_id} нет ни одной "
                                "части.")
    return b"".join(open_chunk(key, c, backup_id=backup_id, file_id=file_id, index=i,
                               last=i == len(chunks) - 1) for i, c in enumerate(chunks))


# --- holder keys and slots -------------------------------------------------------------------

@dataclass(frozen=True)
class HolderKey:
    """A key holder's X25519 key pair (the director's or the escrow key)."""

    private: X25519PrivateKey

    @classmethod
    def generate(cls) -> HolderKey:
        return cls(X25519PrivateKey.generate())

    @property
    def public_bytes(self) -> bytes:
        return self.private.public_key().public_bytes(serialization.Encoding.Raw,
                                                      serialization.PublicFormat.Raw)

    @property
    def private_bytes(self) -> bytes:
        return self.private.private_bytes(serialization.Encoding.Raw,
                                          serialization.PrivateFormat.Raw,
                                          serialization.NoEncryption())

    def lock(self, passphrase: str, *, n: int = SCRYPT_N, context: bytes = b"",
             earlier: tuple[HolderKey, ...] = ()) -> dict[str, Any]:
        """The private key encrypted under a passphrase (scrypt + AES-256-GCM).

        ``context`` is authenticated with it (stored in clear): the backups bind the school's
        manifest key here, so opening the director's key with the right code also proves
        which manifest key is genuine. ``earlier``: the director's retired key pairs, locked
        with it, so that the current code still opens the backups made before a change
        (a backup keeps the lock of its day, which opens only with the code of its day).
        """
        if len(passphrase) < 8:
            raise BackupCryptoError("Код директора слишком короткий: нужно не меньше 8 знаков.")
        salt, nonce = os.urandom(16), os.urandom(NONCE)
        kek = Scrypt(salt=salt, length=32, n=n, r=8, p=1).derive(passphrase.encode())
        return {"kdf": "scrypt", "n": n, "r": 8, "p": 1, "salt": _b64(salt),
                "nonce": _b64(nonce), "public": _b64(self.public_bytes),
                "context": _b64(context),
                "key": _b64(AESGCM(kek).encrypt(
                    nonce, self.private_bytes + b"".join(k.private_bytes for k in earlier),
                    b"holder-key" + context))}

    @classmethod
    def unlock(cls, locked: dict[str, Any], passphrase: str) -> HolderKey:
        """The key back from ``lock``; a wrong passphrase is refused, nothing else said."""
        return cls.unlock_all(locked, passphrase)[0]

    @classmethod
    def unlock_all(cls, locked: dict[str, Any], passphrase: str) -> list[HolderKey]:
        """The current key and the earlier ones locked with it (current first)."""
        kek = Scrypt(salt=_unb64(locked["salt"]), length=32, n=locked["n"], r=locked["r"],
                     p=locked["p"]).derive(passphrase.encode())
        try:
            raw = AESGCM(kek).decrypt(_unb64(locked["nonce"]), _unb64(locked["key"]),
                                      b"holder-key" + _unb64(locked.get("context", "")))
        except InvalidTag:
            raise BackupCryptoError("Неверный код директора: ключ резервных копий не "
                                    "открывается.") from None
        keys = [cls(X25519PrivateKey.from_private_bytes(raw[i:i + 32]))
                for i in range(0, len(raw), 32)]
        if keys[0].public_bytes != _unb64(locked["public"]):
            raise BackupCryptoError("Ячейка ключа директора повреждена: открытый ключ не "
                                    "совпадает с закрытым.")
        return keys

    @classmethod
    def from_paper(cls, text: str) -> HolderKey:
        """The escrow key from its printed form (base32, spaces and case ignored)."""
        cleaned = "".join(text.split()).upper()
        try:
            raw = base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
        except ValueError:
            raw = b""
        if len(raw) != 32:
            raise BackupCryptoError("Ключ восстановления прочитан с ошибкой: проверьте, что "
                                    "он переписан полностью (52 знака).")
        return cls(X25519PrivateKey.from_private_bytes(raw))

    def to_paper(self) -> str:
        """The private key as 52 base32 characters in groups of four, for printing."""
        text = base64.b32encode(self.private_bytes).decode().rstrip("=")
        return " ".join(text[i:i + 4] for i in range(0, len(text), 4))


def _slot_kek(shared: bytes, ephemeral: bytes, recipient: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=ephemeral + recipient,
                info=b"school-archive backup slot v1").derive(shared)


def wrap(data_key: bytes, recipient_public: bytes, *, backup_id: str, slot: str
         ) -> dict[str, str]:
    """The data key wrapped for one holder (ephemeral X25519 + HKDF + AES-256-GCM)."""
    ephemeral = X25519PrivateKey.generate()
    eph_pub = ephemeral.public_key().public_bytes(serialization.Encoding.Raw,
                                                  serialization.PublicFormat.Raw)
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient_public))
    nonce = os.urandom(NONCE)
    sealed = AESGCM(_slot_kek(shared, eph_pub, recipient_public)).encrypt(
        nonce, data_key, json.dumps(["slot", backup_id, slot]).encode())
    return {"slot": slot, "recipient": _b64(recipient_public), "ephemeral": _b64(eph_pub),
            "nonce": _b64(nonce), "key": _b64(sealed)}


def unwrap(slot: dict[str, str], holder: HolderKey, *, backup_id: str) -> bytes:
    """The data key from a slot with the holder's private key."""
    if _unb64(slot["recipient"]) != holder.public_bytes:
        raise BackupCryptoError(f"Этот ключ не подходит к ячейке «{slot['slot']}» резервной "
                                f"копии {backup_id}.")
    eph = _unb64(slot["ephemeral"])
    shared = holder.private.exchange(X25519PublicKey.from_public_bytes(eph))
    try:
        return AESGCM(_slot_kek(shared, eph, holder.public_bytes)).decrypt(
            _unb64(slot["nonce"]), _unb64(slot["key"]),
            json.dumps(["slot", backup_id, slot["slot"]]).encode())
    except InvalidTag:
        raise BackupCryptoError(f"Ячейка ключа «{slot['slot']}» резервной копии {backup_id} "
                                "повреждена или подменена.") from None


# --- object keys -----------------------------------------------------------------------------

def new_object_secret() -> bytes:
    """The wrapped half of a new object's key."""
    return os.urandom(32)


def new_share() -> bytes:
    """The erasure share of a new object's key (kept outside the immutable backups)."""
    return os.urandom(32)


def object_key(secret: bytes, share: bytes) -> bytes:
    """An object's AES-256 key from its wrapped secret and its erasure share (empty for the
    objects no act can destroy: the database's own pieces)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=share or None,
                info=b"school-archive object key v2").derive(secret)


class ObjectWrapper:
    """Wraps object secrets for the holders' public keys during one backup run.

    One ephemeral X25519 agreement per holder per run (not per object): each object's
    secret is then sealed with AES-256-GCM under the run's key for that holder, the
    object's name bound as associated data. The ephemeral private key lives only in this
    object: once the run ends, nobody but the holders can unwrap.
    """

    def __init__(self, recipients: dict[str, bytes]) -> None:
        ephemeral = X25519PrivateKey.generate()
        self.ephemeral = ephemeral.public_key().public_bytes(serialization.Encoding.Raw,
                                                             serialization.PublicFormat.Raw)
        self._keks = {slot: _wrap_kek(ephemeral.exchange(X25519PublicKey.from_public_bytes(p)),
                                      self.ephemeral, p)
                      for slot, p in recipients.items()}

    def wrap(self, secret: bytes, name: str) -> dict[str, str]:
        out = {"ephemeral": _b64(self.ephemeral)}
        for slot, kek in self._keks.items():
            nonce = os.urandom(NONCE)
            out[slot] = _b64(nonce + AESGCM(kek).encrypt(nonce, secret,
                                                          b"object-secret:" + name.encode()))
        return out


def _wrap_kek(shared: bytes, ephemeral: bytes, recipient: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=ephemeral + recipient,
                info=b"school-archive object wrap v2").derive(shared)


class ObjectUnwrapper:
    """Unwraps object secrets with one holder's private key (one agreement per run)."""

    def __init__(self, holder: HolderKey, slot: str) -> None:
        self.holder, self.slot = holder, slot
        self._keks: dict[str, bytes] = {}

    def unwrap(self, wrapped: dict[str, str], name: str) -> bytes:
        if self.slot not in wrapped:
            raise BackupCryptoError(f"Ключ объекта {name} не завёрнут для ячейки "
                                    f"«{self.slot}».")
        eph = wrapped["ephemeral"]
        kek = self._keks.get(eph)
        if kek is None:
            shared = self.holder.private.exchange(X25519PublicKey.from_public_bytes(
                _unb64(eph)))
            kek = self._keks[eph] = _wrap_kek(shared, _unb64(eph), self.holder.public_bytes)
        sealed = _unb64(wrapped[self.slot])
        try:
            return AESGCM(kek).decrypt(sealed[:NONCE], sealed[NONCE:],
                                       b"object-secret:" + name.encode())
        except InvalidTag:
            raise BackupCryptoError(f"Ключ объекта {name} не открывается этим ключом "
                                    f"(ячейка «{self.slot}»): объект сделан с другими "
                                    "ключами или подменён.") from None


# --- manifests -------------------------------------------------------------------------------

def canonical(manifest: dict[str, Any]) -> bytes:
    """The bytes that are signed: sorted keys, no spaces, UTF-8."""
    return json.dumps(manifest, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":")).encode()


def sign_manifest(manifest: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    """The manifest with its Ed25519 signature."""
    return {"manifest": manifest, "signature": _b64(key.sign(canonical(manifest)))}


def check_manifest(signed: dict[str, Any], public: Ed25519PublicKey) -> dict[str, Any]:
    """The manifest if the school's backup key signed exactly it; otherwise refused."""
    try:
        public.verify(_unb64(signed["signature"]), canonical(signed["manifest"]))
    except (InvalidSignature, KeyError, ValueError):
        raise BackupCryptoError("Опись резервной копии не подписана ключом школы или изменена "
                                "после подписи: копия отвергнута.") from None
    return signed["manifest"]


def new_signing_key() -> Ed25519PrivateKey:
    """The school's backup manifest key."""
    return Ed25519PrivateKey.generate()
