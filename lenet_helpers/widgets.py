"""Interactive widgets for JupyterLab: shape explorer, live training plot, network explorer, draw a digit.

Every widget has a static twin (a printed table or a figure) used where no browser runs,
such as the committed solutions and the tests.
"""

from __future__ import annotations

import io
import time

import numpy as np

from lenet_helpers import shapes
from lenet_helpers._tf import keras
from lenet_helpers.data import to_mnist_format
from lenet_helpers.training import predict_digits

LAYER_KINDS = ("convolution", "average pooling", "paper subsampling")


# --- shape explorer (lessons 01-04) -------------------------------------------------------


def layer_numbers(kind: str, size: int, kernel: int, padding: int, stride: int,
                  in_maps: int, out_maps: int) -> dict:
    """Output size (rounded down, as Keras), parameters, connections and unused pixels of one layer (lesson 01).

    ValueError saying why if the layer cannot exist: only when the window is larger than the padded input.
    """
    if kind not in LAYER_KINDS:
        raise ValueError(f"kind must be one of {', '.join(LAYER_KINDS)}")
    out = shapes.conv_output_size(size, kernel, padding, stride)
    unused = shapes.unused_pixels(size, kernel, padding, stride)
    if kind == "convolution":
        params = shapes.conv_params(kernel, in_maps, out_maps)
        return {"output": (out, out, out_maps), "params": params, "unused": unused,
                "connections": shapes.conv_connections(params, out, out)}
    trained = kind == "paper subsampling"
    return {"output": (out, out, in_maps), "params": shapes.subsampling_params(in_maps) if trained else 0,
            "unused": unused, "connections": out * out * in_maps * (kernel * kernel + int(trained))}


def describe_layer(kind: str, size: int, kernel: int, padding: int = 0, stride: int = 1,
                   in_maps: int = 1, out_maps: int = 6) -> str:
    """One plain sentence: output, parameters, connections, and pixels left over; or why it cannot exist (lesson 01)."""
    try:
        numbers = layer_numbers(kind, size, kernel, padding, stride, in_maps, out_maps)
    except ValueError as reason:
        return f"impossible: {reason}"
    shape = "x".join(map(str, numbers["output"]))
    text = (f"output {shape}, {numbers['params']:,} trainable parameters, "
            f"{numbers['connections']:,} connections")
    if numbers["unused"]:
        span, unused = size - kernel + 2 * padding, numbers["unused"]
        lines = "row and column" if unused == 1 else f"{unused} rows and columns"
        where = "padded input" if padding else "input"
        text += (f"; ({size} - {kernel} + 2*{padding}) / {stride} = {span / stride:g} is rounded down "
                 f"({span // stride} + 1 = {span // stride + 1}), as Keras does: "
                 f"the last {lines} of the {where} are never used")
    return text


def shape_explorer(kind: str = "convolution", size: int = 32, kernel: int = 5, padding: int = 0,
                   stride: int = 1, in_maps: int = 1, out_maps: int = 6):
    """Sliders for a layer's sizes; shows output size, parameters, connections and unused pixels live (lesson 01).

    Red only for a layer that cannot exist (a window larger than the padded input).
    """
    import ipywidgets as w

    style = {"description_width": "110px"}
    controls = {
        "kind": w.Dropdown(options=LAYER_KINDS, value=kind, description="layer", style=style),
        "size": w.IntSlider(size, 1, 64, description="input size W", style=style),
        "kernel": w.IntSlider(kernel, 1, 11, description="kernel F", style=style),
        "padding": w.IntSlider(padding, 0, 5, description="padding P", style=style),
        "stride": w.IntSlider(stride, 1, 4, description="stride S", style=style),
        "in_maps": w.IntSlider(in_maps, 1, 32, description="input maps", style=style),
        "out_maps": w.IntSlider(out_maps, 1, 128, description="output maps", style=style),
    }
    result = w.HTML(layout=w.Layout(margin="8px 0 0 0"))
    result.add_class("lenet-shape-result")

    def update(_=None):
        values = {name: control.value for name, control in controls.items()}
        controls["out_maps"].disabled = values["kind"] != "convolution"
        text = describe_layer(**values)
        color = "#b00020" if text.startswith("impossible") else "#1b5e20"
        result.value = f"<b style='color:{color}'>{text}</b>"

    for control in controls.values():
        control.observe(update, names="value")
    update()
    return w.VBox([*controls.values(), result])


