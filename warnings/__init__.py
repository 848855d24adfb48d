"""Warning intake, routing, dispatch and acknowledgement (not built yet)."""
