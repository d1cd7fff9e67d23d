"""The customer-success frameworks, one module each, computed from the customer's data.

Pure modules (fit, outcome, milestones, lifecycle, expansion, churn_classification, value, kpis,
maturity, messages) take plain inputs and return pydantic results that carry their reasons;
`service.py` loads from the database, calls them and saves. Definitions: shared/FRAMEWORKS.md.
"""
