"""The local rain-flow recompute of a what-if (placeholder: always falls back)."""

from __future__ import annotations

from collections.abc import Callable

from klimakort.config.area import AreaConfig
from klimakort.hazards.area import AreaHazards
from klimakort.whatif.apply import AppliedEdits


def local_recompute(
    cfg: AreaConfig,
    applied: AppliedEdits,
    scenario: str,
    base: AreaHazards,
    progress: Callable[[str], None] | None = None,
) -> tuple[AreaHazards | None, dict[str, object]]:
    """The edited hazards computed locally, or None (with the reason) to fall back."""
    return None, {"fallback": "local recompute not available"}
