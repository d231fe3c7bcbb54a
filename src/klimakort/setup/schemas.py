"""The schemas of the Danish sources ``klimakort area init`` reads, and their mapping.

Each :class:`Schema` names a source as it is downloaded (Datafordeler, GeoDanmark/BBR,
Plandata.dk, Kystdirektoratet, HIP), the ``area.toml`` layer it becomes, the fields the
source is known to carry, and how klimakort's own fields are derived from them
(:func:`derive`). Fields a file has beyond the known ones are *unknown*: they are kept in
the written layer and listed in the field report, never dropped silently.

==============================  =========================  ==================================
schema                          area.toml layer            klimakort fields
==============================  =========================  ==================================
``matrikel_jordstykke``         ``parcels``                ``matrikel_id`` =
                                                           ``{ejerlavskode}-{matrikelnummer}``
``buildings``                   ``buildings``              ``building_id`` (first unique id)
``bbr_institutions``            ``institutions``           ``kind`` (BBR use code 421 school,
                                                           441 kindergarten), ``name``
``plandata_lokalplan``          ``local_plans``            ``plan_id`` = ``plannr`` (text)
``plandata_varmeplan``          ``heat_plans``             ``plan_id`` = ``planid`` (text)
``kdi_coastal_flood_risk``      ``coastal_flood_risk``     ``risk`` = ``DN`` (or 1)
``hip_depth_classes``           ``groundwater_depth_       ``season``, ``depth_min_m``,
                                reference``                ``depth_max_m``, ``depth_class``
``groundwater_head``            ``[groundwater]``          the head field (e.g. ``Vsp_2024``)
``generic``                     any other layer key        none (every field kept, listed)
==============================  =========================  ==================================
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from klimakort.constraints.loaders import EJERLAV_FIELDS, MATRNR_FIELDS
from klimakort.errors import InputError

Clip = Literal["select", "cut", "near"]

#: technical fields every export may carry (feature ids of GML/WFS/GeoPackage writers)
TECHNICAL_FIELDS: tuple[str, ...] = ("fid", "gml_id", "id", "objectid", "OBJECTID", "ogc_fid")


@dataclass(frozen=True)
class Schema:
    """A known Danish source schema.

    Attributes
    ----------
    key : str
        Schema id (``matrikel_jordstykke``, ...).
    layer_key : str
        The ``area.toml`` layer it becomes (``groundwater`` for the head).
    title : str
        The source as a planner knows it.
    geometry : str
        ``polygon``, ``line``, ``point`` or ``any``.
    known : tuple of str
        Fields the source is known to carry.
    known_patterns : tuple of str
        Regular expressions of numbered field families (e.g. Plandata's ``bygpct1``..).
    clip : str
        ``select``: keep whole features that overlap the boundary (parcels, buildings,
        plans); ``cut``: cut coverage-like layers at the boundary; ``near``: keep whole
        features within :attr:`near_m` of the boundary (head contours, so the head surface
        covers the area's edge).
    near_m : float
        Distance for ``near``.
    id_field : str, optional
        The klimakort id field written (``matrikel_id``, ``building_id``, ...).
    """

    key: str
    layer_key: str
    title: str
    geometry: str
    known: tuple[str, ...] = ()
    known_patterns: tuple[str, ...] = ()
    clip: Clip = "select"
    near_m: float = 0.0
    id_field: str | None = None
    toml: dict[str, str] = field(default_factory=dict)

    def is_known(self, name: str) -> bool:
        """Whether ``name`` is a field this source is known to carry."""
        if name in self.known or name in TECHNICAL_FIELDS:
            return True
        return any(re.fullmatch(p, name) for p in self.known_patterns)


_MAT_FIELDS = (
    # Matriklen2 via Datafordeler (MAT_Jordstykke, flattened GML/GeoPackage download)
    "id_lokalId", "id_namespace", "registreringFra", "registreringTil", "registreringsaktoer",
    "virkningFra", "virkningTil", "virkningsaktoer", "forretningshaendelse",
    "forretningsomraade", "forretningsproces", "status", "senesteSagLokalId",
    "matrikelnummer", "registreretAreal", "arealberegningsmetode", "arealbetegnelse",
    "arealtype", "vejareal", "vejarealberegningsmetode", "vandarealinklusivvandareal",
    "vandarealberegningsmetode", "faelleslod", "brugsretsareal", "fredskov_omfang",
    "fredskov_fredskovsareal", "klitfredning_omfang", "strandbeskyttelse_omfang",
    "majoratsskov_omfang", "jordrente_omfang", "stormfald", "ejerlavLokalId", "ejerlavsnavn",
    "ejerlavskode", "kommuneLokalId", "kommunenavn", "kommunekode", "regionLokalId",
    "regionsnavn", "regionskode", "sognLokalId", "sognenavn", "sognekode", "retskredsLokalId",
    "retskredsnavn", "retskredskode", "samletFastEjendomLokalId", "bfeNummer",
    "skelforretningssagsLokalId", "supplerendeMaalingSagLokalId", "moderjordstykke",
    "stammerFraJordstykkeLokalId",
    # the older Matrikelkort (kf_dwl) GML and KMS deliveries
    "featureID", "featureCode", "featureType", "landsejerlavskode", "kms_SagsID",
    "kms_Journalnummer", "skelforretningsSagsID", "supmSagsID", "elavsKode", "elavskode",
    "ejerlavsKode", "matrikelnr", "matrNr", "matrnr", "registreretareal",
    "id_lokalid", "ejerlavlokalid", "kommunelokalid", "samletfastejendomlokalid",
)  # fmt: skip

_BUILDING_FIELDS = (
    # GeoDanmark Bygning (Datafordeler GeoDanmark Vektor)
    "id_lokalId", "id_lokalid", "id_namespace", "objectid", "tempid", "status",
    "geometristatus", "registreringsspecifikation", "dataansvar", "forretningshaendelse",
    "forretningsomraade", "forretningsproces", "registreringsaktoer", "registreringfra",
    "registreringtil", "virkningsaktoer", "virkningfra", "virkningtil", "plannoejagtighed",
    "planstedfaestelsesmetode", "vertikalnoejagtighed", "vertikalstedfaestelsesmetode",
    "applikation", "kommentar", "gmlid", "bygningstype", "bygning_id", "metode_3d",
    "maalested_bygning", "bbruuid", "under_minimum_bygning",
    # BBR building attributes (byg0xx) as joined in municipal exports
    "Adresse", "BBRLink", "bbruuid", "AntalOpgange", "byg007Bygningsnummer",
    "byg021BygningensAnvendelse", "byg026Opførelsesår", "byg027OmTilbygningsår",
    "byg041BebyggetAreal", "byg054AntalEtager", "AutoUID", "BID",
)  # fmt: skip
_BBR_PATTERN = r"byg\d{3}[A-Za-zÆØÅæøå]+"
#: building id fields, in order of preference (the first present and unique wins)
BUILDING_ID_FIELDS: tuple[str, ...] = (
    "id_lokalId", "id_lokalid", "bygning_id", "bbruuid", "AutoUID", "BID", "objectid",
)  # fmt: skip

_PLAN_FIELDS = (
    # Plandata.dk WFS (theme_pdk_lokalplan_vedtaget / _forslag and other plan themes)
    "planid", "komnr", "objektkode", "plantype", "plannr", "plannavn", "anvgen", "datoforsl",
    "datovedt", "datoaflyst", "datoikraft", "datostart", "datoslut", "datogstart",
    "datogslut", "datoattr", "datogeom", "doklink", "distrikt", "zone", "bebygpct",
    "bebygpctaf", "bebygpctar", "m3_m2", "maxetager", "maxbygnhjd", "minmiljo", "maxmiljo",
    "bevarbest", "mingrund", "datooprt", "datoopdt", "anvendelsegenerel", "kommunenavn",
    "zonestatus", "status", "versionsnr", "megawatt", "sforhold", "minuds", "eareal",
    "earealh", "m3_m2h", "ianvreg", "izonereg", "iomfangreg", "iudstykreg", "kompleks",
    "kbeskriv", "udsbefor", "statsplan", "nedbrydsf", "boligenhed", "udsantal", "maxuds",
    "udstykplan", "bygpctarh", "bygm2", "bygm2h", "fuldtbyg", "bonusvirk", "bonustekst",
    "oudvikling", "plandato", "planstatus", "anvendelse", "kommunekode",
)  # fmt: skip
# numbered sub-area field families (delområde 1..n) of Plandata.dk
_PLAN_NUMBERED = (
    "anvspec", "bygpct", "bygpcth", "eareal", "earealh", "m3_m2", "m3_m2h", "maxbhjd",
    "maxetage", "bygpctar", "bygpctarh", "bygm2", "bygm2h", "minuds", "udsbefor", "fuldtbyg",
    "plankap", "plankapia", "forvprod", "forvprodia", "boligenhed", "udsantal", "maxuds",
    "maxvind", "midludld", "fleksibel", "abestem",
)  # fmt: skip
_PLAN_PATTERN = rf"({'|'.join(_PLAN_NUMBERED)})\d{{1,2}}"

_HEAT_FIELDS = (
    *_PLAN_FIELDS,
    # heat-plan areas (varmeplan / varmeforsyning) published through Plandata.dk
    "varmeforsyning", "forsyningsomraade", "forsyningsform", "opvarmningsform", "vfnavn",
    "vfanvendelse", "navn",
)  # fmt: skip

SCHEMAS: dict[str, Schema] = {
    s.key: s
    for s in (
        Schema(
            "matrikel_jordstykke",
            "parcels",
            "Datafordeler Matriklen: jordstykker",
            "polygon",
            _MAT_FIELDS,
            id_field="matrikel_id",
            toml={"id_field": "matrikel_id"},
        ),
        Schema(
            "buildings",
            "buildings",
            "GeoDanmark bygninger / BBR building footprints",
            "polygon",
            _BUILDING_FIELDS,
            (_BBR_PATTERN,),
            id_field="building_id",
            toml={"id_field": "building_id"},
        ),
        Schema(
            "bbr_institutions",
            "institutions",
            "schools and kindergartens: BBR buildings by use code, or a 'kind' field",
            "any",
            (*_BUILDING_FIELDS, "kind", "name", "navn"),
            (_BBR_PATTERN,),
            toml={"id_field": "name", "kind_field": "kind"},
        ),
        Schema(
            "plandata_lokalplan",
            "local_plans",
            "Plandata.dk lokalplaner",
            "polygon",
            _PLAN_FIELDS,
            (_PLAN_PATTERN,),
            id_field="plannr",
            toml={"id_field": "plannr", "name_field": "plannavn"},
        ),
        Schema(
            "plandata_varmeplan",
            "heat_plans",
            "Plandata.dk varmeplan / heat-plan areas",
            "polygon",
            _HEAT_FIELDS,
            (_PLAN_PATTERN,),
            clip="cut",
            id_field="plan_id",
            toml={"id_field": "plan_id", "name_field": "plannavn"},
        ),
        Schema(
            "kdi_coastal_flood_risk",
            "coastal_flood_risk",
            "Kystdirektoratet: risikoområde for oversvømmelse fra havet",
            "polygon",
            ("DN", "navn", "omraade", "risikoomr", "kommune", "kommunekode"),
            clip="cut",
        ),
        Schema(
            "hip_depth_classes",
            "groundwater_depth_reference",
            "HIP (GEUS): modelled depth to near-surface groundwater, class polygons",
            "polygon",
            ("class", "class_range", "klasse", "interval", "season", "saeson"),
            clip="cut",
            toml={"kind_field": "season"},
        ),
        Schema(
            "groundwater_head",
            "groundwater",
            "groundwater head: contour lines or points",
            "any",
            ("Vsp_2024",),
            (r"(?i)(vsp|pot|head|kote)[_ ]?\d{0,4}",),
            clip="near",
            near_m=2000.0,
        ),
        Schema("generic", "", "a layer without a known schema (every field kept)", "any"),
    )
}


# --------------------------------------------------------------------------- derivations


def _as_text(values: pd.Series) -> pd.Series:
    """Ids as text; integral floats lose their '.0'; strings are stripped."""
    if pd.api.types.is_float_dtype(values):
        finite = values.dropna()
        if (finite == np.round(finite)).all():
            return values.map(lambda v: None if pd.isna(v) else str(int(v)))
    return values.map(_text)


def _text(v: object) -> str | None:
    if v is None or (not isinstance(v, str) and pd.isna(v)):  # type: ignore[call-overload]
        return None
    if isinstance(v, float | np.floating) and float(v).is_integer():
        return str(int(v))
    return str(v).strip()


def first_field(columns: Sequence[str], names: Sequence[str]) -> str | None:
    """The first of ``names`` among ``columns``."""
    return next((n for n in names if n in columns), None)


def _need(gdf: gpd.GeoDataFrame, what: str, options: Sequence[str]) -> str:
    name = first_field(list(gdf.columns), options)
    if name is None:
        have = sorted(c for c in gdf.columns if c != gdf.geometry.name)
        raise InputError(
            f"{what}: none of the fields {list(options)} is present; the file has {have}. "
            "Is it the right source (see `klimakort area init --help`)?"
        )
    empty = gdf[name].isna() | (gdf[name].astype(str).str.strip() == "")
    if empty.any():
        raise InputError(
            f"{what}: field {name!r} is empty in {int(empty.sum())} feature(s) "
            f"(rows {np.flatnonzero(empty.to_numpy())[:10].tolist()})"
        )
    return name


@dataclass
class Derived:
    """The klimakort fields a derivation added, and what it noticed."""

    used: dict[str, str] = field(default_factory=dict)  # klimakort field -> source field(s)
    notes: list[str] = field(default_factory=list)
    dropped: int = 0


def _parcels(gdf: gpd.GeoDataFrame, out: Derived) -> gpd.GeoDataFrame:
    ejerlav_names = EJERLAV_FIELDS
    if (
        "ejerlavskode" not in gdf.columns
        and "ejerlavLokalId" in gdf.columns
        and (first_field(list(gdf.columns), ejerlav_names) is None)
    ):
        raise InputError(
            "parcels: the jordstykker carry ejerlavLokalId but no ejerlavskode; download "
            "them with the ejerlav attributes (Datafordeler MAT 'Jordstykke' with "
            "ejerlavskode), or join MAT_Ejerlav on id_lokalId first"
        )
    ejerlav = _need(gdf, "parcels (ejerlavskode)", ejerlav_names)
    matrnr = _need(gdf, "parcels (matrikelnummer)", MATRNR_FIELDS)
    ids = _as_text(gdf[ejerlav]) + "-" + _as_text(gdf[matrnr])
    dup = ids.duplicated(keep=False)
    if dup.any():
        values = sorted(set(ids[dup]))
        raise InputError(
            f"parcels: {len(values)} matrikel id(s) occur more than once ({values[:5]}); the "
            "file holds historic versions: export only the current (gældende) jordstykker"
        )
    out.used["matrikel_id"] = f"{ejerlav}-{matrnr}"
    return gdf.assign(matrikel_id=ids.to_numpy())


def _buildings(gdf: gpd.GeoDataFrame, out: Derived) -> gpd.GeoDataFrame:
    for name in BUILDING_ID_FIELDS:
        if name in gdf.columns:
            ids = _as_text(gdf[name])
            if ids.notna().all() and ids.is_unique:
                out.used["building_id"] = name
                return gdf.assign(building_id=ids.to_numpy())
            out.notes.append(f"{name} is not a unique, filled id; not used as building_id")
    raise InputError(
        f"buildings: no unique, filled id among {list(BUILDING_ID_FIELDS)}; the file has "
        f"{sorted(c for c in gdf.columns if c != gdf.geometry.name)}"
    )


#: BBR use codes (byg021BygningensAnvendelse) of the institutions suitability scores by:
#: 421 grundskole, 441 daginstitution (BBR 2.x); 420 and 440 are the pre-2019 codes
INSTITUTION_CODES: dict[str, str] = {
    "421": "school",
    "420": "school",
    "441": "kindergarten",
    "440": "kindergarten",
}
_BBR_USE = ("byg021BygningensAnvendelse", "bygningensAnvendelse", "byg021", "BYG_ANVEND_KODE")


def _institutions(gdf: gpd.GeoDataFrame, out: Derived) -> gpd.GeoDataFrame:
    cols = list(gdf.columns)
    if "kind" in cols:
        out.used["kind"] = "kind"
        kinds = _as_text(gdf["kind"])
    else:
        code = _need(gdf, "institutions (a 'kind' field or a BBR use code)", _BBR_USE)
        kinds = _as_text(gdf[code]).map(INSTITUTION_CODES)
        keep = kinds.notna()
        out.dropped = int((~keep).sum())
        out.used["kind"] = f"{code} (421/420 school, 441/440 kindergarten)"
        if out.dropped:
            out.notes.append(
                f"{out.dropped} building(s) dropped: their BBR use code is no school or "
                "kindergarten"
            )
        gdf, kinds = gdf.loc[keep], kinds[keep]
    name = first_field(cols, ("name", "navn", "Adresse", *BUILDING_ID_FIELDS))
    names = _as_text(gdf[name]) if name else pd.Series(range(1, len(gdf) + 1), index=gdf.index)
    out.used["name"] = name or "row number"
    return gdf.assign(kind=kinds.to_numpy(), name=names.astype(str).to_numpy())


def _local_plans(gdf: gpd.GeoDataFrame, out: Derived) -> gpd.GeoDataFrame:
    for f in ("planid", "plannavn"):
        _need(gdf, f"local plans ({f})", (f,))
    plannr = _need(gdf, "local plans (plannr)", ("plannr",))
    nr = _as_text(gdf[plannr])
    if nr.duplicated().any() and "status" in gdf.columns:
        # Plandata.dk publishes proposals (status F) beside adopted plans (V)
        adopted = gdf["status"].astype(str).str.upper().str.startswith("V")
        keep = ~nr.duplicated(keep=False) | adopted
        out.dropped = int((~keep).sum())
        if out.dropped:
            out.notes.append(
                f"{out.dropped} plan proposal(s) dropped: their plannr also has an adopted plan"
            )
        gdf, nr = gdf.loc[keep], nr[keep]
    dup = nr.duplicated(keep=False)
    if dup.any():
        raise InputError(
            f"local plans: plannr {sorted(set(nr[dup]))[:5]} occur more than once; give one "
            "plan per plannr (filter the export by status)"
        )
    out.used["plan_id"] = plannr
    return gdf.assign(plannr=nr.to_numpy(), plan_id=nr.to_numpy())


def _heat_plans(gdf: gpd.GeoDataFrame, out: Derived) -> gpd.GeoDataFrame:
    planid = _need(gdf, "heat plans (planid)", ("planid", "id_lokalId", "objekt_id"))
    out.used["plan_id"] = planid
    return gdf.assign(plan_id=_as_text(gdf[planid]).to_numpy())


def _coastal(gdf: gpd.GeoDataFrame, out: Derived) -> gpd.GeoDataFrame:
    if "DN" in gdf.columns:
        out.used["risk"] = "DN"
        return gdf.assign(risk=gdf["DN"].to_numpy())
    out.notes.append("no DN field: every polygon is the risk area (risk = 1)")
    return gdf.assign(risk=np.ones(len(gdf), dtype=np.int32))


_RANGE = re.compile(r"(\d+(?:[.,]\d+)?)\s*-\s*(\d+(?:[.,]\d+)?)")
_SEASONS = {"summer": "summer", "sommer": "summer", "winter": "winter", "vinter": "winter"}


def season_of(text: str) -> str | None:
    """``summer`` / ``winter`` from a HIP file or layer name (Danish or English)."""
    low = text.lower()
    return next((v for k, v in _SEASONS.items() if k in low), None)


def _hip(gdf: gpd.GeoDataFrame, out: Derived) -> gpd.GeoDataFrame:
    source = str(gdf.attrs.get("source_path", ""))
    rng_field = first_field(list(gdf.columns), ("class_range", "interval"))
    texts = gdf[rng_field].astype(str) if rng_field else pd.Series(source, index=gdf.index)
    parsed = texts.str.extract(_RANGE)
    if parsed.isna().any().any():
        raise InputError(
            f"HIP depth classes {source}: cannot read the depth range (e.g. '0-1') from "
            f"{'field ' + rng_field if rng_field else 'the file name'}"
        )
    lo = parsed[0].str.replace(",", ".").astype(float)
    hi = parsed[1].str.replace(",", ".").astype(float)
    season_field = first_field(list(gdf.columns), ("season", "saeson"))
    if season_field:
        season = gdf[season_field].astype(str).map(lambda v: season_of(v) or v)
    else:
        season = pd.Series(season_of(source) or "unknown", index=gdf.index)
        if season_of(source) is None:
            out.notes.append(f"{source}: season not in the name (summer/winter); 'unknown'")
    out.used.update(
        depth_min_m=rng_field or "file name",
        depth_max_m=rng_field or "file name",
        season=season_field or "file name",
    )
    label = lo.map("{:g}".format) + "-" + hi.map("{:g}".format) + " m"
    return gdf.assign(
        season=season.to_numpy(),
        depth_min_m=lo.to_numpy(),
        depth_max_m=hi.to_numpy(),
        depth_class=label.to_numpy(),
    )


def head_field(gdf: gpd.GeoDataFrame, given: str | None = None) -> str:
    """The head field of a groundwater layer: ``given``, or the one numeric head-like field."""
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    if given:
        if given not in cols:
            raise InputError(f"groundwater: field {given!r} not found; the file has {cols}")
        return given
    numeric = [c for c in cols if pd.api.types.is_numeric_dtype(gdf[c]) and c != "fid"]
    headlike = [c for c in numeric if SCHEMAS["groundwater_head"].is_known(c)]
    pick = headlike if len(headlike) == 1 else numeric
    if len(pick) != 1:
        raise InputError(
            f"groundwater: cannot tell the head field among {numeric or cols}; name it with "
            "--groundwater-field (e.g. Vsp_2024, m DVR90)"
        )
    return pick[0]


DERIVATIONS: dict[str, Callable[[gpd.GeoDataFrame, Derived], gpd.GeoDataFrame]] = {
    "matrikel_jordstykke": _parcels,
    "buildings": _buildings,
    "bbr_institutions": _institutions,
    "plandata_lokalplan": _local_plans,
    "plandata_varmeplan": _heat_plans,
    "kdi_coastal_flood_risk": _coastal,
    "hip_depth_classes": _hip,
}


def derive(schema: Schema, gdf: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, Derived]:
    """Add klimakort's fields to a layer read with ``schema``.

    Returns
    -------
    (GeoDataFrame, Derived)
        The layer with every original field plus klimakort's; what was used and noticed.

    Raises
    ------
    InputError
        A field the mapping needs is missing, empty or not unique (named).
    """
    out = Derived()
    fn = DERIVATIONS.get(schema.key)
    if fn is None:
        return gdf, out
    result = fn(gdf, out)
    result.attrs.update(gdf.attrs)
    return result, out


#: the schema of each ``area init`` option
SCHEMA_OF_LAYER: dict[str, str] = {s.layer_key: s.key for s in SCHEMAS.values() if s.layer_key}
