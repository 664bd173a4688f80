"""Datasets: Speech Commands download, the TF-compatible input pipeline, and a synthetic corpus."""
