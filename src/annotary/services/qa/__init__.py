"""Quality assurance use cases: the project QA report, re-aggregation, agreement on files."""
