"""The synthetic corpus: Speech Commands layout, formats, determinism, atomicity."""

from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from model import config
from model.data import synth
from model.data.audio import read_wav
from model.data.dataset import SPLITS, SpeechCommands
from model.errors import BadInput

needs_tools = pytest.mark.skipif(
    shutil.which("espeak-ng") is None or shutil.which("sox") is None,
    reason="espeak-ng and sox are needed to synthesise (apt-get install espeak-ng sox libsox-fmt-all)",
)
WORDS = ("yes", "no", "up", "down")
NAME = re.compile(r"^[0-9a-f]{8}_nohash_\d+\.wav$")


def make(out: Path, seed: int = 7, jobs: int = 1) -> Path:
    synth.synthesize(
        out, per_word=3, seed=seed, jobs=jobs, words=WORDS, progress=False, background_seconds=2, other_per_word=3
    )
    return out


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return make(tmp_path_factory.mktemp("synth") / "corpus")


@needs_tools
def test_layout_and_names(corpus):
    assert sorted(p.name for p in corpus.iterdir()) == sorted(
        [*WORDS, config.BACKGROUND_NOISE_DIR, "testing_list.txt", "validation_list.txt"]
    )
    for word in WORDS:
        names = sorted(p.name for p in (corpus / word).iterdir())
        assert len(names) == 3 and all(NAME.match(name) for name in names), names
    assert list(corpus.parent.iterdir()) == [corpus], "temporary directories left behind"


@needs_tools
def test_clips_are_one_second_16bit_and_not_silent(corpus):
    for path in corpus.glob("*/*.wav"):
        if path.parent.name == config.BACKGROUND_NOISE_DIR:
            continue
        pcm = read_wav(path, max_samples=config.CLIP_SAMPLES).astype(np.float64) / 32768
        assert pcm.size == config.CLIP_SAMPLES, path
        frames = np.sqrt(np.mean(pcm.reshape(100, 160) ** 2, axis=1))
        # A word stands well above the noise floor somewhere in the clip.
        assert frames.max() > 0.004 and frames.max() > 4 * np.median(frames), path


@needs_tools
def test_background_folder(corpus):
    files = sorted((corpus / config.BACKGROUND_NOISE_DIR).glob("*.wav"))
    assert [p.stem for p in files] == sorted(synth.BACKGROUNDS)
    for path in files:
        pcm = read_wav(path).astype(np.float64) / 32768
        assert pcm.size == 2 * config.SAMPLE_RATE
        assert np.sqrt(np.mean(pcm**2)) == pytest.approx(synth.BACKGROUND_RMS, rel=0.02)
    assert len({p.read_bytes() for p in files}) == len(files)


@needs_tools
def test_deterministic_whatever_the_jobs(corpus, tmp_path):
    assert tree(make(tmp_path / "again", jobs=2)) == tree(corpus)
    assert tree(make(tmp_path / "other", seed=8)) != tree(corpus)


@needs_tools
def test_loads_through_dataset_with_speakers_in_one_split(corpus):
    data = SpeechCommands(corpus, unknown_pct=100)
    listed = SpeechCommands(corpus, unknown_pct=100, use_list_files=True)
    seen: dict[str, str] = {}
    for split in SPLITS:
        assert data.split(split) == listed.split(split)
        for example in data.split(split):
            if example.path is not None:
                speaker = example.path.name.split("_nohash_")[0]
                assert seen.setdefault(speaker, split) == split
    assert sum(data.summary()[split]["yes"] for split in SPLITS) == 3
    training = data.split("training")
    assert data.augmented(training[0], np.random.default_rng(0)).shape == (config.CLIP_SAMPLES,)


@needs_tools
def test_failed_run_keeps_the_old_corpus(corpus, tmp_path, monkeypatch):
    out = tmp_path / "corpus"
    shutil.copytree(corpus, out)
    before = tree(out)

    def broken(spec, tempo):
        raise RuntimeError("espeak-ng crashed")

    monkeypatch.setattr(synth, "_speak", broken)
    with pytest.raises(RuntimeError, match="crashed"):
        make(out)
    assert tree(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["corpus"]


def test_missing_tool_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(synth.shutil, "which", lambda tool: None if tool == "sox" else f"/usr/bin/{tool}")
    with pytest.raises(BadInput, match="sox not found"):
        make(tmp_path / "corpus")
    assert not (tmp_path / "corpus").exists()


def test_speaker_ids_name_the_configuration():
    a = synth.Speaker("en-us", "m3", 50, 175)
    assert re.fullmatch(r"[0-9a-f]{8}", a.id)
    assert a.id == synth.Speaker("en-us", "m3", 50, 175).id
    assert len({a.id, synth.Speaker("en-us", "m3", 51, 175).id, synth.Speaker("en-gb", "m3", 50, 175).id}) == 3


def test_other_words_get_a_share_of_the_keyword_count():
    counts = synth.clips_per_word(synth.DEFAULT_WORDS, 1000)
    assert len(counts) == 35 and {counts[w] for w in config.WANTED_WORDS} == {1000}
    assert {n for w, n in counts.items() if w not in config.WANTED_WORDS} == {250}
    assert synth.clips_per_word(("yes", "up"), 3) == {"yes": 3, "up": 1}
    assert synth.clips_per_word(("yes", "up"), 3, other_per_word=5) == {"yes": 3, "up": 5}


def test_cli_rejects_bad_counts():
    parser = argparse.ArgumentParser()
    synth.register(parser.add_subparsers())
    args = parser.parse_args(["synth", "--out", "x"])
    assert (args.per_word, args.other_per_word, args.seed, args.jobs) == (1000, None, 0, None)
    with pytest.raises(SystemExit):
        parser.parse_args(["synth", "--out", "x", "--per-word", "0"])
