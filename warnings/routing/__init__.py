"""Who a warning goes to and how: routing tree, recipients, templates, quiet hours, deadlines (pure rules)."""
