"""Train a LeNet-5 headless: `python -m lenet_helpers.train --model seed --epochs 10 --out seed.keras`.

The instructor's and CI's way to check the whole pipeline without a browser: loads MNIST
(`load_mnist`), trains with per-epoch progress, prints the test accuracy, saves the model.
"""

from __future__ import annotations

import argparse
import sys
import time

from lenet_helpers.data import SOURCES, MnistError, load_mnist
from lenet_helpers.models import BUILDERS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lenet_helpers.train", description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(BUILDERS), default="seed")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--recipe", choices=["recommended", "article"], default="recommended",
                        help="recommended: Adam, batch size by data size (default); article: the seed article's SGD")
    parser.add_argument("--source", choices=SOURCES, default="auto", help="which MNIST (default: auto)")
    parser.add_argument("--seed", type=int, default=1998)
    parser.add_argument("--out", help="where to save the trained model (.keras)")
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error("--epochs must be at least 1")
    if args.out and not args.out.endswith(".keras"):
        parser.error("--out must end with .keras (Keras 3's model format)")

    from lenet_helpers import training
    from lenet_helpers.models import build_model
    from lenet_helpers.runtime import seed_everything
    from lenet_helpers.shapes import trainable_params

    try:
        data = load_mnist(args.source)
    except MnistError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    seed_everything(args.seed)
    split = training.split_for_training(data, seed=args.seed)
    recipe = training.ARTICLE if args.recipe == "article" else training.recommended_for(len(split.x_train))
    model = training.compile_model(build_model(args.model), recipe)
    print(f"training {model.name} ({trainable_params(model):,} trainable parameters) with the {recipe.name} recipe "
          f"({recipe.optimizer}, learning rate {recipe.learning_rate:g}, batch {recipe.batch_size}) "
          f"on {len(split.x_train):,} digits, validating on {len(split.x_val):,}", flush=True)
    started = time.perf_counter()
    training.fit(model, split, epochs=args.epochs, recipe=recipe, seed=args.seed,
                 callbacks=[training.EpochPrinter(args.epochs, lambda line: print(line, flush=True))])
    seconds = time.perf_counter() - started
    test = training.evaluate(model, split.x_test, split.y_test)
    print(f"test accuracy {test['accuracy']:.4f} on {len(split.x_test):,} held-out digits "
          f"({data.describe()}); training took {seconds:.1f} s")
    if args.out:
        model.save(args.out)
        print(f"saved {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
