"""Warnings by stage: intake, routing, delivery through the outbox, acknowledgement (叫应) and events."""
