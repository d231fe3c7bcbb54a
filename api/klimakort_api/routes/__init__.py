"""Routers of the API, one module per concern, each defining ``router`` (an ``APIRouter``);
:func:`klimakort_api.app.create_app` includes them."""
