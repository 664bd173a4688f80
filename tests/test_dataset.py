"""The Speech Commands input pipeline: TF's split rule, counts, labels and training augmentation."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np
import pytest
from wavs import pcm16, tone

from model import config
from model.data.dataset import SPLITS, Example, SpeechCommands, example_rng, which_set
from model.errors import BadInput

WORDS = {"yes": 2, "no": 2, "up": 1, "down": 1, "left": 1}  # utterances per speaker


def speakers(n: int) -> list[str]:
    return [hashlib.md5(str(i).encode()).hexdigest()[:8] for i in range(n)]


def make_dataset(root: Path, n_speakers: int = 60, words: dict[str, int] = WORDS, background: bool = True) -> Path:
    """Short clips (zero-padded on load) keep the fixture fast."""
    clip = tone(0.1, 440, 0.3)
    for word, repeats in words.items():
        (root / word).mkdir(parents=True)
        for speaker in speakers(n_speakers):
            for n in range(repeats):
                pcm16(root / word / f"{speaker}_nohash_{n}.wav", clip)
    if background:
        (root / config.BACKGROUND_NOISE_DIR).mkdir()
        pcm16(root / config.BACKGROUND_NOISE_DIR / "constant.wav", np.full(3 * 16000, 16384, np.int16))
        (root / config.BACKGROUND_NOISE_DIR / "README.md").write_text("not a clip")
    return root


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return make_dataset(tmp_path / "sc")


def tf_percentage(name: str) -> float:
    """TF's rule written out independently: speaker part, SHA-1, 2**27 buckets scaled to [0, 100]."""
    speaker = name.split("/")[-1].partition("_nohash_")[0]
    bucket = int(hashlib.sha1(speaker.encode("utf-8")).hexdigest(), 16) % 134217728
    return bucket * 100.0 / 134217727


@pytest.mark.parametrize(("validation", "testing"), [(10, 10), (5, 20), (0, 0)])
def test_split_rule_matches_tf_formula(validation, testing):
    names = [f"{s}_nohash_{n}.wav" for s in speakers(500) for n in (0, 3)] + ["noseparator.wav", "x_nohash_.wav"]
    for name in names:
        p = tf_percentage(name)
        expected = "validation" if p < validation else "testing" if p < validation + testing else "training"
        assert which_set(f"word/{name}", validation, testing) == expected, name
    # A name listed in the real archive's validation_list.txt.
    assert which_set("right/a69b9b3e_nohash_0.wav") == "validation"
    sets = [which_set(name) for name in names]
    assert 0.05 < sets.count("validation") / len(sets) < 0.15
    assert 0.05 < sets.count("testing") / len(sets) < 0.15


def test_same_speaker_never_in_two_splits(root):
    data = SpeechCommands(root)
    seen: dict[str, str] = {}
    for split in SPLITS:
        for example in data.split(split):
            if example.path is not None:
                speaker = example.path.name.split("_nohash_")[0]
                assert seen.setdefault(speaker, split) == split, speaker
    assert len(set(seen.values())) == 3


def test_labels_and_counts_with_ceil(root):
    data = SpeechCommands(root, silence_pct=33, unknown_pct=10)
    assert data.labels == config.LABELS == ("silence", "unknown", "yes", "no")
    for split in SPLITS:
        examples = data.split(split)
        wanted = [e for e in examples if e.label >= 2]
        n = len(wanted)
        assert n > 0
        silence = [e for e in examples if e.label == 0]
        unknown = [e for e in examples if e.label == 1]
        assert len(silence) == math.ceil(n * 33 / 100) and all(e.path is None for e in silence)
        assert len(unknown) == math.ceil(n * 10 / 100)
        assert {e.path.parent.name for e in unknown} <= {"up", "down", "left"}
        assert all(data.labels[e.label] == e.path.parent.name for e in wanted)
        assert all(e.split == split for e in examples)
        assert data.summary()[split] == {
            "silence": len(silence),
            "unknown": len(unknown),
            "yes": sum(e.label == 2 for e in examples),
            "no": sum(e.label == 3 for e in examples),
        }
    assert data.split("train") == data.split("training") and data.split("test") == data.split("testing")


def test_small_unknown_pool_gives_what_there_is(tmp_path):
    data = SpeechCommands(make_dataset(tmp_path / "sc", 40, {"yes": 3, "no": 3, "up": 1}), unknown_pct=100)
    pool = sum(1 for p in (tmp_path / "sc" / "up").iterdir() if which_set(p) == "training")
    assert data.summary()["training"]["unknown"] == pool


