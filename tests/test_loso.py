"""kws loso: folds hold a whole voice source out (no speaker or source leaks), reports, errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from model import config
from model.cli import main
from model.data.audio import read_wav, wav_bytes
from model.data.dataset import speaker_key
from model.data.synth import BABBLE_NAME, speech_babble
from model.errors import BadInput
from model.train import loso
from model.train.training import TrainConfig

SOURCES = ("alpha", "beta", "gamma")
WORDS = ("yes", "no", "up", "down")


def fixture_corpus(root: Path, speakers_per_source: int = 10) -> Path:
    """Noise clips named like kws data synth's, each source's speakers with their own tone."""
    rng = np.random.default_rng(0)
    speakers = {}
    for s, source in enumerate(SOURCES):
        for k in range(speakers_per_source):
            speaker = f"{s:02x}{k:06x}"
            speakers[speaker] = {"source": source}
            for w, word in enumerate(WORDS):
                (root / word).mkdir(parents=True, exist_ok=True)
                t = np.arange(config.CLIP_SAMPLES) / config.SAMPLE_RATE
                tone = 3000 * np.sin(2 * np.pi * (300 + 200 * w + 50 * s) * t)
                pcm = np.round(tone + rng.normal(0, 300, t.size)).astype(np.int16)
                (root / word / f"{speaker}_nohash_0.wav").write_bytes(wav_bytes(pcm))
    noise = root / config.BACKGROUND_NOISE_DIR
    noise.mkdir()
    (noise / "white_noise.wav").write_bytes(wav_bytes(rng.normal(0, 3000, 32000).astype(np.int16)))
    others = sorted(p for w in WORDS[2:] for p in (root / w).glob("*.wav"))
    (noise / f"{BABBLE_NAME}.wav").write_bytes(wav_bytes(speech_babble(others, 2.0, 0)))
    (root / "sources.json").write_text(json.dumps({"speakers": speakers}))
    return root


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return fixture_corpus(tmp_path_factory.mktemp("loso") / "corpus")


def source_of(path: Path, corpus: Path) -> str:
    return json.loads((corpus / "sources.json").read_text())["speakers"][speaker_key(path)]["source"]


@pytest.mark.parametrize("held_out", SOURCES)
def test_fold_trees_hold_the_whole_source_out(corpus, tmp_path, held_out):
    info = loso.make_fold(corpus, loso.speaker_sources(corpus), held_out, tmp_path, seed=0)
    train = sorted(p for p in (tmp_path / "train").glob("*/*.wav") if p.parent.name != config.BACKGROUND_NOISE_DIR)
    heldout = sorted(p for p in (tmp_path / "heldout").glob("*/*.wav") if p.parent.name != config.BACKGROUND_NOISE_DIR)
    assert {source_of(p, corpus) for p in heldout} == {held_out}
    assert held_out not in {source_of(p, corpus) for p in train}
    assert not {speaker_key(p) for p in train} & {speaker_key(p) for p in heldout}
    # Every clip of the corpus is in exactly one of the two trees.
    everything = sorted(f"{p.parent.name}/{p.name}" for p in corpus.glob("*/*.wav") if p.parent.name in WORDS)
    assert sorted(f"{p.parent.name}/{p.name}" for p in train + heldout) == everything
    assert info == {
        "train_sources": sorted(set(SOURCES) - {held_out}),
        "train_clips": len(train),
        "heldout_clips": len(heldout),
        "heldout_speakers": 10,
    }


def test_fold_babble_is_remade_without_the_held_out_voices(corpus, tmp_path):
    loso.make_fold(corpus, loso.speaker_sources(corpus), "beta", tmp_path, seed=0)
    babble = read_wav(tmp_path / "train" / config.BACKGROUND_NOISE_DIR / f"{BABBLE_NAME}.wav")
    others = sorted(
        p for w in WORDS[2:] for p in (corpus / w).glob("*.wav") if source_of(p, corpus) != "beta"
    )  # the remade babble is the synthesiser's babble of the training sources' other words only
    assert np.array_equal(babble, speech_babble(others, 2.0, 0))
    assert not np.array_equal(babble, read_wav(corpus / config.BACKGROUND_NOISE_DIR / f"{BABBLE_NAME}.wav"))
    noise = tmp_path / "train" / config.BACKGROUND_NOISE_DIR / "white_noise.wav"
    assert noise.read_bytes() == (corpus / config.BACKGROUND_NOISE_DIR / "white_noise.wav").read_bytes()


def test_heldout_split_is_every_clip_with_silence_and_unknown(corpus, tmp_path):
    loso.make_fold(corpus, loso.speaker_sources(corpus), "gamma", tmp_path, seed=0)
    settings = {"silence_pct": 25, "unknown_pct": 25, "validation_pct": 10, "testing_pct": 10, "seed": 0}
    split = loso.heldout_split(tmp_path / "heldout", settings, tmp_path / "cache", progress=False)
    counts = np.bincount(split.labels, minlength=len(config.LABELS))
    keywords = [config.LABELS.index(w) for w in config.WANTED_WORDS]
    assert list(counts[keywords]) == [10] * len(keywords)  # all ten speakers' keyword clips
    assert counts[config.LABELS.index("silence")] == counts[config.LABELS.index("unknown")] == 5
    assert split.features.shape == (len(split.labels), config.NUM_FRAMES, config.NUM_CHANNELS)


def test_manifest_errors_are_bad_input(corpus, tmp_path):
    with pytest.raises(BadInput, match=r"no sources\.json"):
        loso.speaker_sources(tmp_path)
    (tmp_path / "sources.json").write_text(json.dumps({"speakers": {"aa": {"source": "alpha"}}}))
    with pytest.raises(BadInput, match="at least two voice sources"):
        loso.speaker_sources(tmp_path)
    (tmp_path / "sources.json").write_text("[1, 2]")
    with pytest.raises(BadInput, match="not a kws data synth sources manifest"):
        loso.speaker_sources(tmp_path)
    incomplete = {k: v for k, v in loso.speaker_sources(corpus).items() if not k.startswith("00")}
    incomplete["zz"] = "alpha"
    with pytest.raises(BadInput, match=r"speaker not in sources\.json"):
        loso.partition(corpus, incomplete, "beta")


def test_cli_missing_corpus_is_one_line(tmp_path, capsys):
    assert main(["loso", "--data", str(tmp_path / "none"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no sources.json" in err
    assert main(["loso", "--data", str(tmp_path), "--out", str(tmp_path / "o"), "--steps", "1,1,1"]) == 2
    assert "--lr" in capsys.readouterr().err


def test_end_to_end_report(corpus, tmp_path):
    cfg = TrainConfig(steps=[30], lr=[0.001], pool=1, eval_every=30, seed=0)
    result = loso.loso(corpus, tmp_path, cfg, progress=False)
    assert sorted(result["folds"]) == sorted(SOURCES)
    held = [fold["heldout"]["accuracy"] for fold in result["folds"].values()]
    assert result["mean_heldout_accuracy"] == pytest.approx(np.mean(held), abs=1e-4)
    assert json.loads((tmp_path / "loso.json").read_text()) == result
    report = (tmp_path / "loso.md").read_text()
    for source in SOURCES:
        assert f"| {source} | " in report
    assert f"{result['in_distribution']['accuracy']:.4f}" in report
