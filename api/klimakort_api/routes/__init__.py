"""Routers of the API, one module per concern; :func:`klimakort_api.app.create_app`
includes every router listed in :data:`ROUTER_MODULES` that exists."""

#: modules of this package that define ``router`` (an ``APIRouter``), in include order
ROUTER_MODULES: tuple[str, ...] = (
    "landing",
    "features",
    "sites",
    "tiles",
    "vectortiles",
    "reports",
    "analysis",
    "map",
)
