"""D8 flow-direction codes used throughout klimakort.

klimakort stores D8 directions with the ESRI / ArcGIS convention (also used by
pyflwdir's ``ftype="d8"``, TauDEM's ESRI mode and whitebox), as ``uint8``::

    32  64  128
    16   0    1
     8   4    2

* a power of two gives the neighbour the cell drains to;
* ``0`` (:data:`PIT`) means the cell has no downslope neighbour: an outlet at the
  raster edge or next to outlet nodata, or an undrained pit;
* ``255`` (:data:`NODATA`) marks nodata cells.

malstrøm uses 0..7 clockwise from north (0 = up, 2 = right, 4 = down, 6 = left)
and 8 for "no direction"; :func:`klimakort.core.d8.to_malstroem_codes` converts.
"""

from __future__ import annotations

import numpy as np

#: code for "no downslope neighbour" (outlet or pit)
PIT: int = 0
#: code for nodata cells
NODATA: int = 255

#: ESRI codes in clockwise order starting at east
CODES = np.array([1, 2, 4, 8, 16, 32, 64, 128], dtype=np.uint8)
#: row offset of the neighbour for each entry of :data:`CODES`
DROW = np.array([0, 1, 1, 1, 0, -1, -1, -1], dtype=np.int64)
#: column offset of the neighbour for each entry of :data:`CODES`
DCOL = np.array([1, 1, 0, -1, -1, -1, 0, 1], dtype=np.int64)
#: malstrøm code for each entry of :data:`CODES` (0 = north, clockwise)
MALSTROEM = np.array([2, 3, 4, 5, 6, 7, 0, 1], dtype=np.uint8)
#: malstrøm's "no direction" code
MALSTROEM_NONE: int = 8
