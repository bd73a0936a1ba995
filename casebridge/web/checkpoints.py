"""Signed checkpoints of the access trail: its size and Merkle root, signed with Ed25519.

A checkpoint is a C2SP signed note (c2sp.org/signed-note) whose text is a C2SP checkpoint
(c2sp.org/tlog-checkpoint) with the time it was signed as an extension line::

    casebridge.trail
    1200
    <base64 of the 32-byte Merkle root>
    time 2026-12-07T09:14:03Z

    — casebridge.trail <base64 of the 4-byte key hash and the 64-byte signature>

The signing key lives in a PEM file outside the database: ``CASEBRIDGE_TRAIL_KEY`` names it,
or else ``W/service-keys/trail-ed25519.pem``, made (owner-only) on first use. A key's id is the
SHA-256 of its 32 public bytes. Rotation keeps each retired public key beside the current one
(``trail-ed25519-<id>.pub.pem``) so that old checkpoints still verify.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy.orm import Session, sessionmaker

from casebridge.errors import CasebridgeError
from casebridge.web.config import ServiceSettings
from casebridge.web.models import TrailCheckpoint, utc_now
from casebridge.web.trail import APPEND_LISTENER, as_utc, head_frontier, locked_head

ORIGIN = "casebridge.trail"
KEY_VARIABLE = "CASEBRIDGE_TRAIL_KEY"
KEY_FOLDER = "service-keys"
KEY_FILE = "trail-ed25519.pem"
RETIRED_PATTERN = "trail-ed25519-*.pub.pem"
# the signed-note signature type of an Ed25519 key (c2sp.org/signed-note)
ED25519_NOTE_TYPE = b"\x01"
SIGNATURE_DASH = "\u2014"


class TrailKeyError(CasebridgeError):
    """Raised when the trail's signing key or a public key cannot be read or written."""


class CheckpointFormatError(CasebridgeError):
    """Raised when a checkpoint file is not a signed checkpoint of the access trail."""


def key_path(workspace: Path) -> Path:
    """The signing key's file: ``CASEBRIDGE_TRAIL_KEY``, or the workspace's service-keys/."""
    given = os.environ.get(KEY_VARIABLE, "").strip()
    return Path(given) if given else workspace / KEY_FOLDER / KEY_FILE


def key_id(public: Ed25519PublicKey) -> str:
    """A public key's id: the SHA-256 of its 32 raw bytes, in hex."""
    return hashlib.sha256(_raw(public)).hexdigest()


def note_key_hash(public: Ed25519PublicKey) -> bytes:
    """The 4-byte key hash a signed note's signature line starts with."""
    return hashlib.sha256(ORIGIN.encode() + b"\n" + ED25519_NOTE_TYPE + _raw(public)).digest()[:4]


def note_verifier_key(public: Ed25519PublicKey) -> str:
    """The key as signed-note tools take it (``name+hash+key``), e.g. Go's sumdb/note."""
    encoded = base64.b64encode(ED25519_NOTE_TYPE + _raw(public)).decode()
    return f"{ORIGIN}+{note_key_hash(public).hex()}+{encoded}"


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_pem(public: Ed25519PublicKey) -> str:
    """The public key as PEM (SubjectPublicKeyInfo), to give an outsider who verifies."""
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def signing_key(path: Path) -> Ed25519PrivateKey:
    """The private key in ``path``, made there (readable by its owner only) if it is new."""
    if not path.exists():
        try:
            _write_new_key(path, Ed25519PrivateKey.generate())
        except FileExistsError:  # another process made it first: use theirs
            pass
        except OSError:
            raise TrailKeyError(
                f"cannot make the trail signing key {path}; let the service's account write "
                f"there, or name another file in {KEY_VARIABLE}"
            ) from None
    return load_signing_key(path)


