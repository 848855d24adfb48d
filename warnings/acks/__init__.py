"""叫应: tokens, acknowledging, reminders and escalation."""
