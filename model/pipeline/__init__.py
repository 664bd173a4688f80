"""``kws pipeline``, the main job: its stages, their records, the emulation of the test split
on each firmware variant and the Markdown/HTML report."""
