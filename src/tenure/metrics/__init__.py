"""The metric registry: named, backend-neutral Ibis definitions of per-account metrics.

Public API (everything else is internal):

- :func:`tenure.metrics.registry.all_metrics`, :func:`~tenure.metrics.registry.get_metric` — the
  registry (slug, name, unit, description, one Ibis expression each);
- :func:`tenure.metrics.compute.compute_metrics` ``(con, events, snapshot, as_of) -> ibis.Table``;
- :func:`tenure.metrics.over_dates.compute_metrics_over_dates` ``(con, events, snapshot, dates)
  -> DataFrame`` — many as-of dates with one read of the events (churn datasets);
- :func:`tenure.metrics.snapshot.load_snapshot` ``(session, con) -> Snapshot``;
- :func:`tenure.metrics.service.metrics_frame` ``(session, store, as_of) -> DataFrame`` and the
  stored history: ``compute_and_store``, ``stored_metrics``, ``metric_history``;
- :func:`tenure.metrics.qa.qa_report` — empty/constant metric flags.

As-of semantics and event attribution are defined in :mod:`tenure.metrics.inputs`.
"""
