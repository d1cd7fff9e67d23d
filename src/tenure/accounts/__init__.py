"""Operational records — accounts, contacts, contracts, features, surveys, tickets, touchpoints."""
