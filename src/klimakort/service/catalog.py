"""The catalogue of served layers: ids, Danish and English titles, units, groups, styling.

One place names every raster layer and vector collection a service offers, so the
API, the map and the tile renderer agree on ids, legends and default colour scales.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: map groups, in display order, with Danish and English names
GROUPS: dict[str, dict[str, str]] = {
    "terrain": {"da": "Terræn", "en": "Terrain"},
    "hazards": {"da": "Klimafarer", "en": "Hazards"},
    "parcels": {"da": "Matrikler", "en": "Parcels"},
    "local_plans": {"da": "Lokalplaner", "en": "Local plans"},
    "heating": {"da": "Fjernvarme", "en": "District heating"},
    "planned_sites": {"da": "Planlagte tiltag", "en": "Planned sites"},
    "suitability": {"da": "Egnethed", "en": "Suitability"},
    "other": {"da": "Øvrige lag", "en": "Other layers"},
}


@dataclass(frozen=True)
class RasterLayer:
    """A raster layer the service renders as map tiles.

    Attributes
    ----------
    id : str
        Layer id used in URLs.
    title : dict
        ``{"da": ..., "en": ...}``.
    units : str
        Units of the values.
    group : str
        Key of :data:`GROUPS`.
    scenario_dependent : bool
        Whether the layer differs per climate scenario.
    colormap : str
        Default colour map name (a matplotlib name, or ``"depth"``/``"classes"``).
    rescale : tuple of float
        Default value range mapped onto the colour map.
    classes : dict, optional
        For categorical layers: value -> ``{"da", "en", "color"}``.
    transparent_below : float, optional
        Values at or below this are drawn transparent (e.g. zero flood depth).
    description : str
        What the layer shows and how it was derived.
    """

    id: str
    title: dict[str, str]
    units: str
    group: str
    scenario_dependent: bool
    colormap: str
    rescale: tuple[float, float]
    classes: dict[int, dict[str, str]] | None = None
    transparent_below: float | None = None
    description: str = ""


@dataclass(frozen=True)
class Collection:
    """A vector collection served through OGC API - Features (and MVT).

    Attributes
    ----------
    id : str
        Collection id used in URLs.
    title : dict
        ``{"da": ..., "en": ...}``.
    group : str
        Key of :data:`GROUPS`.
    id_field : str or None
        Field holding the feature id; row numbers (from 1) when None or not unique.
    editable : bool
        Whether the API accepts writes (planned sites only).
    scenario_dependent : bool
        Whether the features carry a ``scenario`` property (one set per scenario).
    description : str
        What the collection holds.
    """

    id: str
    title: dict[str, str]
    group: str
    id_field: str | None = None
    editable: bool = False
    scenario_dependent: bool = False
    description: str = ""
    keywords: tuple[str, ...] = field(default_factory=tuple)


_DEPTH = "m"
#: raster layers, in map order
RASTER_LAYERS: dict[str, RasterLayer] = {
    r.id: r
    for r in (
        RasterLayer(
            "terrain",
            {"da": "Terræn (DVR90)", "en": "Terrain (DVR90)"},
            "m DVR90",
            "terrain",
            False,
            "terrain",
            (-2.0, 30.0),
            description="terrain model of the area (heights in m DVR90)",
        ),
        RasterLayer(
            "hillshade",
            {"da": "Skyggekort", "en": "Hillshade"},
            "0-255",
            "terrain",
            False,
            "gray",
            (0.0, 255.0),
            description="hillshade of the terrain (sun from NW, 45 degrees)",
        ),
        RasterLayer(
            "accumulation",
            {"da": "Vandets veje (opland)", "en": "Rain-flow paths (upstream area)"},
            "m²",
            "terrain",
            False,
            "flow",
            (100.0, 1_000_000.0),
            transparent_below=100.0,
            description="upstream contributing area of D8 flow on the filled terrain "
            "(log scale); cells draining less than 100 m² are not drawn",
        ),
        RasterLayer(
            "bluespot_depth",
            {"da": "Blå pletter (maks. dybde)", "en": "Bluespots (max depth)"},
            _DEPTH,
            "hazards",
            False,
            "depth",
            (0.0, 2.0),
            transparent_below=0.0,
            description="depth of closed depressions when full: filled terrain - terrain",
        ),
        RasterLayer(
            "cloudburst_depth",
            {"da": "Skybrud: vanddybde", "en": "Cloudburst flood depth"},
            _DEPTH,
            "hazards",
            True,
            "depth",
            (0.0, 1.0),
            transparent_below=0.0,
            description="water depth of the scenario's design cloudburst (fill-spill of "
            "bluespots; rain in mm from the scenario)",
        ),
        RasterLayer(
            "sea_depth",
            {"da": "Havvand: oversvømmelsesdybde", "en": "Sea flooding depth"},
            _DEPTH,
            "hazards",
            True,
            "sea",
            (0.0, 2.0),
            transparent_below=0.0,
            description="depth of sea inundation connected to the sea at the scenario's "
            "storm-surge level (barriers hold to their crest)",
        ),
        RasterLayer(
            "sea_at_risk",
            {"da": "Havvand: lavbund bag diger", "en": "Sea: low land behind barriers"},
            "1 = at risk",
            "hazards",
            True,
            "classes",
            (0.0, 1.0),
            classes={1: {"da": "Under havniveau", "en": "Below sea level", "color": "#c51b8a"}},
            transparent_below=0.0,
            description="land below the scenario's sea level that is flooded only if a "
            "barrier fails",
        ),
        RasterLayer(
            "groundwater_depth",
            {"da": "Dybde til grundvand", "en": "Depth to groundwater"},
            "m below terrain",
            "hazards",
            True,
            "groundwater",
            (0.0, 3.0),
            description="terrain minus groundwater head raised by the scenario's rise",
        ),
        RasterLayer(
            "groundwater_classes",
            {"da": "Grundvand: dybdeklasser", "en": "Groundwater depth classes"},
            "class",
            "hazards",
            True,
            "classes",
            (1.0, 4.0),
            classes={
                1: {"da": "0-1 m", "en": "0-1 m", "color": "#08306b"},
                2: {"da": "1-2 m", "en": "1-2 m", "color": "#2171b5"},
                3: {"da": "2-3 m", "en": "2-3 m", "color": "#6baed6"},
                4: {"da": "over 3 m", "en": "over 3 m", "color": "#deebf7"},
            },
            description="depth to groundwater in four classes",
        ),
    )
}

#: vector collections (those configured for the area, plus the derived ones)
COLLECTIONS: dict[str, Collection] = {
    c.id: c
    for c in (
        Collection(
            "parcels",
            {"da": "Matrikler", "en": "Cadastral parcels"},
            "parcels",
            "parcel_id",
            description="cadastral parcels; id = ejerlavskode-matrikelnummer",
        ),
        Collection(
            "buildings",
            {"da": "Bygninger", "en": "Buildings"},
            "parcels",
            "building_id",
            description="building footprints with floor levels",
        ),
        Collection(
            "local_plans",
            {"da": "Lokalplaner", "en": "Local plans"},
            "local_plans",
            "planid",
            description="local plans (Plandata.dk schema)",
        ),
        Collection(
            "heating_zones",
            {"da": "Fjernvarmeområder", "en": "District-heating zones"},
            "heating",
            "zone",
            description="district-heating supply zones",
        ),
        Collection(
            "heating_mains",
            {"da": "Fjernvarmeledninger", "en": "District-heating mains"},
            "heating",
            "main_id",
        ),
        Collection(
            "planned_sites",
            {"da": "Planlagte træer og skove", "en": "Planned tree and forest sites"},
            "planned_sites",
            "site_id",
            editable=True,
            description="planned tree rows and Miyawaki forests (editable with an API key)",
        ),
        Collection(
            "bluespots",
            {"da": "Blå pletter", "en": "Bluespots"},
            "hazards",
            "bluespot_id",
            description="closed depressions with volume, max depth and pour point",
        ),
        Collection(
            "flowpaths",
            {"da": "Vandets veje", "en": "Rain-flow paths"},
            "hazards",
            None,
            description="main rain-flow paths (streams of the D8 flow network)",
        ),
        Collection(
            "flooded_areas",
            {"da": "Oversvømmede områder (skybrud)", "en": "Flooded areas (cloudburst)"},
            "hazards",
            None,
            scenario_dependent=True,
            description="cloudburst flooding per bluespot and depth class; property "
            "'scenario' names the scenario",
        ),
        Collection(
            "candidate_sites",
            {"da": "Kandidatarealer: Miyawaki-skov", "en": "Candidate sites: Miyawaki forest"},
            "suitability",
            "site_id",
            description="candidate Miyawaki-forest sites ranked by suitability (2100)",
        ),
        Collection(
            "public_land",
            {"da": "Offentlige arealer", "en": "Public land"},
            "other",
            "name",
        ),
        Collection("institutions", {"da": "Institutioner", "en": "Institutions"}, "other", "name"),
        Collection("roads", {"da": "Veje", "en": "Roads"}, "other", "road_id"),
        Collection("streams", {"da": "Vandløb", "en": "Streams"}, "other", "stream_id"),
        Collection("lakes", {"da": "Søer", "en": "Lakes"}, "other", "name"),
        Collection("barriers", {"da": "Diger og klitter", "en": "Barriers"}, "other", "barrier_id"),
        Collection(
            "coastal_flood_risk",
            {
                "da": "Risikoområde for oversvømmelse (Kystdirektoratet)",
                "en": "Coastal flood risk area (Kystdirektoratet)",
            },
            "hazards",
            None,
            description="Kystdirektoratet's designated risk area for flooding from the sea",
        ),
        Collection(
            "groundwater_depth_reference",
            {
                "da": "Terrænnært grundvand (HIP, reference)",
                "en": "Depth to groundwater (HIP, reference)",
            },
            "hazards",
            None,
            description="HIP's modelled depth to near-surface groundwater (GEUS) as class "
            "polygons per season (depth_min_m, depth_max_m, season), shown beside "
            "klimakort's own groundwater depth for comparison",
        ),
    )
}
