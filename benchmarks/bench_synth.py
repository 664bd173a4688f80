"""Synthetic corpus throughput: clips per second of ``kws data synth`` on all cores."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def run(per_word: int | None = None, jobs: int | None = None) -> dict:
    """Synthesise the default corpus (``per_word`` clips of each keyword, default ``kws data synth``'s) and time it.

    The time includes the background recordings and the process pool start-up, as a user sees it.
    """
    from model.data.synth import DEFAULT_PER_WORD, synthesize

    jobs = jobs or os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="bench-synth-") as tmp:
        summary = synthesize(
            Path(tmp) / "corpus", per_word=per_word or DEFAULT_PER_WORD, seed=0, jobs=jobs, progress=False
        )
    return {
        "clips": summary["clips"],
        "jobs": jobs,
        "seconds": summary["seconds"],
        "clips_per_s": summary["clips_per_second"],
    }


if __name__ == "__main__":
    print(run())
