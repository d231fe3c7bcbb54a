"""Local plans of the sample area, in the Plandata.dk schema (synthetic)."""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely

#: plan names, in the order the plans are numbered
PLAN_NAMES = (
    "Boligområde ved Strandparken",
    "Centerområde Strandby Torv",
    "Boligområde Engkvarteret (lavtliggende)",
    "Institutionsområde ved skolen",
)


def local_plans(parcel_geoms: np.ndarray, parcel_block: list[int]) -> dict[str, Any]:
    """Four adopted local plans, each covering the parcels of one town block.

    The blocks are picked evenly through the sorted block ids (deterministic), and each
    plan's polygon is the union of its block's parcels, so plans follow parcel edges.

    Parameters
    ----------
    parcel_geoms : array of Polygon
        Parcel polygons.
    parcel_block : list of int
        Block index of every parcel.

    Returns
    -------
    dict
        Columns in the Plandata.dk schema (planid, plannr, plannavn, plantype, status,
        datovedt, doklink, komnr) plus geometry.
    """
    blocks = np.asarray(parcel_block)
    ids = np.unique(blocks)
    chosen = ids[np.linspace(0, len(ids) - 1, len(PLAN_NAMES) + 2).round().astype(int)[1:-1]]
    geoms = [shapely.union_all(parcel_geoms[blocks == b]) for b in chosen]
    n = len(geoms)
    return {
        "planid": np.arange(9_000_001, 9_000_001 + n, dtype=np.int64),
        "plannr": [f"1.{k + 1:02d}" for k in range(n)],
        "plannavn": list(PLAN_NAMES[:n]),
        "plantype": np.full(n, 20.1),
        "status": ["V"] * n,
        "datovedt": np.array([20190612, 20210324, 20230913, 20240131][:n], dtype=np.int64),
        "doklink": ["synthetic sample: no plan document"] * n,
        "komnr": np.full(n, 187, dtype=np.int64),
        "geometry": geoms,
    }
