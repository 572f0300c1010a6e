"""Plots for the lessons. Each takes `ax=None` (or `axes=None`) and returns the Figure."""

from __future__ import annotations

import numpy as np


def _axes_grid(count: int, columns: int, axes, size: float = 1.2):
    import matplotlib.pyplot as plt

    if axes is None:
        rows = -(-count // columns)
        fig, axes = plt.subplots(rows, columns, figsize=(columns * size, rows * size * 1.15), squeeze=False)
    axes = np.asarray(axes).reshape(-1)
    for ax in axes:
        ax.set_axis_off()
    return axes[0].figure, axes


def show_digits(images, labels=None, predictions=None, *, columns: int = 8, axes=None):
    """A grid of digits, titled with their label (and prediction, red when wrong) (lesson 00)."""
    images = np.asarray(images)
    images = images[..., 0] if images.ndim == 4 else images
    fig, axes = _axes_grid(len(images), columns, axes)
    for i, (ax, image) in enumerate(zip(axes, images)):
        ax.imshow(image, cmap="gray_r")
        title = "" if labels is None else str(labels[i])
        if predictions is not None:
            title += f" \u2192 {predictions[i]}"
            wrong = labels is not None and predictions[i] != labels[i]
            ax.set_title(title, fontsize=9, color="crimson" if wrong else "black")
        elif title:
            ax.set_title(title, fontsize=9)
    return fig


def plot_history(history, axes=None):
    """Accuracy and loss per epoch, training and validation, side by side (lesson 07)."""
    import matplotlib.pyplot as plt

    logs = getattr(history, "history", history)
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    epochs = np.arange(1, len(logs["loss"]) + 1)
    for ax, metric in zip(axes, ("accuracy", "loss")):
        ax.plot(epochs, logs[metric], "o-", label=f"training {metric}")
        if f"val_{metric}" in logs:
            ax.plot(epochs, logs[f"val_{metric}"], "s--", label=f"validation {metric}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    return axes[0].figure


def plot_confusion(matrix, ax=None):
    """A 10 x 10 confusion matrix with counts in the cells; rows are true digits (lesson 07)."""
    import matplotlib.pyplot as plt

    matrix = np.asarray(matrix)
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 5))
    ax.imshow(matrix, cmap="Blues")
    for (row, col), count in np.ndenumerate(matrix):
        if count:
            color = "white" if count > matrix.max() / 2 else "black"
            ax.text(col, row, str(count), ha="center", va="center", fontsize=8, color=color)
    ax.set_xticks(range(len(matrix)))
    ax.set_yticks(range(len(matrix)))
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit")
    return ax.figure


def plot_filters(kernels, axes=None):
    """The 5x5 kernels of a convolution (shape k x k x 1 x maps), one image per map (lesson 07)."""
    kernels = np.asarray(kernels)[:, :, 0, :]
    fig, axes = _axes_grid(kernels.shape[-1], kernels.shape[-1], axes, size=1.4)
    limit = np.abs(kernels).max()
    for i, ax in enumerate(axes[: kernels.shape[-1]]):
        ax.imshow(kernels[:, :, i], cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_title(f"map {i}", fontsize=9)
    return fig


def plot_feature_maps(maps, *, title: str = "", columns: int = 8, axes=None):
    """Every channel of one image's activations (H x W x channels), one small image each (lesson 07)."""
    maps = np.asarray(maps)
    count = maps.shape[-1]
    fig, axes = _axes_grid(count, min(columns, count), axes, size=1.3)
    for i, ax in enumerate(axes[:count]):
        ax.imshow(maps[:, :, i], cmap="viridis")
        ax.set_title(f"{title}{i}", fontsize=8)
    return fig


def plot_codes(codes, axes=None):
    """The RBF output's 7x12 code bitmaps, one per digit (lesson 08)."""
    codes = np.asarray(codes)
    fig, axes = _axes_grid(len(codes), len(codes), axes, size=0.9)
    for digit, ax in enumerate(axes[: len(codes)]):
        ax.imshow(codes[digit].reshape(12, 7), cmap="gray_r")
        ax.set_title(str(digit), fontsize=9)
    return fig


def plot_comparison(names, values, *, ylabel: str, ax=None):
    """A labelled bar chart, e.g. test accuracy of several models (lesson 08)."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3))
    bars = ax.bar(names, values, color=["#4c72b0", "#dd8452", "#55a868", "#c44e52"][: len(names)])
    for bar, value in zip(bars, values):
        ax.text(bar.get_x() + bar.get_width() / 2, bar.get_height(), f"{value:.3g}", ha="center", va="bottom")
    ax.set_ylabel(ylabel)
    return ax.figure
