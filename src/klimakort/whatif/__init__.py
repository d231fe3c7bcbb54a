"""What-if: draw terrain edits (dikes, swales, basins, culverts, removed buildings), recompute
the hazards on the edited terrain and compare them with the base run.

Modules: :mod:`~klimakort.whatif.edits` (typed, validated edits), :mod:`~klimakort.whatif.apply`
(edits on the terrain grid), :mod:`~klimakort.whatif.recompute` (the edited hazards, full or
local), :mod:`~klimakort.whatif.local` (the local rain-flow recompute),
:mod:`~klimakort.whatif.compare` (difference rasters and the parcels that change),
:mod:`~klimakort.whatif.store` (named edit sets stored with the area) and
:mod:`~klimakort.whatif.jobs` (background runs with progress, for the API).
"""
