"""The annotation queue: serving tasks, settling items, senior review and routing."""
