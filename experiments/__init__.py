"""Experiment entry points: each writes PNG figures with their numbers as JSON beside them."""
