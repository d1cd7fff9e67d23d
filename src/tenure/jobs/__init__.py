"""Scheduled and background work, never run inside a web request: the daily run, the intraday
refresh, the worker that runs them on a clock, and the locks and child processes they share.

Jobs call the domains' services (metrics, health, risk, playbooks …); ``tenure run``, ``tenure
refresh`` and ``tenure serve`` start them.
"""
