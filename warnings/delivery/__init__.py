"""Delivery: the outbox, the dispatcher and the channels."""
