"""The synthetic corpus: Speech Commands layout, formats, determinism, atomicity."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from model import config
from model.data import synth, voices
from model.data.audio import read_wav
from model.data.dataset import SPLITS, SpeechCommands
from model.errors import BadInput

needs_tools = pytest.mark.skipif(
    any(shutil.which(tool) is None for tool in ("sox", *voices.SOURCES)),
    reason="sox, espeak-ng, flite and festival are needed to synthesise (make debian installs them)",
)
WORDS = ("yes", "no", "up", "down")
NAME = re.compile(r"^[0-9a-f]{8}_nohash_\d+\.wav$")


def make(out: Path, seed: int = 3, jobs: int = 1) -> Path:
    """A tiny corpus of every source with the microphone augmentation (the widest code path)."""
    synth.synthesize(
        out,
        per_word=3,
        seed=seed,
        jobs=jobs,
        words=WORDS,
        progress=False,
        background_seconds=2,
        other_per_word=3,
        sources=voices.SOURCES,
        augment="mic",
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
        [*WORDS, config.BACKGROUND_NOISE_DIR, "sources.json", "testing_list.txt", "validation_list.txt"]
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
    assert [p.stem for p in files] == sorted([*synth.BACKGROUNDS, synth.BABBLE_NAME])
    for path in files:
        pcm = read_wav(path).astype(np.float64) / 32768
        assert pcm.size == 2 * config.SAMPLE_RATE
        if path.stem == synth.BABBLE_NAME:  # peaky speech is kept from clipping
            assert 0.3 * synth.BACKGROUND_RMS < np.sqrt(np.mean(pcm**2)) <= 1.01 * synth.BACKGROUND_RMS
            assert np.max(np.abs(pcm)) < 0.995
        else:
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

    def broken(spec, tempo, renderings):
        raise RuntimeError("espeak-ng crashed")

    monkeypatch.setattr(synth, "_speak", broken)
    with pytest.raises(RuntimeError, match="crashed"):
        make(out)
    assert tree(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["corpus"]


def test_missing_tool_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(voices.shutil, "which", lambda tool: None if tool == "sox" else f"/usr/bin/{tool}")
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


@needs_tools
def test_every_source_speaks_and_is_recorded(corpus):
    manifest = json.loads((corpus / "sources.json").read_text())
    assert sorted(manifest["sources"]) == sorted(voices.SOURCES), "the fixture should cover every source"
    for path in corpus.glob("*/*.wav"):
        if path.parent.name != config.BACKGROUND_NOISE_DIR:
            assert manifest["speakers"][path.name.split("_nohash_")[0]]["source"] in voices.SOURCES
    assert sum(entry["clips"] for entry in manifest["sources"].values()) == 3 * len(WORDS)


@needs_tools
def test_engine_missing_from_path_is_one_line_exit_2(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("sox", "espeak-ng", "festival"):  # everything but flite
        (bin_dir / tool).symlink_to(shutil.which(tool))
    cmd = [sys.executable, "-m", "model.cli", "data", "synth", "--out", str(tmp_path / "c"), "--per-word", "2"]
    cmd += ["--sources", ",".join(voices.SOURCES)]
    env = {**os.environ, "PATH": str(bin_dir)}
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=Path(__file__).parent.parent)
    assert result.returncode == 2
    assert result.stderr == "kws: flite not found on PATH: install it (apt-get install flite)\n"
    assert not (tmp_path / "c").exists()


def test_unknown_source_is_a_usage_error():
    parser = argparse.ArgumentParser()
    synth.register(parser.add_subparsers())
    assert parser.parse_args(["synth", "--out", "x"]).sources == list(voices.DEFAULT_SOURCES)
    assert parser.parse_args(["synth", "--out", "x", "--sources", "flite,festival"]).sources == ["flite", "festival"]
    with pytest.raises(SystemExit):
        parser.parse_args(["synth", "--out", "x", "--sources", "espeak-ng,mbrola"])


CHOICES = {"espeak-ng": [("en-us", "m3"), ("en-gb", "f2")], "flite": [("slt", "")], "festival": [("kal_diphone", "")]}


def test_plan_draws_sources_and_keeps_augment_modes_aligned():
    counts = synth.clips_per_word(("yes", "up"), 200)
    mic = synth.plan(counts, 200, 5, CHOICES, "mic")
    none = synth.plan(counts, 200, 5, CHOICES, "none")
    assert mic == synth.plan(counts, 200, 5, CHOICES, "mic")
    shares = {source: sum(s.speaker.source == source for s in mic) / len(mic) for source in CHOICES}
    assert all(0.2 < share < 0.47 for share in shares.values()), shares
    # The same speakers, names and placement in both modes; only the microphone and room differ.
    assert [(a.name, a.speaker, a.offset, a.noise_seed) for a in mic] == [
        (b.name, b.speaker, b.offset, b.noise_seed) for b in none
    ]
    assert {s.noise_colour for s in none} == {"white"} and {s.reverb for s in none} == {None}
    assert {s.min_snr_db for s in none} == {None} and {s.min_snr_db for s in mic} == {synth.MIN_SNR_DB}
    assert set(synth.NOISE_COLOURS) == {s.noise_colour for s in mic}
    in_room = sum(s.reverb is not None for s in mic) / len(mic)
    assert 0.6 < in_room < 0.8
    assert min(s.lowpass_hz for s in mic) < 4000 <= min(s.lowpass_hz for s in none)


def test_espeak_alone_draws_speakers_as_the_first_corpus():
    voices_, variants = ["en-us", "en-gb", "en-gb-x-rp"], ["m3", "f2", "klatt", "Lee"]
    pool = synth.speaker_pool(9, 50, {"espeak-ng": [(v, w) for v in voices_ for w in variants]})
    for k, speaker in enumerate(pool):  # the first corpus's draws: voice, variant, pitch, speed
        rng = np.random.default_rng([9, 0x5BEA, k])
        voice, variant = voices_[int(rng.integers(3))], variants[int(rng.integers(4))]
        pitch, speed = int(rng.integers(20, 80, endpoint=True)), int(rng.integers(120, 200, endpoint=True))
        assert speaker == synth.Speaker(voice, variant, pitch, speed)


def test_speaker_ids_differ_by_source_and_keep_espeak_ids():
    espeak = synth.Speaker("en-us", "m3", 50, 175)
    assert espeak.id == synth.Speaker("en-us", "m3", 50, 175, "espeak-ng").id
    assert espeak.id == hashlib.sha1(b"en-us+m3 p50 s175").hexdigest()[:8]
    assert synth.Speaker("slt", "", 0, 100, "flite").id != synth.Speaker("slt", "", 0, 100, "festival").id


@pytest.mark.parametrize("colour, slope", [("white", 0.0), ("pink", -1.0), ("brown", -2.0)])
def test_coloured_noise_is_seeded_and_has_its_slope(colour, slope):
    noise = synth.coloured_noise(colour, 1 << 16, 3)
    assert noise.dtype == np.float32 and np.array_equal(noise, synth.coloured_noise(colour, 1 << 16, 3))
    assert not np.array_equal(noise, synth.coloured_noise(colour, 1 << 16, 4))
    assert np.sqrt(np.mean(noise.astype(np.float64) ** 2)) == pytest.approx(1.0, rel=0.02)
    power = np.abs(np.fft.rfft(noise.astype(np.float64))) ** 2
    f = np.fft.rfftfreq(noise.size, 1 / config.SAMPLE_RATE)
    bands = [power[(f >= lo) & (f < 2 * lo)].mean() for lo in (100, 200, 400, 800, 1600, 3200)]
    measured = np.polyfit(np.log2([100, 200, 400, 800, 1600, 3200]), np.log2(bands), 1)[0]
    assert measured == pytest.approx(slope, abs=0.15)
