"""Tenure: an open-source Customer Success platform."""

__version__ = "0.1.0"