def test_wanted_words_override(root):
    data = SpeechCommands(root, wanted_words=("up", "down"))
    assert data.labels == ("silence", "unknown", "up", "down")
    unknown = {e.path.parent.name for e in data.split("training") if e.label == 1}
    assert unknown <= {"yes", "no", "left"} and unknown


def test_list_file_mode(root):
    first, second = speakers(2)
    (root / "validation_list.txt").write_text(
        f"yes/{first}_nohash_0.wav\nno/{first}_nohash_1.wav\nleft/{first}_nohash_0.wav\n"
    )
    (root / "testing_list.txt").write_text(f"\nup/{second}_nohash_0.wav\n")
    data = SpeechCommands(root, use_list_files=True, unknown_pct=100)
    by_split = {s: {(e.path.parent.name, e.path.name) for e in data.split(s) if e.path} for s in SPLITS}
    listed = {("yes", f"{first}_nohash_0.wav"), ("no", f"{first}_nohash_1.wav"), ("left", f"{first}_nohash_0.wav")}
    assert by_split["validation"] == listed
    assert by_split["testing"] == set()  # the only listed test clip is unknown and there are no wanted test clips
    assert ("yes", f"{first}_nohash_1.wav") in by_split["training"]
    # ceil(2 * 100%) = 2 unknown wanted, but the validation pool holds only one.
    assert data.summary()["validation"] == {"silence": 1, "unknown": 1, "yes": 1, "no": 1}


def test_list_file_mode_needs_the_lists(root):
    with pytest.raises(BadInput) as err:
        SpeechCommands(root, use_list_files=True)
    assert err.value.path == str(root) and "validation_list.txt" in err.value.reason


def test_deterministic_under_seed(root):
    a, b, c = SpeechCommands(root, seed=1), SpeechCommands(root, seed=1), SpeechCommands(root, seed=2)
    assert all(a.split(s) == b.split(s) for s in SPLITS)
    unknown = [{e.path for e in d.split("training") if e.label == 1} for d in (a, c)]
    assert unknown[0] != unknown[1]
    example = a.split("training")[0]
    assert np.array_equal(a.augmented(example, example_rng(1, 3, 0)), b.augmented(example, example_rng(1, 3, 0)))


def test_load_pads_short_clips(root):
    data = SpeechCommands(root)
    example = next(e for e in data.split("training") if e.path is not None)
    pcm = data.load(example)
    assert pcm.dtype == np.int16 and pcm.shape == (config.CLIP_SAMPLES,)
    assert np.array_equal(pcm[:1600], tone(0.1, 440, 0.3)) and not pcm[1600:].any()


def test_silence_is_background_noise_in_every_split_and_repeatable(root):
    data = SpeechCommands(root)
    for split in ("training", "validation", "testing"):
        silences = [e for e in data.split(split) if e.path is None]
        assert silences and len({e.index for e in silences}) == len(silences)
        # The background fixture is constant 0.5: the level reveals the volume U(0, 1).
        levels = [int(data.load(e)[0]) for e in silences]
        assert all(0 <= level <= 16384 for level in levels) and len(set(levels)) == len(levels)
        assert levels == [int(data.load(e)[0]) for e in silences]
        assert levels == [int(SpeechCommands(root).load(e)[0]) for e in silences]


def test_augmentation_only_for_training(root):
    data = SpeechCommands(root)
    for split in ("validation", "testing"):
        for i, example in enumerate(data.split(split)):
            assert np.array_equal(data.augmented(example, example_rng(0, 0, i)), data.load(example))
    training = data.split("training")
    changed = [
        not np.array_equal(data.augmented(e, example_rng(0, 0, i)), data.load(e)) for i, e in enumerate(training[:50])
    ]
    assert sum(changed) > 40


def test_speed_perturbation_is_seeded_and_off_by_default(tmp_path):
    root = make_dataset(tmp_path / "sc", 20, {"yes": 1, "no": 1})
    clip = (np.sin(2 * np.pi * 500 * np.arange(16000) / 16000) * 8000).astype(np.int16)
    example = Example(pcm16(tmp_path / "tone.wav", clip), 2, "training")
    plain = SpeechCommands(root, time_shift_ms=0, background_frequency=0)
    assert np.array_equal(plain.augmented(example, example_rng(0, 1, 0)), clip)  # no draw, no change
    data = SpeechCommands(root, time_shift_ms=0, background_frequency=0, speed_perturb=0.2)
    peaks = []
    for i in range(40):
        out = data.augmented(example, example_rng(0, i, 0))
        assert out.shape == clip.shape and np.array_equal(out, data.augmented(example, example_rng(0, i, 0)))
        peaks.append(np.argmax(np.abs(np.fft.rfft(out[4000:12000].astype(np.float64)))) * 2)  # Hz
    # The tone moves with the speed, within [0.8, 1.2] x 500 Hz, both ways.
    assert 400 <= min(peaks) < 450 and 550 < max(peaks) <= 600


