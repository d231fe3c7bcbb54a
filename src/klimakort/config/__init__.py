"""Area configuration: the ``area.toml`` model, loading and validation."""

from klimakort.config.area import LAYER_KEYS, AreaConfig, LayerRef, RasterRef, load_area

__all__ = ["LAYER_KEYS", "AreaConfig", "LayerRef", "RasterRef", "load_area"]
