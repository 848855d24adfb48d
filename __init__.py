"""fangxun (防汛): the flood-control coordination service of a city emergency-management bureau.

It keeps the registry of flood contingency plans from the city down to every village with their
review clock, turns meteorological warnings into acknowledged notifications, draws the duty map
of plan coverage and exports the annual statistics.
"""

__version__ = "0.1.0"
