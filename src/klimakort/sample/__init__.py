"""The built-in synthetic sample area "Strandby" (deterministic, labelled synthetic).

A 4 x 3 km coastal municipality patterned on the Køge Bugt coast at Vallensbæk Strand
(EPSG:25832, heights in m DVR90): sea, a beach ridge with one low gap, low land, moraine,
a stream with a lake, a town with roads, parcels, buildings, district-heating zones,
public land, institutions and planned nature measures.
"""

from klimakort.sample.area import DEFAULT_SEED, LAYER_KEYS, SampleArea, generate_sample
from klimakort.sample.write import area_toml, write_area, write_sample

__all__ = [
    "DEFAULT_SEED",
    "LAYER_KEYS",
    "SampleArea",
    "area_toml",
    "generate_sample",
    "write_area",
    "write_sample",
]
