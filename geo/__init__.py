"""Geometry from plain data: boundary files, the spatial index of units, simplification, the coverage map."""