def test_time_shift_bounds(tmp_path):
    root = make_dataset(tmp_path / "sc", 20, {"yes": 1, "no": 1})
    impulse = np.zeros(16000, np.int16)
    impulse[8000] = 10000
    data = SpeechCommands(root, background_frequency=0)
    example = Example(pcm16(tmp_path / "impulse.wav", impulse), 2, "training")
    shifts = []
    for i in range(300):
        out = data.augmented(example, example_rng(0, i, 0))
        (where,) = np.flatnonzero(out)
        assert out[where] == 10000
        shifts.append(int(where) - 8000)
    assert max(shifts) <= 1600 and min(shifts) >= -1600
    assert max(shifts) > 1200 and min(shifts) < -1200
    # Shifted audio is padded with zeros, not wrapped around.
    edge = np.zeros(16000, np.int16)
    edge[:100] = 5000
    example = Example(pcm16(tmp_path / "edge.wav", edge), 2, "training")
    for i in range(50):
        out = data.augmented(example, example_rng(0, i, 0))
        assert np.count_nonzero(out) <= 100 and not out[2000:].any()


def test_background_volumes(root, tmp_path):
    data = SpeechCommands(root, time_shift_ms=0)
    quiet = Example(pcm16(tmp_path / "zeros.wav", np.zeros(16000, np.int16)), 2, "training")
    # The background file is constant 0.5, so the output reveals the volume: out = volume * 0.5 * 32768.
    volumes = [data.augmented(quiet, example_rng(0, 0, i))[0] / 16384 for i in range(500)]
    assert max(volumes) <= 0.1 and max(volumes) > 0.09
    mixed = sum(v > 0 for v in volumes) / len(volumes)
    assert 0.72 < mixed < 0.88
    silence = [data.augmented(Example(None, 0, "training"), example_rng(0, 0, i))[0] / 16384 for i in range(300)]
    assert min(silence) >= 0 and max(silence) <= 1 and max(silence) > 0.9 and np.mean(silence) > 0.4


def test_mixing_clips_to_int16_range(root, tmp_path):
    data = SpeechCommands(root, time_shift_ms=0, background_frequency=1.0)
    loud = Example(pcm16(tmp_path / "loud.wav", np.full(16000, 32767, np.int16)), 2, "training")
    out = data.augmented(loud, example_rng(0, 0, 0))
    assert out.dtype == np.int16 and (out == 32767).all()
    negative = Example(pcm16(tmp_path / "neg.wav", np.full(16000, -32768, np.int16)), 2, "training")
    assert (data.augmented(negative, example_rng(0, 0, 1)) >= -32768).all()


def test_missing_wanted_word(tmp_path):
    root = make_dataset(tmp_path / "sc", 5, {"yes": 1, "up": 1})
    with pytest.raises(BadInput) as err:
        SpeechCommands(root)
    assert err.value.path == str(root) and "'no'" in err.value.reason


@pytest.mark.parametrize("kind", ["missing", "empty", "file"])
def test_not_a_dataset(tmp_path, kind):
    root = tmp_path / "sc"
    if kind == "empty":
        root.mkdir()
    elif kind == "file":
        root.write_text("x")
    with pytest.raises(BadInput) as err:
        SpeechCommands(root)
    assert err.value.path == str(root)


def test_missing_background_only_matters_when_mixing(tmp_path):
    root = make_dataset(tmp_path / "sc", 20, {"yes": 1, "no": 1}, background=False)
    example = next(e for e in SpeechCommands(root).split("training") if e.path)
    SpeechCommands(root, background_frequency=0).augmented(example, example_rng(0, 0, 0))
    with pytest.raises(BadInput) as err:
        SpeechCommands(root).augmented(example, example_rng(0, 0, 0))
    assert err.value.path == str(root) and config.BACKGROUND_NOISE_DIR in err.value.reason


