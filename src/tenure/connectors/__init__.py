"""Live connectors: records read from a customer's CRM, billing and support systems through the
vendors' own client libraries, stored through the same mappings and import rules as file imports.

One module per vendor (its API calls apart from the pure reshaping of its records), ``sync.py``
(batches → the importer → cursors → the run record), ``service.py`` (what the surfaces call).
"""
