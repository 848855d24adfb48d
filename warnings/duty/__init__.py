"""Duty rosters (值班表): who is on duty at the city duty room and each department desk."""
