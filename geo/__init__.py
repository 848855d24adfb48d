"""Geometry: boundaries, spatial index, area matching, map rendering (not built yet)."""
