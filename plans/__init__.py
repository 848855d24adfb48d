"""Plan registry: administrative units, plans, contacts, shelters, review clock, coverage, import/export."""
