"""Evaluation code: the only place besides simulate/ that reads a simulation's ground truth."""
