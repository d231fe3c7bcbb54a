"""The chunk grid of a tiled run and padded window reads from its Zarr stores."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import zarr

from klimakort.errors import ParameterError

__all__ = ["ChunkGrid", "Lines", "create_store", "read_padded", "write_window"]

MAX_CHUNK = 16000  # tile-local fill labels are uint16 (see core.fill_tiled)


@dataclass(frozen=True)
class ChunkGrid:
    """Regular chunks of ``size`` x ``size`` cells (the last row/column may be smaller)."""

    nr: int
    nc: int
    size: int

    def __post_init__(self) -> None:
        if not (8 <= self.size <= MAX_CHUNK):
            raise ParameterError(
                f"chunks={self.size} must be between 8 and {MAX_CHUNK} cells per side."
            )

    @property
    def rows(self) -> np.ndarray:
        """Chunk row starts, then ``nr``."""
        return np.append(np.arange(0, self.nr, self.size), self.nr)

    @property
    def cols(self) -> np.ndarray:
        """Chunk column starts, then ``nc``."""
        return np.append(np.arange(0, self.nc, self.size), self.nc)

    @property
    def shape(self) -> tuple[int, int]:
        """Number of chunk rows and columns."""
        return len(self.rows) - 1, len(self.cols) - 1

    @property
    def n(self) -> int:
        """Number of chunks."""
        return self.shape[0] * self.shape[1]

    def window(self, t: int) -> tuple[int, int, int, int]:
        """(r0, r1, c0, c1) of chunk ``t`` (row-major chunk index)."""
        ntc = self.shape[1]
        i, j = divmod(t, ntc)
        rows, cols = self.rows, self.cols
        return int(rows[i]), int(rows[i + 1]), int(cols[j]), int(cols[j + 1])

    def readers(self, t: int, sides: tuple[bool, bool, bool, bool]) -> list[int]:
        """The chunks whose :meth:`Lines.ring` holds cells of chunk ``t``'s changed
        (top, bottom, left, right) strips: the three chunks above a changed top row,
        below a changed bottom row, left of a changed left column, right of a changed
        right column (a strip's end cells are the corner cells of the diagonal chunks).
        """
        ntr, ntc = self.shape
        i, j = divmod(t, ntc)
        top, bottom, left, right = sides
        out: set[int] = set()
        for di in (-1, 0, 1):
            for dj in (-1, 0, 1):
                ii, jj = i + di, j + dj
                if not (di or dj) or not (0 <= ii < ntr and 0 <= jj < ntc):
                    continue
                vertical = (di < 0 and top) or (di > 0 and bottom)
                if vertical or (dj < 0 and left) or (dj > 0 and right):
                    out.add(ii * ntc + jj)
        return sorted(out)

    def neighbours(self, t: int) -> list[int]:
        """The up to 8 chunks around chunk ``t``."""
        ntr, ntc = self.shape
        i, j = divmod(t, ntc)
        out = []
        for di in (-1, 0, 1):
            for dj in (-1, 0, 1):
                ii, jj = i + di, j + dj
                if (di or dj) and 0 <= ii < ntr and 0 <= jj < ntc:
                    out.append(ii * ntc + jj)
        return out


def create_store(
    path: str, shape: tuple[int, int], dtype: np.dtype, fill: object, chunk: int
) -> None:
    """Create (overwrite) a 2-D Zarr array; its chunks divide the run's chunks."""
    zarr.create_array(
        store=path,
        shape=shape,
        chunks=(min(chunk, max(1, shape[0])), min(chunk, max(1, shape[1]))),
        dtype=dtype,
        fill_value=fill,
        overwrite=True,
    )


def read_padded(path: str, win: tuple[int, int, int, int], pad: int, fill: object) -> np.ndarray:
    """Window ``win`` of the store plus ``pad`` cells around it (``fill`` off the raster)."""
    arr = zarr.open_array(path, mode="r")
    nr, nc = arr.shape
    r0, r1, c0, c1 = win
    out = np.full((r1 - r0 + 2 * pad, c1 - c0 + 2 * pad), fill, dtype=arr.dtype)
    a0, a1 = max(0, r0 - pad), min(nr, r1 + pad)
    b0, b1 = max(0, c0 - pad), min(nc, c1 + pad)
    out[a0 - r0 + pad : a1 - r0 + pad, b0 - c0 + pad : b1 - c0 + pad] = arr[a0:a1, b0:b1]
    return out


def write_window(path: str, win: tuple[int, int, int, int], values: np.ndarray) -> None:
    """Write one chunk (its window is aligned with the store's chunks)."""
    arr = zarr.open_array(path, mode="r+")
    r0, r1, c0, c1 = win
    arr[r0:r1, c0:c1] = values


class Lines:
    """The rows and columns on both sides of every chunk border, as full raster lines.

    Chunk ``t`` publishes its first/last row and column (:meth:`put`); the ring of
    cells around a chunk is then read from its neighbours' lines (:meth:`ring`).
    """

    def __init__(self, grid: ChunkGrid, dtype: np.dtype, fill: object) -> None:
        self.grid = grid
        self.fill = fill
        self.dtype = np.dtype(dtype)
        rows, cols = grid.rows, grid.cols
        self.rows = {}
        self.cols = {}
        for b in rows[1:-1]:
            for r in (int(b) - 1, int(b)):
                self.rows[r] = np.full(grid.nc, fill, dtype=dtype)
        for b in cols[1:-1]:
            for c in (int(b) - 1, int(b)):
                self.cols[c] = np.full(grid.nr, fill, dtype=dtype)

    def put(self, t: int, strips: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]) -> bool:
        """Store chunk ``t``'s (top, bottom, left, right) strips; True if any value changed."""
        return any(self.put_sides(t, strips))

    def put_sides(
        self, t: int, strips: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
    ) -> tuple[bool, bool, bool, bool]:
        """:meth:`put`, telling which of the (top, bottom, left, right) strips changed."""
        r0, r1, c0, c1 = self.grid.window(t)
        changed = [False, False, False, False]
        for side, (line, key, sl, vals) in enumerate(
            (
                (self.rows, r0, slice(c0, c1), strips[0]),
                (self.rows, r1 - 1, slice(c0, c1), strips[1]),
                (self.cols, c0, slice(r0, r1), strips[2]),
                (self.cols, c1 - 1, slice(r0, r1), strips[3]),
            )
        ):
            if key in line:
                old = line[key][sl]
                if not np.array_equal(old, vals):
                    changed[side] = True
                    old[...] = vals
        return changed[0], changed[1], changed[2], changed[3]

    def ring(self, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Values of the cells around chunk ``t``: (top, bottom) rows of length w + 2 and
        (left, right) columns of length h + 2 (corners included); ``fill`` off the raster."""
        nr, nc = self.grid.nr, self.grid.nc
        r0, r1, c0, c1 = self.grid.window(t)
        out = []
        for r in (r0 - 1, r1):
            v = np.full(c1 - c0 + 2, self.fill, dtype=self.dtype)
            if r in self.rows:
                a, b = max(0, c0 - 1), min(nc, c1 + 1)
                v[a - c0 + 1 : b - c0 + 1] = self.rows[r][a:b]
            out.append(v)
        for c in (c0 - 1, c1):
            v = np.full(r1 - r0 + 2, self.fill, dtype=self.dtype)
            if c in self.cols:
                a, b = max(0, r0 - 1), min(nr, r1 + 1)
                v[a - r0 + 1 : b - r0 + 1] = self.cols[c][a:b]
            out.append(v)
        return out[0], out[1], out[2], out[3]


def strips(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(top row, bottom row, left column, right column) copies of a chunk."""
    return a[0].copy(), a[-1].copy(), a[:, 0].copy(), a[:, -1].copy()


def set_ring(a: np.ndarray, ring: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]) -> None:
    """Write a :meth:`Lines.ring` into the 1-cell frame of a padded chunk ``a``."""
    a[0, :], a[-1, :] = ring[0], ring[1]
    a[:, 0], a[:, -1] = ring[2], ring[3]