def load_signing_key(path: Path) -> Ed25519PrivateKey:
    """The private key in ``path``, which must exist."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise TrailKeyError(
            f"no trail signing key at {path}; start the service once or run "
            "'casebridge trail checkpoint' to make one"
        ) from None
    except (OSError, ValueError, TypeError):
        raise TrailKeyError(
            f"{path} is not an unencrypted PEM private key; restore the trail key from its backup"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise TrailKeyError(f"{path} holds a key that is not Ed25519; give the trail's Ed25519 key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """An Ed25519 public key from a PEM file (as ``casebridge trail public-key`` writes)."""
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except OSError:
        raise TrailKeyError(f"cannot read the public key file {path}; check its path") from None
    except ValueError:
        raise TrailKeyError(
            f"{path} is not a PEM public key; export one with 'casebridge trail public-key'"
        ) from None
    if not isinstance(key, Ed25519PublicKey):
        raise TrailKeyError(f"{path} holds a key that is not Ed25519; give the trail's public key")
    return key


def _write_new_key(path: Path, key: Ed25519PrivateKey, replace: bool = False) -> None:
    """Write ``key`` to ``path``, owner-only; with ``replace``, atomically over the old one."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    target = path.with_name(path.name + ".new") if replace else path
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)
    if replace:
        os.replace(target, path)


def retired_key_path(path: Path, public: Ed25519PublicKey) -> Path:
    """Where a retired key's public half is kept: beside the signing key."""
    return path.with_name(f"trail-ed25519-{key_id(public)[:16]}.pub.pem")


def rotate_key(path: Path) -> tuple[Ed25519PublicKey, Ed25519PublicKey]:
    """Retire the key in ``path`` (its public half is kept beside it, the private half goes)
    and put a new one in its place. Gives the old and the new public keys."""
    old = load_signing_key(path).public_key()
    retired_key_path(path, old).write_text(public_pem(old), encoding="utf-8")
    new = Ed25519PrivateKey.generate()
    _write_new_key(path, new, replace=True)
    return old, new.public_key()


def trusted_keys(path: Path, given: Sequence[Path] = ()) -> dict[str, Ed25519PublicKey]:
    """The public keys checkpoints are checked with, by key id: the ``given`` files only, when
    any are given (an outsider's own copies); else the workspace's current and retired keys."""
    if given:
        keys = [load_public_key(file) for file in given]
    else:
        keys = [load_public_key(file) for file in sorted(path.parent.glob(RETIRED_PATTERN))]
        if path.exists():
            keys.append(load_signing_key(path).public_key())
    return {key_id(key): key for key in keys}


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement that the trail held ``tree_size`` entries with Merkle root ``root``."""

    tree_size: int
    root: bytes
    at: dt.datetime
    key_id: str
    signature: bytes

    def body(self) -> str:
        """The signed text (a C2SP checkpoint with the time as an extension line)."""
        return checkpoint_body(self.tree_size, self.root, self.at)

    def note(self, public: Ed25519PublicKey) -> str:
        """The checkpoint as a signed note, to keep somewhere the service cannot write."""
        signature = base64.b64encode(note_key_hash(public) + self.signature).decode()
        return f"{self.body()}\n{SIGNATURE_DASH} {ORIGIN} {signature}\n"

    def signature_problem(self, keys: dict[str, Ed25519PublicKey]) -> str | None:
        """Why the signature does not hold with ``keys``; None when it holds."""
        public = keys.get(self.key_id)
        if public is None:
            return (
                f"signed by key {self.key_id[:16]}, which is not among the public keys given; "
                "give it with --public-key"
            )
        try:
            public.verify(self.signature, self.body().encode())
        except InvalidSignature:
            return f"its signature does not verify with key {self.key_id[:16]}"
        return None


def checkpoint_body(tree_size: int, root: bytes, at: dt.datetime) -> str:
    """The text a checkpoint signs."""
    moment = as_utc(at).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{ORIGIN}\n{tree_size}\n{base64.b64encode(root).decode()}\ntime {moment}\n"


def sign(key: Ed25519PrivateKey, tree_size: int, root: bytes) -> Checkpoint:
    """A checkpoint of ``tree_size`` entries with ``root``, signed now with ``key``."""
    at = utc_now().replace(microsecond=0)
    signature = key.sign(checkpoint_body(tree_size, root, at).encode())
    return Checkpoint(tree_size, root, at, key_id(key.public_key()), signature)


def stored(checkpoint: TrailCheckpoint) -> Checkpoint:
    """A stored checkpoint row as a checkpoint (the row keeps everything but the text)."""
    try:
        root = bytes.fromhex(checkpoint.root_hash)
        signature = base64.b64decode(checkpoint.signature, validate=True)
    except (ValueError, binascii.Error):
        root, signature = b"", b""  # a mangled row: its signature will not verify
    return Checkpoint(
        checkpoint.tree_size, root, as_utc(checkpoint.at), checkpoint.key_id, signature
    )


def save(session: Session, checkpoint: Checkpoint) -> TrailCheckpoint:
    """Store ``checkpoint`` in the caller's transaction."""
    row = TrailCheckpoint(
        tree_size=checkpoint.tree_size,
        root_hash=checkpoint.root.hex(),
        at=checkpoint.at,
        key_id=checkpoint.key_id,
        signature=base64.b64encode(checkpoint.signature).decode(),
    )
    session.add(row)
    session.flush()
    return row


