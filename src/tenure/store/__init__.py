"""Stores: the operational database (SQLAlchemy + Alembic) and the event store (Ibis)."""
