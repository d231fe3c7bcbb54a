"""Atomic file writes: write to a temporary file beside the target, then rename.

A crash (or an exception) while writing leaves the previous file intact and no
partial file behind, because :func:`os.replace` is atomic on POSIX within one
file system.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path that replaces ``path`` when the block succeeds.

    Parameters
    ----------
    path : path-like
        Final destination. Its parent folder is created if needed.
    suffix : str, optional
        Suffix of the temporary file (defaults to the destination's suffix, so that
        drivers that look at the extension, such as GDAL's, pick the right format).

    Yields
    ------
    Path
        A not-yet-existing temporary path in the same folder as ``path``.

    Notes
    -----
    On error the temporary file (and GDAL side-cars such as ``.aux.xml``) is removed
    and the exception propagates; the destination is untouched.
    """
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{dest.name}.tmp-",
        suffix=suffix if suffix is not None else dest.suffix,
        dir=dest.parent,
    )
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # let the writer create it; some drivers refuse existing files
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"writer did not create {tmp}")
        os.replace(tmp, dest)
    finally:
        side_cars = (".aux.xml", "-journal", "-wal", "-shm")
        for leftover in (tmp, *(tmp.with_name(tmp.name + ext) for ext in side_cars)):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
