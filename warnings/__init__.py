"""Warnings by stage: intake (CAP, feeds, hand entry), routing, delivery through the outbox, acknowledgement (叫应) and events."""
