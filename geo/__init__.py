"""Geometry from plain data: boundary files, GCJ-02 repair, the spatial index of units, simplification and the coverage map."""