# --- live training plot (lesson 06) ------------------------------------------------------------


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


class LivePlot(keras.callbacks.Callback):
    """Redraws loss and accuracy (train and validation) after every epoch, with progress (lesson 06).

    In a notebook the plot is updated in place; elsewhere one progress line per epoch is printed.
    """

    def __init__(self, total_epochs: int | None = None):
        super().__init__()
        self.total_epochs = total_epochs
        self.logs: dict[str, list[float]] = {}
        self._plot = self._text = None

    def on_train_begin(self, logs=None):
        self.started = time.perf_counter()
        self.total_epochs = self.total_epochs or self.params.get("epochs")
        if _in_notebook():
            from IPython.display import display

            self._text = display(self._progress(0), display_id=True)
            self._plot = display("(the plot appears after the first epoch)", display_id=True)

    def _progress(self, done: int) -> str:
        elapsed = time.perf_counter() - self.started
        line = f"epoch {done}/{self.total_epochs}, {elapsed:.0f} s"
        if 0 < done < self.total_epochs:
            line += f", about {elapsed / done * (self.total_epochs - done):.0f} s left"
        return line

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.logs.setdefault(key, []).append(float(value))
        progress = self._progress(epoch + 1)
        metrics = "  ".join(f"{k} {v[-1]:.4f}" for k, v in self.logs.items() if "accuracy" in k or "loss" in k)
        if self._plot is None:
            print(f"{progress}  {metrics}", flush=True)
            return
        import matplotlib.pyplot as plt

        from lenet_helpers.plots import plot_history

        figure = plot_history(self.logs)
        self._plot.update(figure)
        self._text.update(f"{progress}  {metrics}")
        plt.close(figure)


# --- network explorer (lesson 07) -----------------------------------------------------------------


def explore_digit(model, images: np.ndarray, labels: np.ndarray, index: int):
    """One test digit: the image, class probabilities and the C1, S2, C3 feature maps (lesson 07)."""
    import matplotlib.pyplot as plt

    predicted, probabilities = predict_digits(model, images[index:index + 1])
    probe = keras.Model(model.inputs[0], [model.get_layer(name).output for name in ("C1", "S2", "C3")])
    maps = [np.asarray(m)[0] for m in probe(images[index:index + 1])]
    figure = plt.figure(figsize=(11, 5.2))
    grid = figure.add_gridspec(4, 16)
    ax = figure.add_subplot(grid[:2, :3])
    ax.imshow(images[index].squeeze(), cmap="gray_r")
    ax.set_title(f"#{index}: label {labels[index]}, read {predicted[0]}",
                 color="black" if predicted[0] == labels[index] else "crimson")
    ax.set_axis_off()
    ax = figure.add_subplot(grid[:2, 4:10])
    ax.bar(range(10), probabilities[0], color=["crimson" if d == predicted[0] else "#4c72b0" for d in range(10)])
    ax.set_xticks(range(10))
    ax.set_ylim(0, 1)
    ax.set_title("probability per digit")
    places = {"C1": (2, 0), "S2": (2, 8), "C3": (3, 0)}  # (grid row, first column) of each layer's maps
    for name, layer_maps in zip(("C1", "S2", "C3"), maps):
        row, first = places[name]
        for i in range(layer_maps.shape[-1]):
            ax = figure.add_subplot(grid[row, first + i])
            ax.imshow(layer_maps[:, :, i], cmap="viridis")
            ax.set_axis_off()
            if i == 0:
                ax.set_title(name, fontsize=9, loc="left")
    return figure


