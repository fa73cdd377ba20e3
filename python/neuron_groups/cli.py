"""The ``neuron-groups`` command: analyse an image, print the tables, write the files."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from neuron_groups.errors import NeuronGroupsError

DEMO = {
    "image": "dog_cat",
    "layer": "mixed4d",
    "groups": 6,
    "classes": ["Labrador retriever", "tiger cat"],
}


def _whole(minimum: int):
    """An argparse type: a whole number of at least ``minimum`` (0 is a value, not unset)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} is less than {minimum}")
        return value

    parse.__name__ = f"whole number >= {minimum}"
    return parse


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="neuron-groups",
        description="Split a layer's activations into groups of neurons and show what they do. "
        "IMAGE is a file, an http(s) address, an example name (dog_cat, flowers, ...) or "
        "'demo' (dog_cat, mixed4d, 6 groups, 'Labrador retriever' and 'tiger cat').",
    )
    parser.add_argument("image", metavar="IMAGE")
    parser.add_argument("--layer", default=None, help="layer to factorize (default mixed4d)")
    parser.add_argument(
        "--groups", type=_whole(1), default=None, help="number of groups, 1 or more (default 6)"
    )
    parser.add_argument(
        "--classes",
        nargs="+",
        default=None,
        metavar="NAME",
        help="classes to attribute, by name or index (default: the top 5)",
    )
    parser.add_argument("--model", default="inceptionv1", help="model name (default inceptionv1)")
    parser.add_argument("--method", default="nmf", help="factorization (default NMF)")
    parser.add_argument("--save", metavar="OUT.npz", help="write the result as .npz")
    parser.add_argument("--out", metavar="PAGE.html", help="write an interactive HTML page")
    parser.add_argument("--no-icons", action="store_true", help="skip the feature visualizations")
    parser.add_argument(
        "--steps", type=_whole(0), default=None, help="icon optimization steps, 0 or more (513)"
    )
    parser.add_argument("--no-cache", action="store_true", help="do not use the icon cache")
    return parser


@contextlib.contextmanager
def _stage(label: str) -> Iterator[None]:
    print(f"{label}...", end="", file=sys.stderr, flush=True)
    start = time.perf_counter()
    yield
    print(f" {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)


def _icon_progress(total: int):
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc="Icons", unit="step", file=sys.stderr)

    def progress(step: int, objectives) -> None:
        bar.set_postfix_str(f"objective {float(objectives.sum()):.1f}", refresh=False)
        bar.update(step + 1 - bar.n)

    return bar, progress


def _check_writable(*paths: str | None) -> None:
    for path in paths:
        if path is None:
            continue
        folder = Path(path).expanduser().resolve().parent
        if not folder.is_dir():
            raise NeuronGroupsError(f"Cannot write {path}: the folder {folder} does not exist.")
        if not os.access(folder, os.W_OK):
            raise NeuronGroupsError(f"Cannot write {path}: the folder {folder} is not writable.")


def _or_default(value, default):
    return default if value is None else value


def run(args: argparse.Namespace) -> int:
    """Run the analysis the parsed arguments describe."""
    from neuron_groups.backends.base import IconSettings
    from neuron_groups.display.page import save_page
    from neuron_groups.images import load_image
    from neuron_groups.models import load_model
    from neuron_groups.pipeline import LayerReading

    demo = args.image == "demo"
    image_source = DEMO["image"] if demo else args.image
    layer = _or_default(args.layer, DEMO["layer"])
    n_groups = _or_default(args.groups, DEMO["groups"])
    classes = _or_default(args.classes, DEMO["classes"] if demo else None)
    classes = [int(c) if c.isdigit() else c for c in classes] if classes else None
    settings = IconSettings(steps=_or_default(args.steps, IconSettings().steps))

    _check_writable(args.save, args.out)  # before minutes of work, not after
    image = load_image(image_source)
    with _stage(f"Loading model {args.model}"):
        model = load_model(args.model)
    with _stage(f"Reading {layer} and factorizing into {n_groups} groups"):
        reading = LayerReading(model, image, layer, classes)
        result = reading.analyze(n_groups, classes, method=args.method)
    print(f"\nTop 5 predictions for {image_source}:\n{result.top5_table()}\n")
    print(f"Effect of neuron groups at {result.layer} on output classes (logit units):")
    print(result.attribution_table())
    if not args.no_icons:
        _add_icons(result, model, settings, cache=not args.no_cache)
    if args.save:
        print(f"Saved the result to {result.save(args.save)}", file=sys.stderr)
    if args.out:
        save_page(result, args.out, title=f"Neuron groups of {image_source} at {result.layer}")
        print(f"Wrote the interactive page {args.out}", file=sys.stderr)
    return 0


def _add_icons(result, model, settings, cache: bool) -> None:
    from neuron_groups.backends.base import IconHooks
    from neuron_groups.icons import cached_icons, icon_cache_folder
    from neuron_groups.pipeline import add_icons

    found = cached_icons(model, result.layer, result.channel, settings, cache=cache)
    if found is not None:
        result.icons = found
        print(f"Icons: from the cache ({icon_cache_folder(cache)}).", file=sys.stderr)
        return
    bar, progress = _icon_progress(settings.steps)
    with bar:
        add_icons(result, model, settings, cache=cache, hooks=IconHooks(progress=progress))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``neuron-groups`` console script."""
    args = _parser().parse_args(argv)
    try:
        return run(args)
    except NeuronGroupsError as exc:
        print(f"\nneuron-groups: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nneuron-groups: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
