"""The customer-success frameworks, one module each, computed from the customer's data.

Pure modules (fit, outcome, milestones, lifecycle, expansion, churn_classification, value, kpis,
maturity, messages) take plain inputs and return pydantic results that carry their reasons;
beside each, ``<framework>_service.py`` loads from the database (through ``book.py``), calls it
and saves — changes take the actor, who is checked and audited there; ``schemas.py`` holds the
views the CLI, API and web render. Definitions: shared/FRAMEWORKS.md.
"""
