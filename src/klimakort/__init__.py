"""klimakort: climate-adaptation planning layers for Danish municipalities.

Heights are metres DVR90, coordinates EPSG:25832 (ETRS89 / UTM 32N) unless stated.
"""

__version__ = "0.1.0"
