"""The dataset's files byte for byte: each file's size and hash, checked against what
``datapackage.json`` records, and one SHA-256 for the whole dataset.

``datapackage.json`` gives every resource its size (``bytes``) and its hash (``hash``, written
``sha256:<hex>`` as the Frictionless Data Resource spec allows; a bare 32-digit hex is MD5 there).
Reading a dataset recomputes both for every file and names the files that no longer match.

The dataset's SHA-256 covers every file of the dataset as it is on disk: it is the SHA-256 of
the listing that ``sha256sum`` prints for those files in name order (``<hex>  <name>`` and a
line feed each), the files being ``datapackage.json``, ``protocol.toml`` and each table's CSV
that exists. So ``sha256sum <the files, sorted> | sha256sum`` in the folder gives it too, and
changing any byte of any of them changes it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from diarytrial.dataset.tables import TABLES

DESCRIPTOR_FILE = "datapackage.json"
PROTOCOL_FILE = "protocol.toml"
DATASET_FILES = tuple(sorted((DESCRIPTOR_FILE, PROTOCOL_FILE, *(t.filename for t in TABLES))))
"""Every file a dataset may hold, in the order the dataset's SHA-256 lists them."""

_CHUNK = 1024 * 1024
HASH_ALGORITHMS = ("md5", "sha1", "sha256", "sha512")
"""Algorithms a recorded ``hash`` may name; diarytrial writes sha256."""
_HASH = re.compile(r"^(?:(?P<algorithm>[A-Za-z0-9-]+):)?(?P<hex>[0-9A-Fa-f]+)$")


class FileReadError(ValueError):
    """A dataset file that cannot be read at all (permissions, a device, an I/O error)."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason


@dataclass(frozen=True)
class FileDigest:
    """One file as it is on disk: its name in the folder, size and SHA-256 (hex)."""

    name: str
    bytes: int
    sha256: str


@dataclass(frozen=True)
class FileMismatch:
    """A file that does not match ``datapackage.json``, and how (a sentence without the name)."""

    name: str
    reason: str


@dataclass(frozen=True)
class DatasetFiles:
    """The files a dataset was read from, and those that changed after it was written."""

    digests: tuple[FileDigest, ...]
    mismatches: tuple[FileMismatch, ...] = ()

    @property
    def sha256(self) -> str:
        """The dataset's SHA-256: of the ``sha256sum`` listing of its files, in name order."""
        listing = "".join(f"{d.sha256}  {d.name}\n" for d in sorted(self.digests, key=_name))
        return hashlib.sha256(listing.encode("utf-8")).hexdigest()

    @property
    def modified(self) -> tuple[str, ...]:
        """Names of the files that no longer match ``datapackage.json``, in name order."""
        return tuple(sorted({m.name for m in self.mismatches}))


def _name(digest: FileDigest) -> str:
    return digest.name


def file_hashes(path: Path, algorithms: Iterable[str] = ("sha256",)) -> tuple[int, dict[str, str]]:
    """Size of the file at `path` and its hex digest under each of `algorithms`, read in chunks."""
    hashers = {name: hashlib.new(name) for name in {"sha256", *algorithms}}
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            size += len(chunk)
            for hasher in hashers.values():
                hasher.update(chunk)
    return size, {name: hasher.hexdigest() for name, hasher in hashers.items()}


def _file_hashes_or_refuse(
    directory: Path, name: str, algorithms: Iterable[str]
) -> tuple[int, dict[str, str]]:
    try:
        return file_hashes(directory / name, algorithms)
    except OSError as error:
        hint = (
            "give the user running diarytrial permission to read it"
            if isinstance(error, PermissionError)
            else "copy the dataset again from where it was written"
        )
        raise FileReadError(name, f"cannot read it ({error.strerror or error}); {hint}") from None


def present_files(directory: Path) -> list[str]:
    """The dataset files (DATASET_FILES) that exist in `directory` as regular files."""
    return [name for name in DATASET_FILES if (directory / name).is_file()]


