"""Benchmarks: the package against a plain NumPy reference and a random-number roofline (``python -m bench``)."""
