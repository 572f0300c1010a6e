"""Benchmark: what the three LeNet-5s and the course's recipes reach on real test digits, and how fast.

    python bench/accuracy.py [--seeds 1998 1999 2000] [--paper-seeds 1998] [--source sample]
                             [--no-paper-recipe] [--paper-init] [--rbf-loss]

For every (network, recipe) row and seed it trains from scratch on the training digits (validation
split taken from them, a different one per seed), then prints: test accuracy on the test digits
with its binomial standard error sqrt(p (1 - p) / n), validation accuracy of the final model
(the best epoch's, where the recipe stops early), epochs trained, seconds of training (`fit`'s
wall time, tracing included), and a mean over seeds. Rows:
  seed / modern / paper network with the recommended recipe (lenet_helpers.training.recommended_for)
  seed network with the seed article's recipe (SGD, 20 epochs)
  paper network with the paper's recipe (SDLM, 20 passes, one digit per step; --paper-seeds)
  --paper-init: the paper's recipe from the paper's initialisation too (diverged when measured)
  --rbf-loss: the paper network, recommended recipe, softmax over -distances instead of eq. (9)
Choices between recipes were made on validation accuracy; the test digits are only evaluated.
A benchmark that prints figures, not a test; run it under `nice` on a shared machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import statistics
import time

from train_speed import cpu_model  # bench/ is on the path when a script here runs

from lenet_helpers import runtime, training
from lenet_helpers._tf import keras
from lenet_helpers.data import SAMPLE_SHA256, SOURCES, load_mnist
from lenet_helpers.layers import rbf_accuracy, rbf_loss
from lenet_helpers.models import build_model, paper_lenet5


@dataclasses.dataclass(frozen=True)
class Row:
    label: str
    network: str
    recipe: str  # "recommended", "article" or "paper"
    init: str | None = None  # paper network only
    softmax_rbf: bool = False


def load() -> str:
    """The 1-, 5- and 15-minute load averages, where the OS reports them."""
    try:
        return " / ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "n/a"


def standard_error(p: float, n: int) -> float:
    """Binomial standard error of an accuracy p measured on n digits."""
    return math.sqrt(p * (1 - p) / n)


def train_row(row: Row, data, seed: int) -> dict:
    """Train one row's network with its recipe from scratch; its figures as a dict."""
    runtime.seed_everything(seed)
    split = training.split_for_training(data, seed=seed)
    recipe = {"article": training.ARTICLE, "paper": training.PAPER}.get(row.recipe) or \
        training.recommended_for(len(split.x_train))
    model = paper_lenet5(row.init or "paper") if row.network == "paper" else build_model(row.network)
    model = training.compile_model(model, recipe)
    if row.softmax_rbf:
        model.compile(optimizer=recipe.make_optimizer(), loss=rbf_loss,
                      metrics=[keras.metrics.MeanMetricWrapper(rbf_accuracy, name="accuracy")],
                      steps_per_execution=recipe.steps_per_execution)
    started = time.perf_counter()
    history = training.fit(model, split, recipe=recipe, seed=seed)
    seconds = time.perf_counter() - started
    test = training.evaluate(model, split.x_test, split.y_test)["accuracy"]
    return {"test": test, "se": standard_error(test, len(split.y_test)), "n": len(split.y_test),
            "val": training.evaluate(model, split.x_val, split.y_val)["accuracy"],
            "epochs": len(history.history["loss"]), "seconds": seconds, "recipe": training.describe_recipe(recipe)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1998, 1999, 2000])
    parser.add_argument("--paper-seeds", type=int, nargs="+", default=[1998], help="seeds for the paper's recipe")
    parser.add_argument("--source", choices=SOURCES, default="sample")
    parser.add_argument("--no-paper-recipe", action="store_true", help="skip the slow SDLM rows")
    parser.add_argument("--paper-init", action="store_true", help="also run the paper's recipe from the paper's init")
    parser.add_argument("--rbf-loss", action="store_true", help="also train the paper network with softmax rbf_loss")
    args = parser.parse_args()

    data = load_mnist(args.source, fast=False, quiet=True)
    print(f"machine: {cpu_model()}, {os.cpu_count()} logical cores, load average {load()} at start "
          f"(shared with other users: timings vary with their load)")
    print(", ".join(f"{name} {version}" for name, version in runtime.versions().items()
                    if name in ("python", "tensorflow", "keras", "numpy")))
    source = f" (sha256 {SAMPLE_SHA256[:12]}...)" if data.source == "sample" else ""
    print(f"data: {data.describe()}, from {data.origin}{source}; validation: 10% of the training digits")

    rows = [Row("seed / recommended", "seed", "recommended"),
            Row("modern / recommended", "modern", "recommended"),
            Row("paper / recommended", "paper", "recommended", init="paper"),
            Row("seed / article", "seed", "article")]
    if args.rbf_loss:
        rows.append(Row("paper / recommended, softmax rbf_loss", "paper", "recommended", init="paper",
                        softmax_rbf=True))
    if not args.no_paper_recipe:
        rows.append(Row("paper / paper (SDLM), Keras init", "paper", "paper", init="keras"))
        if args.paper_init:
            rows.append(Row("paper / paper (SDLM), paper init", "paper", "paper", init="paper"))

    results: dict[str, list[dict]] = {}
    for row in rows:
        for seed in args.paper_seeds if row.recipe == "paper" else args.seeds:
            result = train_row(row, data, seed)
            results.setdefault(row.label, []).append(result)
            print(f"{row.label:<38} seed {seed}: test {result['test']:.4f} +- {result['se']:.4f}, "
                  f"val {result['val']:.4f}, {result['epochs']} epochs, {result['seconds']:.1f} s  "
                  f"[{result['recipe']}]", flush=True)

    print(f"\nload average {load()} at the end")
    print(f"{'network / recipe':<38}{'runs':>5}{'test accuracy':>21}{'val':>8}{'epochs':>8}{'seconds':>9}")
    for label, runs in results.items():
        test = statistics.mean(run["test"] for run in runs)
        spread = f" (min {min(run['test'] for run in runs):.4f})" if len(runs) > 1 else ""
        print(f"{label:<38}{len(runs):>5}{test:>11.4f} +- {standard_error(test, runs[0]['n']):.4f}"
              f"{statistics.mean(run['val'] for run in runs):>8.4f}"
              f"{statistics.mean(run['epochs'] for run in runs):>8.1f}"
              f"{statistics.mean(run['seconds'] for run in runs):>9.1f}{spread}")
    print("(+- is one binomial standard error of a single run on these test digits; the mean over runs is "
          "shown with the same error, which ignores the spread between seeds)")


if __name__ == "__main__":
    main()
