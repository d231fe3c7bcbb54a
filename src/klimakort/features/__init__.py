"""OGC API - Features for a workspace: documents, queries, CQL2 filters, GeoJSON and HTML.

Domain code only (no HTTP): ``api/klimakort_api/routes/features.py`` and
``routes/landing.py`` call into it.

Modules
-------
ogc
    Landing page, conformance and collection documents as dicts.
query
    bbox/CRS/paging/filter-lang parameters, the cached per-collection index (STRtree)
    and the query itself.
cql2
    CQL2-text parser (Basic CQL2, LIKE/IN/BETWEEN, the spatial functions) and the
    evaluator to a row mask.
cql2_json
    CQL2-JSON parser into the same expression tree.
geojson
    Fast Feature/FeatureCollection encoding.
queryables
    JSON Schema of a collection's properties.
html
    ``f=html`` pages.
"""