def checkpoint_now(session: Session, key: Ed25519PrivateKey) -> TrailCheckpoint:
    """Sign and store a checkpoint of the trail as it stands, its head locked meanwhile."""
    frontier = head_frontier(locked_head(session))
    return save(session, sign(key, frontier.size, frontier.root()))


@dataclass(frozen=True)
class Checkpointer:
    """Signs a checkpoint after every ``every`` appends, with the key in ``path``."""

    path: Path
    every: int

    def appended(self, session: Session, size: int, root: bytes) -> None:
        """Sign a checkpoint when ``size`` is a multiple of ``every``."""
        if size % self.every == 0:
            save(session, sign(signing_key(self.path), size, root))


def install(factory: sessionmaker[Session], settings: ServiceSettings) -> None:
    """Make every session of ``factory`` sign checkpoints as the settings say."""
    info = dict(factory.kw.get("info") or {})
    info[APPEND_LISTENER] = Checkpointer(key_path(settings.workspace), settings.checkpoint_every)
    factory.configure(info=info)


@dataclass(frozen=True)
class SignedNote:
    """A checkpoint read from a signed note: what it states and the signatures it carries."""

    tree_size: int
    root: bytes
    at: dt.datetime
    body: str
    # (4-byte key hash, 64-byte signature) for each signature line naming the trail
    signatures: tuple[tuple[bytes, bytes], ...]

    def signed_with(self, keys: Iterable[Ed25519PublicKey]) -> Checkpoint | None:
        """The checkpoint, if one of ``keys`` signed it; None otherwise."""
        for public in keys:
            for key_hash, signature in self.signatures:
                if key_hash != note_key_hash(public):
                    continue
                try:
                    public.verify(signature, self.body.encode())
                except InvalidSignature:
                    continue
                return Checkpoint(self.tree_size, self.root, self.at, key_id(public), signature)
        return None


def read_note(text: str, source: str) -> SignedNote:
    """A signed checkpoint from the text of a file (``source`` names it in errors)."""
    body, separator, signature_block = text.partition("\n\n")
    lines = (body + "\n").split("\n")[:-1] if separator else []
    if len(lines) < 4 or lines[0] != ORIGIN or not lines[3].startswith("time "):
        raise CheckpointFormatError(
            f"{source} is not a checkpoint of the access trail; export one with "
            "'casebridge trail checkpoint --out FILE'"
        )
    try:
        tree_size = int(lines[1])
        root = base64.b64decode(lines[2], validate=True)
        at = dt.datetime.strptime(lines[3].removeprefix("time "), "%Y-%m-%dT%H:%M:%SZ")
    except (ValueError, binascii.Error):
        raise CheckpointFormatError(
            f"{source}: its size, root or time line is malformed; export it again"
        ) from None
    return SignedNote(
        tree_size, root, at.replace(tzinfo=dt.UTC), body + "\n", _signatures(signature_block)
    )


def _signatures(block: str) -> tuple[tuple[bytes, bytes], ...]:
    found = []
    for line in block.splitlines():
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != SIGNATURE_DASH or parts[1] != ORIGIN:
            continue
        try:
            decoded = base64.b64decode(parts[2], validate=True)
        except binascii.Error:
            continue
        found.append((decoded[:4], decoded[4:]))
    return tuple(found)
