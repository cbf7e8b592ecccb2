"""Use cases: one function each; they own their transactions and audit events."""
