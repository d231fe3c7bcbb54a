"""Monotone priority queue (radix heap) for numba kernels (private).

Priority-Flood only ever pushes keys that are >= the last popped key, so a radix
heap (Ahuja, Mehlhorn, Orlin & Tarjan 1990) works: items sit in 65 buckets by
the highest bit in which their key differs from the last popped key; popping
empties bucket 0 (keys equal to the last key) and, when it is empty, moves the
smallest non-empty bucket down around its minimum. Push is O(1); every item
moves down at most 64 times, in practice once or twice. Items are singly linked
lists in a pool of slots (``pkey``, ``pval``, ``pnext``) that doubles when full.

Keys are ``uint64`` made from float bit patterns with :func:`float_key`, which
preserves the order of floats (``-0.0`` maps like ``+0.0``; no NaN allowed).
Items with equal keys pop in an unspecified but deterministic order.

State (all arrays, so that helpers can update it in place): ``heads`` (65 slot
indices, -1 = empty bucket), ``state`` = [size, free-list head, next unused
slot], ``last`` = [last popped key]. Pool arrays are returned by
:func:`rq_push` because growing replaces them.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_ONE = np.uint64(1)


@njit(cache=True)
def float_key(bits: np.integer, sign: np.uint64, mask: np.uint64) -> np.uint64:
    """Order-preserving ``uint64`` key of a float's bit pattern.

    ``bits`` is the float's pattern (``uint32`` or ``uint64`` view), ``sign`` its
    sign bit (``1 << 31`` or ``1 << 63``) and ``mask`` all of its bits.
    """
    b = np.uint64(bits)
    if b == sign:  # -0.0 sorts as +0.0
        b = np.uint64(0)
    if b & sign:
        return (~b) & mask
    return b | sign


@njit(cache=True)
def _bitlen(key: np.uint64) -> int:
    x = np.uint64(key)
    n = 0
    if x >= np.uint64(1 << 32):
        x >>= np.uint64(32)
        n += 32
    if x >= np.uint64(1 << 16):
        x >>= np.uint64(16)
        n += 16
    if x >= np.uint64(1 << 8):
        x >>= np.uint64(8)
        n += 8
    if x >= np.uint64(1 << 4):
        x >>= np.uint64(4)
        n += 4
    if x >= np.uint64(1 << 2):
        x >>= np.uint64(2)
        n += 2
    if x >= np.uint64(2):
        x >>= _ONE
        n += 1
    return n + int(x)


@njit(cache=True)
def rq_new(cap: int, val_template: np.ndarray) -> tuple[np.ndarray, ...]:
    """Empty queue: (heads, state, last, pkey, pval, pnext); pval has template's dtype."""
    heads = np.empty(65, dtype=np.int64)
    heads[:] = -1
    state = np.empty(3, dtype=np.int64)
    state[:] = 0
    state[1] = -1
    last = np.empty(1, dtype=np.uint64)
    last[:] = 0
    pkey = np.empty(cap, dtype=np.uint64)
    pval = np.empty(cap, dtype=val_template.dtype)
    pnext = np.empty(cap, dtype=np.int64)
    return heads, state, last, pkey, pval, pnext


@njit(cache=True)
def rq_push(
    heads: np.ndarray,
    state: np.ndarray,
    last: np.ndarray,
    pkey: np.ndarray,
    pval: np.ndarray,
    pnext: np.ndarray,
    key: np.uint64,
    val: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Push ``(key, val)`` with ``key >= last[0]``; return the (maybe grown) pool arrays."""
    s = state[1]
    if s >= 0:
        state[1] = pnext[s]
    else:
        s = state[2]
        if s == pkey.shape[0]:
            cap = 2 * s + 16
            k2 = np.empty(cap, dtype=pkey.dtype)
            v2 = np.empty(cap, dtype=pval.dtype)
            n2 = np.empty(cap, dtype=pnext.dtype)
            for i in range(s):  # loop, not slices: slice assignment compiles slowly
                k2[i] = pkey[i]
                v2[i] = pval[i]
                n2[i] = pnext[i]
            pkey, pval, pnext = k2, v2, n2
        state[2] = s + 1
    k = np.uint64(key)
    pkey[s] = k
    pval[s] = val
    b = _bitlen(k ^ last[0])
    pnext[s] = heads[b]
    heads[b] = s
    state[0] += 1
    return pkey, pval, pnext


@njit(cache=True)
def rq_pop(
    heads: np.ndarray,
    state: np.ndarray,
    last: np.ndarray,
    pkey: np.ndarray,
    pval: np.ndarray,
    pnext: np.ndarray,
) -> int:
    """Pop a value with the smallest key (``state[0]`` must be > 0)."""
    if heads[0] < 0:
        b = 1
        while heads[b] < 0:
            b += 1
        s = heads[b]
        mn = pkey[s]
        s = pnext[s]
        while s >= 0:
            if pkey[s] < mn:
                mn = pkey[s]
            s = pnext[s]
        last[0] = mn
        s = heads[b]
        heads[b] = -1
        while s >= 0:
            nxt = pnext[s]
            nb = _bitlen(pkey[s] ^ mn)
            pnext[s] = heads[nb]
            heads[nb] = s
            s = nxt
    s = heads[0]
    heads[0] = pnext[s]
    pnext[s] = state[1]
    state[1] = s
    state[0] -= 1
    return int(pval[s])
