"""The project QA report computed from loaded arrays (no database): agreement per
field, gold accuracy, monitoring and bias sections."""
