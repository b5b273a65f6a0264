"""Runnable examples of the library API (``python -m experiments.examples.quickstart``)."""
