"""The demo registry and the demo year (nothing in the domain imports this package)."""
