"""Site suitability for nature-based climate-adaptation measures.

Measure profiles (:mod:`.profiles`), fuzzy criterion transforms (:mod:`.transforms`), AHP
weights (:mod:`.ahp`), suitability rasters (:mod:`.raster`), candidate sites
(:mod:`.candidates`), benefit estimates (:mod:`.benefits`), the exact portfolio choice
(:mod:`.portfolio`, a MILP solved by HiGHS), rank sensitivity (:mod:`.sensitivity`) and
tree potential per parcel (:mod:`.trees`).
"""

from klimakort.suitability.ahp import ahp_weights
from klimakort.suitability.benefits import site_benefits
from klimakort.suitability.candidates import candidate_sites, disc, wide_enough
from klimakort.suitability.portfolio import PortfolioResult, choose_portfolio
from klimakort.suitability.profiles import (
    CRITERION_SOURCES,
    Profile,
    get_profile,
    load_profiles,
)
from klimakort.suitability.raster import (
    CONSTRAINT_ORDER,
    SuitabilityInputs,
    SuitabilityResult,
    inputs_from_area,
    suitability,
    suitability_from_inputs,
)
from klimakort.suitability.sensitivity import SensitivityResult, rank_sensitivity
from klimakort.suitability.transforms import Transform
from klimakort.suitability.trees import TreePotential, tree_potential

__all__ = [
    "CONSTRAINT_ORDER",
    "CRITERION_SOURCES",
    "PortfolioResult",
    "Profile",
    "SensitivityResult",
    "SuitabilityInputs",
    "SuitabilityResult",
    "Transform",
    "TreePotential",
    "ahp_weights",
    "candidate_sites",
    "choose_portfolio",
    "disc",
    "get_profile",
    "inputs_from_area",
    "load_profiles",
    "rank_sensitivity",
    "site_benefits",
    "suitability",
    "suitability_from_inputs",
    "tree_potential",
    "wide_enough",
]
