"""Analytic Hierarchy Process (Saaty): criterion weights from a pairwise comparison matrix.

Weights are the normalised principal right eigenvector; consistency is checked with
Saaty's consistency ratio ``CR = CI / RI`` where ``CI = (λmax - n) / (n - 1)`` and ``RI`` is
the random index of Saaty (1980) for matrices of order ``n``. A CR of 0.1 or more means the
judgements contradict each other too much to be used.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from klimakort.errors import ParameterError

#: Saaty's random consistency index by matrix order (Saaty 1980, orders 1-10; 11-15 from
#: Saaty 2012, "Decision Making for Leaders")
RANDOM_INDEX: dict[int, float] = {
    1: 0.0,
    2: 0.0,
    3: 0.58,
    4: 0.90,
    5: 1.12,
    6: 1.24,
    7: 1.32,
    8: 1.41,
    9: 1.45,
    10: 1.49,
    11: 1.51,
    12: 1.48,
    13: 1.56,
    14: 1.57,
    15: 1.59,
}

#: Saaty's threshold: matrices with CR at or above it are rejected
MAX_CR = 0.1


def _check(a: npt.NDArray[np.float64]) -> None:
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] == 0:
        raise ParameterError(f"AHP matrix must be square and non-empty, got shape {a.shape}")
    n = a.shape[0]
    if n > max(RANDOM_INDEX):
        raise ParameterError(f"AHP matrix of order {n}: at most {max(RANDOM_INDEX)} criteria")
    if not np.all(np.isfinite(a)) or np.any(a <= 0):
        raise ParameterError("AHP matrix entries must be positive finite numbers (1/9 ... 9)")
    if not np.allclose(np.diag(a), 1.0):
        raise ParameterError("AHP matrix diagonal must be 1 (a criterion equals itself)")
    if not np.allclose(a * a.T, 1.0, rtol=1e-3):
        i, j = np.argwhere(~np.isclose(a * a.T, 1.0, rtol=1e-3))[0]
        raise ParameterError(
            f"AHP matrix is not reciprocal: a[{i}][{j}]={a[i, j]:g} but a[{j}][{i}]={a[j, i]:g}"
            f" (must be 1/{a[i, j]:g})"
        )


def ahp_weights(
    matrix: npt.ArrayLike, *, max_cr: float = MAX_CR
) -> tuple[npt.NDArray[np.float64], float]:
    """Weights and consistency ratio of a pairwise comparison matrix.

    Parameters
    ----------
    matrix : array-like, shape (n, n)
        Positive reciprocal matrix: ``matrix[i][j]`` says how much more important
        criterion ``i`` is than ``j`` on Saaty's 1-9 scale, ``matrix[j][i] = 1/matrix[i][j]``.
    max_cr : float
        Reject matrices whose consistency ratio is ``>= max_cr`` (Saaty: 0.1).

    Returns
    -------
    weights : numpy.ndarray, shape (n,)
        Principal eigenvector normalised to sum 1 (all positive).
    consistency_ratio : float
        ``CI / RI``; 0 for a perfectly consistent matrix and for ``n <= 2``.

    Raises
    ------
    ParameterError
        Not square, not positive, not reciprocal, or ``CR >= max_cr``.
    """
    a = np.asarray(matrix, dtype=np.float64)
    _check(a)
    n = a.shape[0]
    eigvals, eigvecs = np.linalg.eig(a)
    k = int(np.argmax(eigvals.real))
    lam = float(eigvals[k].real)
    vec = np.abs(eigvecs[:, k].real)
    weights = vec / vec.sum()
    ri = RANDOM_INDEX[n]
    cr = 0.0 if ri == 0.0 else max((lam - n) / (n - 1), 0.0) / ri
    if cr < 1e-12:
        cr = 0.0
    if cr >= max_cr:
        raise ParameterError(
            f"AHP matrix is too inconsistent: consistency ratio CR={cr:.3f} >= {max_cr} "
            f"(lambda_max={lam:.3f}, n={n}). Revise the pairwise judgements so that they agree "
            "(if A > B and B > C, then A should be clearly > C)."
        )
    return weights, cr
