"""Audio and datasets: WAV files, the Speech Commands download and TF-compatible loader, the
synthetic corpus, the micro frontend's features and ``kws data plot``."""
