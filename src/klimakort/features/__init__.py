"""OGC API - Features for a workspace: documents, queries, CQL2 filters, GeoJSON and HTML.

Domain code only (no HTTP): ``api/klimakort_api/routes/features.py`` and
``routes/landing.py`` call into it.

Modules
-------
ogc
    Landing page, conformance and collection documents as dicts.
query
    bbox/CRS/paging parameters and the cached per-collection index (STRtree).
cql2
    CQL2-text (Basic CQL2) parser and evaluator to a row mask.
geojson
    Fast Feature/FeatureCollection encoding.
queryables
    JSON Schema of a collection's properties.
html
    ``f=html`` pages.
"""
