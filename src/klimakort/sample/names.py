"""Deterministic Danish-style names for the synthetic sample's roads and places."""

from __future__ import annotations

_PREFIXES = (
    "Birke",
    "Ege",
    "Pile",
    "Hyld",
    "Rose",
    "Lærke",
    "Måge",
    "Terne",
    "Sand",
    "Klit",
    "Eng",
    "Mose",
    "Rør",
    "Bakke",
    "Ager",
    "Kilde",
    "Hvede",
    "Byg",
    "Hasse",
    "Ahorn",
    "Bøge",
    "Lind",
    "Kastanje",
    "Hvidtjørn",
    "Strandeng",
    "Vibe",
    "Ryle",
    "Siv",
    "Tang",
    "Fjord",
)
_SUFFIXES = ("vej", "allé", "vænget", "stien", "gade", "haven")


def street_name(index: int) -> str:
    """Return a unique street name for ``index`` (0 <= index < 180)."""
    prefix = _PREFIXES[index % len(_PREFIXES)]
    suffix = _SUFFIXES[(index // len(_PREFIXES)) % len(_SUFFIXES)]
    return prefix + suffix


def matrikelnummer(number: int, letter_index: int | None) -> str:
    """Matrikel number such as ``"12"`` or ``"12a"`` (letters a-z, then æ, ø)."""
    letters = "abcdefghijklmnopqrstuvwxyzæø"
    return str(number) if letter_index is None else f"{number}{letters[letter_index]}"
