"""``kws stream make``: planted words where streams.json says, non-overlapping, at the SNR asked for,
and the same bytes for the same seed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from wavs import pcm16

from model import cli
from model.data.audio import read_wav
from model.data.dataset import which_set

WORDS = ("yes", "no", "go", "house")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tone bursts of a different pitch per word, 0.4 s of each clip silent, and a noise recording."""
    root = tmp_path_factory.mktemp("corpus")
    rng = np.random.default_rng(0)
    for w, word in enumerate(WORDS):
        (root / word).mkdir()
        for n in range(40):
            t = np.arange(9600) / 16000
            burst = (3000 + 300 * n % 5000) * np.sin(2 * np.pi * (300 + 200 * w) * t)
            pcm16(root / word / f"{n:08x}_nohash_0.wav", np.concatenate([np.zeros(3200), burst, np.zeros(3200)]))
    (root / "_background_noise_").mkdir()
    pcm16(root / "_background_noise_" / "noise.wav", rng.normal(0, 3000, 48000).round())
    return root


def make(corpus: Path, out: Path, *extra: str) -> dict:
    args = ["stream", "make", "--data", str(corpus), "--out", str(out), "--free-minutes", "0.5", *extra]
    assert cli.main(args) == 0
    return json.loads((out / "streams.json").read_text())


def test_planted_where_the_json_says(corpus: Path, tmp_path: Path) -> None:
    listing = make(corpus, tmp_path, "--snr", "clean")
    clean, free = listing["streams"]
    assert not clean["keyword_free"] and free["keyword_free"]
    pcm = read_wav(tmp_path / clean["file"])
    assert pcm.size == clean["seconds"] * 16000 and pcm.size % 16000 == 0
    ends = [0]
    for p in clean["planted"]:
        clip = read_wav(corpus / p["clip"])
        start = p["start_ms"] * 16
        assert p["start_ms"] >= ends[-1], "clips overlap"
        np.testing.assert_array_equal(pcm[start : start + clip.size], clip)
        assert which_set(corpus / p["clip"]) == "testing"
        assert p["speech_start_ms"] == p["start_ms"] + 200 and p["speech_end_ms"] == p["start_ms"] + 800
        ends.append(p["end_ms"])
    keywords = [p for p in clean["planted"] if p["label"] != "unknown"]
    in_split = sum(which_set(p) == "testing" for w in ("yes", "no") for p in (corpus / w).glob("*.wav"))
    assert len(keywords) == in_split
    assert all(p["label"] == "unknown" for p in free["planted"])


def test_noise_at_the_snr_asked_for(corpus: Path, tmp_path: Path) -> None:
    listing = make(corpus, tmp_path, "--snr", "clean,10", "--free-minutes", "0")
    clean, noisy = (read_wav(tmp_path / s["file"]).astype(np.float64) for s in listing["streams"])
    noise = noisy - clean
    speech = np.concatenate(
        [clean[p["speech_start_ms"] * 16 : p["speech_end_ms"] * 16] for p in listing["streams"][0]["planted"]]
    )
    snr = 20 * np.log10(np.sqrt(np.mean(speech**2)) / np.sqrt(np.mean(noise**2)))
    assert abs(snr - 10) < 1.0


def test_same_seed_same_bytes(corpus: Path, tmp_path: Path) -> None:
    a = make(corpus, tmp_path / "a", "--snr", "5", "--seed", "3")
    b = make(corpus, tmp_path / "b", "--snr", "5", "--seed", "3")
    c = make(corpus, tmp_path / "c", "--snr", "5", "--seed", "4")
    assert a["streams"] == b["streams"] != c["streams"]
    for s in a["streams"]:
        assert (tmp_path / "a" / s["file"]).read_bytes() == (tmp_path / "b" / s["file"]).read_bytes()


@pytest.mark.parametrize("option", [["--snr", "loud"], ["--snr", "500"], ["--spacing", "1"], ["--levels", ""]])
def test_bad_options_exit_2(corpus: Path, tmp_path: Path, option: list[str], capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["stream", "make", "--data", str(corpus), "--out", str(tmp_path), *option])
    assert exit_.value.code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
