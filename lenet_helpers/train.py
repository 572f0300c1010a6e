"""Train a LeNet-5 headless: `python -m lenet_helpers.train --model seed --out seed.keras`.

The instructor's and CI's way to check the whole pipeline without a browser: loads MNIST
(`load_mnist`), trains with per-epoch progress, prints the test accuracy, saves the model.
`--model paper --recipe paper` trains the paper's network the paper's way (lesson 08): eq. (9)
loss, stochastic diagonal Levenberg-Marquardt, 20 passes.
"""

from __future__ import annotations

import argparse
import sys
import time

from lenet_helpers.data import SOURCES, MnistError, load_mnist
from lenet_helpers.models import BUILDERS, INITIALIZATIONS

RECIPES = ("recommended", "article", "paper")
PAPER_TEST_ERROR = 0.0095  # the paper's result for this protocol on MNIST's 10,000 test digits (PAPER.md)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lenet_helpers.train", description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(BUILDERS), default="seed")
    parser.add_argument("--epochs", type=int, help="at most this many epochs (default: the recipe's)")
    parser.add_argument("--recipe", choices=RECIPES, default="recommended",
                        help="recommended: Adam, distortions, early stopping, batch size by data size (default); "
                             "article: the seed article's SGD; paper: the paper's SDLM protocol (--model paper)")
    parser.add_argument("--init", choices=INITIALIZATIONS,
                        help="--model paper only: the paper's initialisation or Keras's (default: paper, "
                             "except with --recipe paper: keras, see lenet_helpers/sdlm.py)")
    parser.add_argument("--source", choices=SOURCES, default="auto", help="which MNIST (default: auto)")
    parser.add_argument("--seed", type=int, default=1998)
    parser.add_argument("--out", help="where to save the trained model (.keras)")
    args = parser.parse_args(argv)
    if args.epochs is not None and args.epochs < 1:
        parser.error("--epochs must be at least 1")
    if args.out and not args.out.endswith(".keras"):
        parser.error("--out must end with .keras (Keras 3's model format)")
    if args.recipe == "paper" and args.model != "paper":
        parser.error("--recipe paper trains the paper's network (its loss and curvature need the RBF output): "
                     "add --model paper")
    if args.init and args.model != "paper":
        parser.error("--init applies to --model paper only")

    from lenet_helpers import training
    from lenet_helpers.models import build_model, paper_lenet5
    from lenet_helpers.runtime import seed_everything
    from lenet_helpers.shapes import trainable_params

    try:
        data = load_mnist(args.source)
    except MnistError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    seed_everything(args.seed)
    split = training.split_for_training(data, seed=args.seed)
    recipe = {"article": training.ARTICLE, "paper": training.PAPER}.get(args.recipe) or \
        training.recommended_for(len(split.x_train))
    epochs = args.epochs or recipe.epochs
    if args.model == "paper":
        init = args.init or ("keras" if args.recipe == "paper" else "paper")
        model = paper_lenet5(init)
    else:
        model = build_model(args.model)
    model = training.compile_model(model, recipe)
    print(f"training {model.name} ({trainable_params(model):,} trainable parameters) with the {recipe.name} recipe "
          f"({training.describe_recipe(recipe)}) on {len(split.x_train):,} digits, "
          f"validating on {len(split.x_val):,}", flush=True)
    if args.model == "paper":
        print(f"initialisation: {init}", flush=True)
    started = time.perf_counter()
    history = training.fit(model, split, epochs=epochs, recipe=recipe, seed=args.seed,
                           callbacks=[training.EpochPrinter(epochs, lambda line: print(line, flush=True))])
    seconds = time.perf_counter() - started
    trained = len(history.history["loss"])
    if recipe.patience:
        best = min(range(trained), key=history.history["val_loss"].__getitem__) + 1
        print(f"kept epoch {best}'s weights (lowest validation loss) after {trained} of at most {epochs} epochs")
    test = training.evaluate(model, split.x_test, split.y_test)
    print(f"test accuracy {test['accuracy']:.4f} on {len(split.x_test):,} held-out digits "
          f"({data.describe()}); training took {seconds:.1f} s")
    if args.recipe == "paper":
        where = ("the same test set" if data.source == "full" else
                 "full MNIST's 10,000 test digits after 20 passes over 60,000 training digits: not comparable")
        print(f"test error {1 - test['accuracy']:.2%}; the paper: {PAPER_TEST_ERROR:.2%} on {where}")
    if args.out:
        model.save(args.out)
        print(f"saved {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
