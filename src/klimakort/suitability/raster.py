"""Suitability rasters: hard-constraint mask, criterion rasters, fuzzy scores, weighted score.

:func:`suitability` derives everything for one measure profile and one scenario from an
area configuration and its computed hazards. :func:`suitability_from_inputs` does the
same from explicit rasters and layers (:class:`SuitabilityInputs`), which keeps the logic
testable on small synthetic grids.

Conventions
-----------
* A cell is suitable when every applied hard constraint holds there and the terrain is
  valid. ``score`` is NaN elsewhere.
* ``score`` is the weighted mean of the criterion scores with normalised weights. Where a
  criterion value is unknown (NaN) the weights of the known criteria are re-normalised
  (recorded in ``attrs["nan_policy"]``); where none is known the score is NaN.
* Exclusion buffers around lines (district-heating mains) are rasterised with
  ``all_touched`` so that every kept cell lies entirely outside the buffer; polygons
  (public land, buildings, protected nature, contaminated soil) use cell centres.
* Distances are Euclidean distances between cell centres (``distance_transform_edt``).
* Missing data: a constraint whose layer (or groundwater raster) the area lacks is not
  checked, and ``notes``/``not_checked`` say so; a criterion whose layer is missing is
  dropped (``dropped_criteria``) and the weights of the others are renormalised to sum 1.
  Layers listed in the profile's ``require_layers``, or every layer with ``strict=True``,
  raise :class:`~klimakort.errors.DataNotFoundError` instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import xarray as xr
from rasterio import features
from scipy import ndimage

from klimakort.errors import DataNotFoundError, GridMismatchError, ParameterError
from klimakort.io import check_same_grid, like, read_raster, read_vector, write_cog
from klimakort.io.raster import cell_size
from klimakort.suitability.profiles import Profile, get_profile, load_profiles

if TYPE_CHECKING:
    from klimakort.config.area import AreaConfig
    from klimakort.hazards.area import AreaHazards

#: order of the constraints (bit i of ``reason_code`` is set when constraint i fails)
CONSTRAINT_ORDER: tuple[str, ...] = (
    "terrain",
    "public_land",
    "buildings",
    "heating_mains",
    "protected_nature",
    "bluespot_depth",
    "groundwater_depth",
    "contaminated_soil",
    "near_water",
)

#: what each constraint's value raster measures
CONSTRAINT_UNITS: dict[str, str] = {
    "terrain": "1 where the terrain model has data",
    "public_land": "1 on public land, 0 elsewhere",
    "buildings": "1 on a building footprint, 0 elsewhere",
    "heating_mains": "m to the nearest district-heating main (cell centres)",
    "protected_nature": "1 in protected nature, 0 elsewhere",
    "bluespot_depth": "m bluespot depth (filled - terrain)",
    "groundwater_depth": "m from terrain to groundwater (NaN unknown)",
    "contaminated_soil": "1 on contaminated soil, 0 elsewhere",
    "near_water": "m to the nearest bluespot or flow path",
}

Bool2D = npt.NDArray[np.bool_]
Float2D = npt.NDArray[np.float64]


@dataclass
class SuitabilityInputs:
    """Rasters (all on the terrain grid) and vector layers for a suitability run.

    Attributes
    ----------
    terrain, filled : DataArray
        Terrain and depression-filled terrain (m).
    accumulation : DataArray
        Upstream area (m²).
    bluespots : DataArray
        Bluespot labels (> 0 inside a bluespot).
    flood_depth : DataArray
        Cloudburst water depth (m) of the scenario.
    groundwater_depth : DataArray or None
        Depth to groundwater (m below terrain) of the scenario.
    imperviousness : DataArray or None
        Sealed fraction 0-1; None derives it from building footprints.
    layers : dict of str to GeoDataFrame
        ``public_land``, ``parcels`` (bool column ``public``), ``buildings``,
        ``heating_mains``, ``protected_nature``, ``contaminated_soil``, ``institutions``
        (column ``kind``); missing keys mean the layer is absent.
    institution_kinds : tuple of str
        Institution kinds that count for ``distance_to_institutions``.
    kind_field : str
        Column of ``institutions`` with the kind.
    """

    terrain: xr.DataArray
    filled: xr.DataArray
    accumulation: xr.DataArray
    bluespots: xr.DataArray
    flood_depth: xr.DataArray
    groundwater_depth: xr.DataArray | None = None
    imperviousness: xr.DataArray | None = None
    layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    institution_kinds: tuple[str, ...] = ("school", "kindergarten")
    kind_field: str = "kind"

    def __post_init__(self) -> None:
        for name in ("filled", "accumulation", "bluespots", "flood_depth"):
            check_same_grid(self.terrain, getattr(self, name), f"{name} vs terrain")
        for name in ("groundwater_depth", "imperviousness"):
            da = getattr(self, name)
            if da is not None:
                check_same_grid(self.terrain, da, f"{name} vs terrain")
        for key, gdf in self.layers.items():
            if gdf.crs is None or not gdf.crs.equals(self.terrain.rio.crs):
                raise GridMismatchError(
                    f"layer {key} is in {gdf.crs}, the terrain in {self.terrain.rio.crs}; "
                    "reproject the layer (read_vector(..., crs=...)) first"
                )


@dataclass
class SuitabilityResult:
    """Everything a suitability run derives (all DataArrays on the terrain grid).

    Attributes
    ----------
    measure, scenario : str
    profile : Profile
    mask : DataArray (bool)
        True where every hard constraint holds.
    constraints : dict of str to DataArray (bool)
        Per applied constraint, True where it holds.
    constraint_values : dict of str to DataArray (float)
        Per applied constraint, the measured value (see :data:`CONSTRAINT_UNITS`).
    criteria : dict of str to DataArray
        Raw criterion values (units in ``attrs["units"]``).
    scores : dict of str to DataArray
        Transformed criterion scores in [0, 1].
    weights : dict of str to float
        Normalised weights (sum 1).
    score : DataArray
        Weighted score in [0, 1], NaN where a hard constraint fails.
    notes : list of str
        Constraints not checked and criteria dropped because their layer is absent.
    not_checked : dict of str to str
        Constraint name -> why it was not checked (its layer is missing).
    dropped_criteria : dict of str to str
        Criterion name -> why it was dropped (its layer is missing).
    """

    measure: str
    scenario: str
    profile: Profile
    mask: xr.DataArray
    constraints: dict[str, xr.DataArray]
    constraint_values: dict[str, xr.DataArray]
    criteria: dict[str, xr.DataArray]
    scores: dict[str, xr.DataArray]
    weights: dict[str, float]
    score: xr.DataArray
    notes: list[str] = field(default_factory=list)
    inputs: SuitabilityInputs | None = None
    not_checked: dict[str, str] = field(default_factory=dict)
    dropped_criteria: dict[str, str] = field(default_factory=dict)

    @property
    def reason_code(self) -> xr.DataArray:
        """uint16 raster: bit ``CONSTRAINT_ORDER.index(name)`` set where ``name`` fails."""
        code = np.zeros(self.mask.shape, dtype=np.uint16)
        for name, ok in self.constraints.items():
            bit = np.uint16(1 << CONSTRAINT_ORDER.index(name))
            code[~ok.values] |= bit
        legend = {CONSTRAINT_ORDER.index(n): n for n in self.constraints}
        return like(
            self.mask, code, name="reason_code", nodata=0, attrs={"bits": json.dumps(legend)}
        )

    def reasons(self) -> xr.DataArray:
        """Stack (constraint, y, x) of bool: True where that constraint fails."""
        names = list(self.constraints)
        data = np.stack([~self.constraints[n].values for n in names])
        da = xr.DataArray(
            data,
            dims=("constraint", "y", "x"),
            coords={"constraint": names, "y": self.mask.y, "x": self.mask.x},
            name="fails",
        )
        da.rio.write_crs(self.mask.rio.crs, inplace=True)
        return da.rio.write_transform(self.mask.rio.transform(), inplace=True)

    def write(self, path: str | Path) -> Path:
        """Write the weighted score as a COG (``suitability.tif``), atomically."""
        desc = f"{self.measure} suitability (weights {json.dumps(self.weights)})"
        return write_cog(
            self.score.astype("float32"),
            path,
            units="score 0-1",
            source=f"klimakort suitability, profile {self.profile.name}",
            scenario=self.scenario,
            description=desc,
            extra_tags={
                "measure": self.measure,
                "weights": json.dumps(self.weights),
                "notes": json.dumps(self.notes),
            },
        )


# ----------------------------------------------------------------------------- helpers


def _rasterize(
    gdf: gpd.GeoDataFrame | None, template: xr.DataArray, *, all_touched: bool
) -> Bool2D:
    if gdf is None or gdf.empty:
        return np.zeros(template.shape, dtype=bool)
    geoms = [g for g in gdf.geometry if g is not None and not g.is_empty]
    if not geoms:
        return np.zeros(template.shape, dtype=bool)
    out = features.rasterize(
        ((g, 1) for g in geoms),
        out_shape=template.shape,
        transform=template.rio.transform(),
        fill=0,
        all_touched=all_touched,
        dtype="uint8",
    )
    return np.asarray(out, dtype=bool)


def distance_to(target: Bool2D, template: xr.DataArray) -> Float2D:
    """Distance (m) from every cell centre to the nearest ``target`` cell (inf if none)."""
    if not target.any():
        return np.full(target.shape, np.inf)
    dx, dy = cell_size(template)
    return np.asarray(ndimage.distance_transform_edt(~target, sampling=(dy, dx)), dtype=float)


#: how a skipped constraint is named in notes, and the profile setting that turns it off
_CONSTRAINT_TEXT: dict[str, tuple[str, str]] = {
    "public_land": ("public-land constraint", "constraints.public_land = false"),
    "buildings": ("building-footprint constraint", "constraints.avoid_buildings = false"),
    "heating_mains": ("heating-mains clearance", "constraints.heating_mains_clearance_m = 0"),
    "protected_nature": (
        "protected-nature constraint",
        "constraints.allow_protected_nature = true",
    ),
    "groundwater_depth": (
        "groundwater-depth constraint",
        "remove constraints.min_groundwater_depth_m",
    ),
    "contaminated_soil": (
        "contaminated-soil constraint",
        "constraints.avoid_contaminated_soil = false",
    ),
}


@dataclass
class _Gaps:
    """Missing layers: skipped with a note, or (required) collected into one error."""

    required: frozenset[str]
    strict: bool
    notes: list[str] = field(default_factory=list)
    not_checked: dict[str, str] = field(default_factory=dict)
    dropped: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def _required(self, layer: str, what: str, fix: str) -> bool:
        if self.strict or layer in self.required:
            self.errors.append(f"the {what} needs the {layer} layer (add it to area.toml or {fix})")
            return True
        return False

    def constraint(self, name: str, layer: str) -> None:
        what, fix = _CONSTRAINT_TEXT[name]
        if self._required(layer, what, fix if fix.startswith("remove") else f"set {fix}"):
            return
        note = f"{what} not checked: the area has no {layer} layer"
        self.not_checked[name] = note
        self.notes.append(note)

    def criterion(self, name: str, source: str, layer: str) -> None:
        if self._required(layer, f"criterion {name} ({source})", "drop it from the profile"):
            return
        note = (
            f"criterion {name} ({source}) dropped: the area has no {layer} layer; "
            "the other criteria's weights are renormalised"
        )
        self.dropped[name] = note
        self.notes.append(note)

    def raise_required(self) -> None:
        """Raise one :class:`DataNotFoundError` naming every missing required layer."""
        if self.errors:
            why = "--strict" if self.strict else "the profile's require_layers"
            raise DataNotFoundError(
                f"the area lacks layers required ({why}): " + "; ".join(self.errors)
            )


def _has_public(inp: SuitabilityInputs) -> bool:
    parcels = inp.layers.get("parcels")
    return "public_land" in inp.layers or (parcels is not None and "public" in parcels.columns)


def _public(inp: SuitabilityInputs) -> Bool2D:
    pl, parcels = inp.layers.get("public_land"), inp.layers.get("parcels")
    out = _rasterize(pl, inp.terrain, all_touched=False)
    if parcels is not None and "public" in parcels.columns:
        pub = parcels[parcels["public"].fillna(False).astype(bool)]
        out |= _rasterize(pub, inp.terrain, all_touched=False)
    return out


def _layer_constraints(
    inp: SuitabilityInputs, prof: Profile, gaps: _Gaps
) -> dict[str, tuple[Float2D, Bool2D]]:
    """(value, ok) of the applied constraints that need a vector layer."""
    c = prof.constraints
    t = inp.terrain
    out: dict[str, tuple[Float2D, Bool2D]] = {}
    if c.public_land and not _has_public(inp):
        gaps.constraint("public_land", "public_land")
    elif c.public_land:
        pub = _public(inp)
        out["public_land"] = (pub.astype(float), pub)
    for name, key, wanted in (
        ("buildings", "buildings", c.avoid_buildings),
        ("protected_nature", "protected_nature", not c.allow_protected_nature),
    ):
        gdf = inp.layers.get(key)
        if wanted and gdf is None:
            gaps.constraint(name, key)
        elif wanted:
            r = _rasterize(gdf, t, all_touched=False)
            out[name] = (r.astype(float), ~r)
    if c.heating_mains_clearance_m is not None and c.heating_mains_clearance_m > 0:
        mains = inp.layers.get("heating_mains")
        if mains is None:
            gaps.constraint("heating_mains", "heating_mains")
        else:
            d = distance_to(_rasterize(mains, t, all_touched=True), t)
            buf = mains.geometry.buffer(c.heating_mains_clearance_m)
            gbuf = gpd.GeoDataFrame(geometry=buf, crs=mains.crs)
            out["heating_mains"] = (d, ~_rasterize(gbuf, t, all_touched=True))
    return out


def _constraints(
    inp: SuitabilityInputs, prof: Profile, gaps: _Gaps
) -> dict[str, tuple[Float2D, Bool2D]]:
    """(value, ok) per applied constraint (in :data:`CONSTRAINT_ORDER`)."""
    c = prof.constraints
    t = inp.terrain
    out: dict[str, tuple[Float2D, Bool2D]] = {}
    valid = np.isfinite(t.values)
    out["terrain"] = (valid.astype(float), valid)
    out.update(_layer_constraints(inp, prof, gaps))
    if c.max_bluespot_depth_m is not None:
        depth = np.where(valid, inp.filled.values - t.values, np.nan).astype(float)
        with np.errstate(invalid="ignore"):
            out["bluespot_depth"] = (depth, depth <= c.max_bluespot_depth_m)
    if c.min_groundwater_depth_m is not None and inp.groundwater_depth is None:
        gaps.constraint("groundwater_depth", "groundwater")
    elif c.min_groundwater_depth_m is not None and inp.groundwater_depth is not None:
        gw = np.asarray(inp.groundwater_depth.values, dtype=float)
        with np.errstate(invalid="ignore"):
            out["groundwater_depth"] = (gw, gw > c.min_groundwater_depth_m)  # NaN fails
    if c.avoid_contaminated_soil:
        soil = inp.layers.get("contaminated_soil")
        if soil is None:
            gaps.constraint("contaminated_soil", "contaminated_soil")
        else:
            s = _rasterize(soil, t, all_touched=False)
            out["contaminated_soil"] = (s.astype(float), ~s)
    if c.max_distance_to_water_m is not None:
        water = (np.asarray(inp.bluespots.values) > 0) | (
            np.nan_to_num(np.asarray(inp.accumulation.values, dtype=float))
            >= prof.flowpath_min_upstream_m2
        )
        d = distance_to(water, t)
        out["near_water"] = (d, d <= c.max_distance_to_water_m)
    return {k: out[k] for k in CONSTRAINT_ORDER if k in out}


def _imperviousness(inp: SuitabilityInputs, prof: Profile) -> tuple[Float2D, str]:
    t = inp.terrain
    if inp.imperviousness is not None:
        base = np.clip(np.nan_to_num(inp.imperviousness.values.astype(float)), 0.0, 1.0)
        src = "imperviousness raster"
    else:
        b = inp.layers["buildings"]  # _criterion_layer checked it
        base = _rasterize(b, t, all_touched=False).astype(float)
        src = "building footprints (proxy: roads and paving not counted)"
    dx, _dy = cell_size(t)
    size = max(1, round(prof.imperviousness_window_m / dx))
    mean = ndimage.uniform_filter(base, size=size, mode="nearest")
    return np.clip(mean, 0.0, 1.0), f"mean over {size * dx:g} m window of {src}"


def _criterion_layer(inp: SuitabilityInputs, source: str) -> str | None:
    """The missing layer that ``source`` needs, or None when it can be derived."""
    if source == "distance_to_institutions" and "institutions" not in inp.layers:
        return "institutions"
    if source == "imperviousness" and inp.imperviousness is None and "buildings" not in inp.layers:
        return "buildings"
    if source == "groundwater_depth" and inp.groundwater_depth is None:
        return "groundwater"
    return None


def _criterion(inp: SuitabilityInputs, prof: Profile, source: str) -> tuple[Float2D, str]:
    t = inp.terrain
    valid = np.isfinite(t.values)
    if source == "distance_to_institutions":
        inst = inp.layers["institutions"]
        if inp.kind_field in inst.columns:
            inst = inst[inst[inp.kind_field].isin(inp.institution_kinds)]
        d = distance_to(_rasterize(inst, t, all_touched=True), t)
        val, note = d, f"m to nearest {'/'.join(inp.institution_kinds)}"
    elif source == "distance_to_flowpaths":
        acc = np.nan_to_num(np.asarray(inp.accumulation.values, dtype=float))
        val = distance_to(acc >= prof.flowpath_min_upstream_m2, t)
        note = f"m to nearest cell with upstream area >= {prof.flowpath_min_upstream_m2:g} m2"
    elif source == "cloudburst_depth":
        val, note = np.nan_to_num(inp.flood_depth.values.astype(float)), "m"
    elif source == "imperviousness":
        val, note = _imperviousness(inp, prof)
    elif source == "groundwater_depth" and inp.groundwater_depth is not None:
        val, note = inp.groundwater_depth.values.astype(float), "m below terrain"
    elif source == "bluespot_depth":
        val, note = inp.filled.values.astype(float) - t.values.astype(float), "m"
    elif source == "upstream_area":
        val, note = inp.accumulation.values.astype(float), "m2"
    else:  # pragma: no cover - profiles validate sources
        raise ParameterError(f"unknown criterion source {source!r}")
    return np.where(valid, val, np.nan), note


def _weighted(scores: dict[str, Float2D], weights: dict[str, float], mask: Bool2D) -> Float2D:
    num = np.zeros(mask.shape)
    den = np.zeros(mask.shape)
    for name, s in scores.items():
        ok = np.isfinite(s)
        num += np.where(ok, s, 0.0) * weights[name]
        den += ok * weights[name]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(mask & (den > 0), num / den, np.nan)
    return np.clip(out, 0.0, 1.0)


# ----------------------------------------------------------------------------- public API


def _renormalised(weights: dict[str, float], dropped: dict[str, str]) -> dict[str, float]:
    kept = {n: w for n, w in weights.items() if n not in dropped}
    if not kept:
        raise DataNotFoundError(
            "no criterion of the profile can be scored with the area's layers: "
            + "; ".join(dropped.values())
        )
    total = sum(kept.values())
    return {n: w / total for n, w in kept.items()}


def suitability_from_inputs(
    inp: SuitabilityInputs, profile: Profile, *, scenario: str = "2100", strict: bool = False
) -> SuitabilityResult:
    """Suitability of ``profile`` on explicit inputs.

    Parameters
    ----------
    inp : SuitabilityInputs
        Rasters on one grid and layers in its CRS.
    profile : Profile
        The measure profile.
    scenario : str
        Scenario name recorded in the result.
    strict : bool
        Treat every missing layer as an error (otherwise only those in the profile's
        ``require_layers``; the others are skipped with a note).

    Returns
    -------
    SuitabilityResult

    Raises
    ------
    DataNotFoundError
        A required layer (``strict`` or ``require_layers``) is missing, or no criterion
        can be scored.
    ParameterError
        The profile's AHP matrix is inconsistent.
    """
    t = inp.terrain
    gaps = _Gaps(required=frozenset(profile.require_layers), strict=strict)
    cons = _constraints(inp, profile, gaps)
    for crit in profile.criteria:
        layer = _criterion_layer(inp, crit.source)
        if layer is not None:
            gaps.criterion(crit.name, crit.source, layer)
    gaps.raise_required()
    weights = _renormalised(profile.weights(), gaps.dropped)
    mask = np.logical_and.reduce([ok for _v, ok in cons.values()])
    constraints = {
        n: like(t, ok, name=f"ok_{n}", attrs={"constraint": n}) for n, (_v, ok) in cons.items()
    }
    values = {
        n: like(t, v.astype(np.float32), name=f"val_{n}", attrs={"units": CONSTRAINT_UNITS[n]})
        for n, (v, _ok) in cons.items()
    }
    criteria: dict[str, xr.DataArray] = {}
    scores: dict[str, xr.DataArray] = {}
    raw_scores: dict[str, Float2D] = {}
    for crit in profile.criteria:
        if crit.name in gaps.dropped:
            continue
        val, units = _criterion(inp, profile, crit.source)
        tf = crit.make_transform()
        s = tf(val)
        raw_scores[crit.name] = s
        criteria[crit.name] = like(
            t, val.astype(np.float32), name=crit.name, attrs={"source": crit.source, "units": units}
        )
        scores[crit.name] = like(
            t,
            s.astype(np.float32),
            name=f"score_{crit.name}",
            attrs={"fuzzy": tf.describe(), "weight": weights[crit.name]},
        )
    score = _weighted(raw_scores, weights, mask)
    attrs: dict[str, Any] = {
        "measure": profile.name,
        "scenario": scenario,
        "weights": json.dumps(weights),
        "nan_policy": "weights of criteria with unknown values are re-normalised per cell",
        "units": "score 0-1",
        "notes": json.dumps(gaps.notes),
    }
    return SuitabilityResult(
        measure=profile.name,
        scenario=scenario,
        profile=profile,
        mask=like(t, mask, name="suitable"),
        constraints=constraints,
        constraint_values=values,
        criteria=criteria,
        scores=scores,
        weights=weights,
        score=like(t, score, name="suitability", attrs=attrs),
        notes=gaps.notes,
        inputs=inp,
        not_checked=gaps.not_checked,
        dropped_criteria=gaps.dropped,
    )


def _area_layers(cfg: AreaConfig) -> dict[str, gpd.GeoDataFrame]:
    keys = (
        "public_land",
        "parcels",
        "buildings",
        "heating_mains",
        "protected_nature",
        "contaminated_soil",
        "institutions",
    )
    out: dict[str, gpd.GeoDataFrame] = {}
    for key in keys:
        ref = cfg.layers.get(key)
        if ref is not None:
            out[key] = read_vector(ref.path, crs=cfg.crs, layer=ref.layer, id_field=ref.id_field)
    return out


def inputs_from_area(cfg: AreaConfig, hz: AreaHazards, scenario: str) -> SuitabilityInputs:
    """Collect :class:`SuitabilityInputs` from an area and its computed hazards."""
    if scenario not in hz.scenarios:
        raise ParameterError(
            f"scenario {scenario!r} was not computed; computed: {sorted(hz.scenarios)}"
        )
    sh = hz.scenarios[scenario]
    rf = hz.rainflow
    imp = None
    if cfg.imperviousness is not None:
        imp = read_raster(cfg.imperviousness.path, expected_crs=cfg.crs)
    inst = cfg.layers.get("institutions")
    return SuitabilityInputs(
        terrain=rf.terrain,
        filled=rf.filled,
        accumulation=rf.accumulation,
        bluespots=rf.bluespots,
        flood_depth=sh.cloudburst.flood_depth,
        groundwater_depth=sh.groundwater.depth if sh.groundwater is not None else None,
        imperviousness=imp,
        layers=_area_layers(cfg),
        kind_field=(inst.kind_field if inst is not None and inst.kind_field else "kind"),
    )


def suitability(
    cfg: AreaConfig,
    hz: AreaHazards,
    measure: str,
    scenario: str = "2100",
    *,
    profile: Profile | None = None,
    profiles_path: str | Path | None = None,
    strict: bool = False,
) -> SuitabilityResult:
    """Suitability of a measure for an area and scenario.

    Parameters
    ----------
    cfg : AreaConfig
        The area (layers are read from it).
    hz : AreaHazards
        Hazards computed for the area, including ``scenario``.
    measure : str
        Profile name or alias (e.g. ``"miyawaki_forest"``, ``"climate_park"``).
    scenario : str
        Scenario whose cloudburst and groundwater are used.
    profile : Profile, optional
        Use this profile instead of looking ``measure`` up.
    profiles_path : path-like, optional
        User TOML overriding the built-in profiles.
    strict : bool
        A constraint or criterion whose layer the area lacks is an error instead of
        being skipped with a note (see :func:`suitability_from_inputs`).

    Returns
    -------
    SuitabilityResult
    """
    prof = profile or get_profile(measure, load_profiles(profiles_path))
    inp = inputs_from_area(cfg, hz, scenario)
    return suitability_from_inputs(inp, prof, scenario=scenario, strict=strict)
