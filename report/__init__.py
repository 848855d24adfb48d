"""The annual statistics report: figures from the registry, warnings, events and journal, in every format."""
