"""Warning intake: CAP parse and write, the normalised warning, the hand-entry form, feeds, lifecycle, preview."""
