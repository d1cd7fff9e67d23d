"""Health scorecards and their explanations.

- :mod:`tenure.health.scorecard` (pure): YAML scorecard → 0–100 score, per-measure points, bands,
  profiles, "what would move it", trend. ``default_scorecard.yaml`` is the documented default.
- :mod:`tenure.health.service`: ``score_day(session, store, as_of, card)`` stores daily scores
  with history and the scorecard version; ``explain_account``, ``latest_scores``,
  ``score_history`` read them back as :class:`tenure.health.schemas.AccountScore`.
"""
