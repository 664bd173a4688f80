"""The trials on Ray Tune: one Tune trial per sweep trial, one CPU each, results journalled by the driver.

Grid and random sweeps run every trial to the end (FIFO). ``asha`` adds Ray Tune's ASHA scheduler
on the float validation accuracy each trial reports after training: a trial in the lower half of
its rung is stopped there, before its export, firmware build and emulation (the costly part), and
journalled as ``stopped``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from model.sweep.runner import record_trial
from model.sweep.trial import run_trial

#: Reports per trial: the float validation accuracy after training, then the final record.
RUNGS = 2


def longest_first(trials: list[dict]) -> list[dict]:
    """``trials`` in decreasing order of their expected time, so that on a few workers the last
    round is made of short trials rather than one long trial alone (longest processing time first).
    Expected time: the training and fine-tuning steps, each costing more with more channels
    (measured on the tiny sweep: 6.4 ms a step at 2 channels, 10 ms at 8)."""

    def cost(trial: dict) -> float:
        stages = (trial["prune_channels"] > 0) + (trial["sparsity"] > 0) + (trial["bits"] < 8)
        return (trial["steps"] + stages * trial["finetune_steps"]) * (5.3 + 0.6 * trial["channels"])

    return sorted(trials, key=cost, reverse=True)


def _trainable(config: dict[str, Any], shared: dict[str, Any]) -> None:
    from ray import tune

    result = run_trial(config["trial"], shared, tune.report)
    accuracy = result.get("metrics", {}).get("validation_accuracy", -1.0)
    tune.report({"validation_accuracy": accuracy, "record": result})


def _journal(out: Path, say: Callable[[str], None]):
    """A Tune callback (in the driver) that journals each trial as its record arrives."""
    from ray import tune

    from model.sweep.runner import _line

    class Journal(tune.Callback):
        def __init__(self) -> None:
            self.written: set[str] = set()
            self.started: dict[str, float] = {}

        def on_trial_start(self, iteration, trials, trial, **info) -> None:
            self.started[trial.config["trial"]["id"]] = time.monotonic()

        def _write(self, trial, result: dict[str, Any]) -> None:
            settings = trial.config["trial"]
            if settings["id"] not in self.written:
                self.written.add(settings["id"])
                start = self.started.get(settings["id"])
                if start is not None:  # from Tune starting the trial to its record here: Ray's overhead included
                    result = result | {"wall_seconds": round(time.monotonic() - start, 2)}
                record_trial(out, settings, result)
                say(_line(settings, result))

        def on_trial_result(self, iteration, trials, trial, result, **info) -> None:
            if "record" in result:
                self._write(trial, result["record"])

        def on_trial_complete(self, iteration, trials, trial, **info) -> None:
            accuracy = (trial.last_result or {}).get("validation_accuracy")
            self._write(trial, {"status": "stopped", "reason": f"ASHA: float validation accuracy {accuracy}"})

        def on_trial_error(self, iteration, trials, trial, **info) -> None:
            self._write(trial, {"status": "failed", "reason": f"worker error: {trial.error_file or 'unknown'}"})

    return Journal()


def run_tune(trials: list[dict], shared: dict[str, Any], out: Path, algorithm: str, say: Callable[[str], None]) -> None:
    """Run ``trials`` on the connected Ray cluster, journalling each into ``out``."""
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler, FIFOScheduler

    scheduler = (
        ASHAScheduler(max_t=RUNGS, grace_period=1, reduction_factor=2) if algorithm == "asha" else FIFOScheduler()
    )
    trainable = tune.with_resources(tune.with_parameters(_trainable, shared=shared), {"cpu": 1})
    tuner = tune.Tuner(
        trainable,
        param_space={"trial": tune.grid_search(longest_first(trials))},
        tune_config=tune.TuneConfig(metric="validation_accuracy", mode="max", scheduler=scheduler, reuse_actors=True),
        run_config=tune.RunConfig(
            name="tune", storage_path=str((out / "ray").resolve()), callbacks=[_journal(out, say)], verbose=0
        ),
    )
    tuner.fit()
