"""Climate hazards: scenarios, sea-level inundation and depth to groundwater.

Submodules
----------
scenarios
    Named climate scenarios (``present``, ``2050``, ``2100``) with sourced values.
sealevel
    Minimum flooding level from the sea, connected inundation, critical points.
groundwater
    Groundwater head surfaces, depth to groundwater and depth classes.
"""

from klimakort.hazards.scenarios import Scenario, SourcedValue, load_scenario, scenario_names

__all__ = ["Scenario", "SourcedValue", "load_scenario", "scenario_names"]
