"""What a running service holds for one area: the hazards, the layers and their catalogue.

Domain code only (no HTTP): the API in ``api/`` and the CLI both use it.
"""

from klimakort.service.catalog import COLLECTIONS, RASTER_LAYERS, Collection, RasterLayer
from klimakort.service.workspace import Workspace

__all__ = ["COLLECTIONS", "RASTER_LAYERS", "Collection", "RasterLayer", "Workspace"]
