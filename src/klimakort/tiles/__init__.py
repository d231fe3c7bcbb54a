"""Raster map tiles: tile matrix sets, colour maps, pre-warped pyramids, PNG tiles,
legends, TileJSON and whole-layer overlays for the standalone map."""
