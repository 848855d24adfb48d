"""Delivery: notices (the one writer of notification rows and their 叫应 state), the outbox, the dispatcher and the channels."""