def dataset_files_check(
    directory: Path, resources: Mapping[str, Mapping[str, Any]]
) -> DatasetFiles:
    """Hash every dataset file in `directory` and compare it with its resource in `resources`.

    `resources` maps a file name to its resource in ``datapackage.json``, each one passing
    :func:`resource_problem`. A file with no
    resource, a resource with no usable ``hash``, a size or hash that differs, and a resource
    whose file is gone are mismatches. ``datapackage.json`` itself is hashed, never checked.
    Raises FileReadError when a file cannot be read.
    """
    digests: list[FileDigest] = []
    mismatches: list[FileMismatch] = []
    for name in present_files(directory):
        resource = resources.get(name)
        expected = _recorded_hash(resource) if resource is not None else ""
        algorithms = [expected[0]] if isinstance(expected, tuple) else []
        size, hexes = _file_hashes_or_refuse(directory, name, algorithms)
        digests.append(FileDigest(name, size, hexes["sha256"]))
        if name == DESCRIPTOR_FILE:
            continue
        if resource is None:
            mismatches.append(
                FileMismatch(name, f"{DESCRIPTOR_FILE} does not list it, so it cannot be checked")
            )
        elif isinstance(expected, str):
            mismatches.append(FileMismatch(name, expected))
        elif hexes[expected[0]] != expected[1] or resource.get("bytes", size) != size:
            mismatches.append(FileMismatch(name, _changed(resource, size, expected[0])))
    for name in sorted(set(resources) - set(present_files(directory)) - {DESCRIPTOR_FILE}):
        mismatches.append(
            FileMismatch(name, f"the file is missing, although {DESCRIPTOR_FILE} lists it")
        )
    return DatasetFiles(tuple(digests), tuple(mismatches))


def _changed(resource: Mapping[str, Any], size: int, algorithm: str) -> str:
    recorded = resource.get("bytes")
    sizes = (
        f" ({size:,} bytes now, {recorded:,} when written)"
        if isinstance(recorded, int) and not isinstance(recorded, bool) and recorded != size
        else ""
    )
    return (
        f"the file changed after the dataset was written: its {algorithm} differs from the one "
        f"{DESCRIPTOR_FILE} records{sizes}"
    )


def resource_problem(resource: Mapping[str, Any]) -> str | None:
    """What is wrong with a resource's ``hash`` or ``bytes`` in ``datapackage.json``, if anything.

    Both may be absent (the file then cannot be checked); when present, ``hash`` is
    ``<algorithm>:<hex>`` or 32 hex digits (MD5), and ``bytes`` a whole number.
    """
    value = resource.get("hash")
    if value is not None:
        match = _HASH.match(value) if isinstance(value, str) else None
        if match is None:
            return f"hash {value!r} is not of the form sha256:<hex digits>"
        algorithm = (match.group("algorithm") or "md5").lower()
        if algorithm not in HASH_ALGORITHMS:
            return f"hash uses {algorithm}, which diarytrial does not check; record sha256:<hex>"
    size = resource.get("bytes")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
        return f"bytes {size!r} is not a whole number of bytes"
    return None


def _recorded_hash(resource: Mapping[str, Any]) -> tuple[str, str] | str:
    """(algorithm, lower-case hex) of the resource's ``hash``, or why the file cannot be checked.

    The resource has passed :func:`resource_problem`.
    """
    match = _HASH.match(str(resource.get("hash") or ""))
    if match is None:
        return f"{DESCRIPTOR_FILE} records no hash for it, so it cannot be checked"
    return (match.group("algorithm") or "md5").lower(), match.group("hex").lower()


def dataset_sha256(directory: str | Path) -> str:
    """The SHA-256 of the dataset in `directory` over all its files as they are now.

    The same value ``read_dataset(directory).files.sha256`` gives (see the module's docstring).
    Raises FileReadError when a file cannot be read.
    """
    folder = Path(directory)
    digests = []
    for name in present_files(folder):
        size, hexes = _file_hashes_or_refuse(folder, name, ())
        digests.append(FileDigest(name, size, hexes["sha256"]))
    return DatasetFiles(tuple(digests)).sha256
