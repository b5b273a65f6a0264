"""Runnable examples of the library API (``python -m model_collapse.experiments.examples.quickstart``)."""
