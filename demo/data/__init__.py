"""Packaged reference data (administrative division codes of Zhengzhou)."""
