"""Pure array kernels (numpy + numba ``@njit(cache=True)``).

Conventions that keep the first-call JIT compile time down (issue 3; every njit
function and every distinct numba library overload is compiled separately, a few
tenths of a second each, and only cached afterwards):

* allocate with ``np.empty`` and fill (``a[:] = 0``) instead of ``np.zeros`` /
  ``np.full`` / ``np.array([...])``: each of those compiles several extra overloads
  per dtype and shape;
* no tiny helper functions in hot kernels: write short steps out in the caller, and
  merge kernels that always run one after the other;
* never pass a constant as an argument to another njit function (numba compiles a
  separate specialisation for the literal); pass a variable;
* no ``arr[:] = (a, b, ...)`` (its shape-mismatch error message pulls in numba's
  string formatting) and no array ``.view()``/``.copy()`` inside kernels;
* no ``parallel=True``: threads over ``nogil`` kernels (see ``fill_tiled.run_threads``);
* one dtype/layout per kernel where the wrapper can canonicalise the input.
"""