def test_long_clip_names_the_file(tmp_path):
    root = make_dataset(tmp_path / "sc", 20, {"yes": 1, "no": 1})
    long = pcm16(root / "yes" / "ffffffff_nohash_0.wav", tone(1.2))
    data = SpeechCommands(root)
    example = next(e for s in SPLITS for e in data.split(s) if e.path == long)
    with pytest.raises(BadInput) as err:
        data.load(example)
    assert err.value.path == str(long) and "1.200 s" in err.value.reason


def test_stream_context_puts_the_clip_after_its_background(root, tmp_path):
    """With context, the same draws give the same clip, now preceded by the background it is mixed with."""
    data = SpeechCommands(root, time_shift_ms=0, background_frequency=1.0)
    clicks = np.zeros(16000, np.int16)
    clicks[::100] = 1000
    example = Example(pcm16(tmp_path / "clicks.wav", clicks), 2, "training")
    context = 30 * config.STEP_SAMPLES
    for i in range(20):
        cold = data.augmented(example, example_rng(0, i, 0))
        warm = data.augmented(example, example_rng(0, i, 0), context)
        assert warm.size == context + config.CLIP_SAMPLES
        assert np.array_equal(warm[context:], cold)
        # The background fixture is constant: the context carries the level that lies under the clip.
        assert cold[1] > 0 and (warm[:context] == cold[1]).all()
    silence = data.augmented(Example(None, 0, "training"), example_rng(0, 0, 0), context)
    assert silence.size == context + config.CLIP_SAMPLES and (silence == silence[0]).all()


def test_stream_context_lengths_are_whole_frontend_steps():
    from model.train.batches import CONTEXT_STEPS, context_samples

    draws = [context_samples(np.random.default_rng([0, i]), 0.5) for i in range(2000)]
    warm = [d for d in draws if d]
    assert 0.45 < len(warm) / len(draws) < 0.55
    low, high = (steps * config.STEP_SAMPLES for steps in CONTEXT_STEPS)
    assert all(d % config.STEP_SAMPLES == 0 and low <= d <= high for d in warm)
    assert {d // config.STEP_SAMPLES for d in warm} >= {CONTEXT_STEPS[0], CONTEXT_STEPS[1]}
    assert not any(context_samples(np.random.default_rng([0, i]), 0.0) for i in range(200))


def test_a_moved_tree_keeps_its_augmented_pool(tmp_path):
    """The pool's cache key names the dataset relative to the cache: moving the tree that holds
    both reuses the pool; the same cache beside another dataset does not."""
    from model.train.batches import load_train_data

    settings = {"seed": 0, "silence_pct": 25, "unknown_pct": 25, "validation_pct": 10, "testing_pct": 10}
    tree = tmp_path / "tree"
    make_dataset(tree / "sc", n_speakers=12)
    load_train_data(tree / "sc", tree / "cache", settings, 1, progress=False)
    pools = sorted(p.name for p in (tree / "cache").glob("pool-*"))
    moved = tmp_path / "moved"
    tree.rename(moved)
    load_train_data(moved / "sc", moved / "cache", settings, 1, progress=False)
    assert sorted(p.name for p in (moved / "cache").glob("pool-*")) == pools
    make_dataset(moved / "other", n_speakers=12)
    load_train_data(moved / "other", moved / "cache", settings, 1, progress=False)
    assert len(list((moved / "cache").glob("pool-*"))) == 2


def test_the_pool_follows_its_augmentation_settings(tmp_path):
    """A setting at its default keeps the pool of runs made before it existed; another value
    makes another pool, of other clips: the setting reaches the augmentation."""
    from model.data.dataset import TIME_SHIFT_MS
    from model.train.batches import load_train_data

    settings = {"seed": 0, "silence_pct": 25, "unknown_pct": 25, "validation_pct": 10, "testing_pct": 10}
    make_dataset(tmp_path / "sc", n_speakers=12)
    cache = tmp_path / "cache"
    plain = load_train_data(tmp_path / "sc", cache, settings, 2, progress=False)
    same = load_train_data(tmp_path / "sc", cache, settings, 2, progress=False, time_shift_ms=TIME_SHIFT_MS)
    assert len(list(cache.glob("pool-*"))) == 1 and np.array_equal(plain.pool, same.pool)
    quiet = load_train_data(tmp_path / "sc", cache, settings, 2, progress=False, background_volume=0.0)
    wide = load_train_data(tmp_path / "sc", cache, settings, 2, progress=False, time_shift_ms=450.0)
    assert len(list(cache.glob("pool-*"))) == 3
    assert not np.array_equal(plain.pool, quiet.pool) and not np.array_equal(plain.pool, wide.pool)
