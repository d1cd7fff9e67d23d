"""Learned churn risk: observation datasets, explainable models, honest evaluation, scores."""
