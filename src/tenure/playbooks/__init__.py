"""Playbooks: rules that turn signals into calls to action, surveys, the outbox and webhooks."""