def network_explorer(model, images: np.ndarray, labels: np.ndarray):
    """Pick a test digit (or jump to the next mistake) and see the prediction and feature maps (lesson 07)."""
    import ipywidgets as w
    import matplotlib.pyplot as plt
    from IPython.display import display

    predicted, _ = predict_digits(model, images)
    mistakes = np.flatnonzero(predicted != np.asarray(labels))
    index = w.IntSlider(0, 0, len(images) - 1, description="test digit")
    mistake = w.Button(description="show me a mistake", disabled=not len(mistakes))
    status = w.HTML()
    output = w.Output()

    def show(_=None):
        output.clear_output(wait=True)
        with output:
            figure = explore_digit(model, images, labels, index.value)
            display(figure)
            plt.close(figure)
        status.value = f"{len(mistakes)} mistakes among {len(images)} digits"

    def next_mistake(_):
        later = mistakes[mistakes > index.value]
        index.value = int(later[0] if len(later) else mistakes[0])

    index.observe(show, names="value")
    mistake.on_click(next_mistake)
    show()
    return w.VBox([w.HBox([index, mistake, status]), output])


# --- draw a digit (lesson 07) ---------------------------------------------------------------------


def _png(image: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(255 - image).resize((84, 84), Image.NEAREST).save(buffer, format="PNG")
    return buffer.getvalue()


def read_drawing(model, ink: np.ndarray) -> tuple[np.ndarray, int, np.ndarray]:
    """A drawing (H x W ink in 0..255) -> (the 28x28 digit MNIST-style, predicted digit, probabilities)."""
    digit = to_mnist_format(ink)
    predicted, probabilities = predict_digits(model, (digit / 255.0).astype("float32")[None, :, :, None])
    return digit, int(predicted[0]), probabilities[0]


def draw_digit(model, size: int = 280):
    """A canvas to draw a digit with the mouse; shows it resized like MNIST and the model's reading (lesson 07)."""
    import ipywidgets as w
    from ipycanvas import Canvas

    canvas = Canvas(width=size, height=size, sync_image_data=True,
                    layout=w.Layout(width=f"{size}px", height=f"{size}px", border="1px solid #999"))
    canvas.add_class("lenet-draw-canvas")
    canvas.line_width, canvas.line_cap, canvas.stroke_style = size / 14, "round", "black"
    preview = w.Image(format="png", width=84, height=84)
    answer = w.HTML("<i>draw a digit, then let go of the mouse</i>")
    answer.add_class("lenet-draw-answer")
    clear = w.Button(description="clear")
    last = {"point": None}

    def start(x, y):
        last["point"] = (x, y)

    def move(x, y):
        if last["point"] is not None:
            canvas.stroke_line(*last["point"], x, y)
            last["point"] = (x, y)

    def stop(x, y):
        move(x, y)
        last["point"] = None

    def predict(change):
        if change["new"] is None:
            return
        ink = canvas.get_image_data()[:, :, 3]  # the alpha channel: 0 where nothing was drawn
        if ink.max() == 0:
            return
        digit, predicted, probabilities = read_drawing(model, ink)
        preview.value = _png(digit)
        top = np.argsort(probabilities)[::-1][:3]
        others = ", ".join(f"{d}: {probabilities[d]:.0%}" for d in top[1:])
        answer.value = f"<b style='font-size:150%'>I read a {predicted}</b> ({probabilities[predicted]:.0%}; {others})"

    def reset(_):
        canvas.clear()
        answer.value = "<i>draw a digit, then let go of the mouse</i>"

    canvas.on_mouse_down(start)
    canvas.on_mouse_move(move)
    canvas.on_mouse_up(stop)
    canvas.observe(predict, names="image_data")
    clear.on_click(reset)
    return w.HBox([canvas, w.VBox([w.HTML("as the network sees it:"), preview, answer, clear])])
