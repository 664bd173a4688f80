"""Keyword spotting with TinyConv: data, features, training, compression and deployment."""
