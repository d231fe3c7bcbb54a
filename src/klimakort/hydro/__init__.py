"""Hydrological products built on the core kernels: flow paths and terrain burn-in."""
