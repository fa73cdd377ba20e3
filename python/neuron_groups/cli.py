"""The ``neuron-groups`` command: analyse an image, print the tables, write the files.

``neuron-groups IMAGE [--layer ...]`` analyses one layer or several (then the flows between
neighbouring layers are printed too); ``demo`` and ``demo-layers`` run the article's two
figures; ``neuron-groups fit`` fits groups shared by many images; ``neuron-groups export``
writes a notebook as an HTML page whose widgets work offline.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from neuron_groups.errors import NeuronGroupsError

DEMO = {
    "image": "dog_cat",
    "layer": "mixed4d",
    "groups": 6,
    "classes": ["Labrador retriever", "tiger cat"],
}

DEMO_LAYERS = {
    "image": "dog_cat",
    "layers": ["mixed4a", "mixed4d"],
    "groups": [5, 6],
    "classes": ["Labrador retriever", "tiger cat"],
}
"""``neuron-groups demo-layers``: the article's figure of groups across layers."""

TOP_FLOWS = 10
"""How many flows each pair of layers prints, largest first."""


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


COMMANDS = """commands:
  neuron-groups IMAGE [options]     analyse an image (this page)
  neuron-groups demo                dog_cat at mixed4d, 6 groups, 'Labrador retriever' and
                                    'tiger cat' (the article's first figure)
  neuron-groups demo-layers         dog_cat at mixed4a (5 groups) -> mixed4d (6), the same
                                    classes (the article's figure across layers)
  neuron-groups fit IMAGES ...      groups shared by many images (neuron-groups fit --help)
  neuron-groups export NOTEBOOK     a notebook as an HTML page whose widgets work offline
                                    (neuron-groups export --help)"""


def _parser() -> argparse.ArgumentParser:
    from neuron_groups.factorization import MAX_GROUPS
    from neuron_groups.reading import MAX_LAYERS

    parser = argparse.ArgumentParser(
        prog="neuron-groups",
        description="Split a layer's activations into groups of neurons and show what they do. "
        "IMAGE is a file, an http(s) address, an example name (dog_cat, flowers, ...), "
        "'demo' or 'demo-layers'. With several layers, the flows between the groups of "
        "neighbouring layers are printed.",
        epilog=COMMANDS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("image", metavar="IMAGE")
    parser.add_argument(
        "--layer",
        nargs="+",
        default=None,
        metavar="LAYER",
        help=f"layer to factorize (default mixed4d), or up to {MAX_LAYERS} layers, input to output",
    )
    parser.add_argument(
        "--groups",
        type=_whole(1),
        nargs="+",
        default=None,
        metavar="N",
        help=f"number of groups, 1 to {MAX_GROUPS} (default 6; fewer where a layer has fewer "
        "positions); with several layers one for all or one per layer",
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
    parser.add_argument(
        "--attribution",
        choices=("integrated", "linear", "ablation"),
        default="integrated",
        help="the table printed and shown first: integrated gradients (default), the "
        "article's linear attribution, or the measured effect of removing each group; all "
        "three are computed and saved",
    )
    parser.add_argument("--save", metavar="OUT.npz", help="write the result as .npz")
    parser.add_argument("--out", metavar="PAGE.html", help="write an interactive HTML page")
    _icon_options(parser)
    return parser


@contextlib.contextmanager
def _stage(label: str) -> Iterator[None]:
    print(f"{label}...", end="", file=sys.stderr, flush=True)
    start = time.perf_counter()
    yield
    print(f" {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)


def _icon_progress(total: int, label: str = "Icons"):
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc=label, unit="step", file=sys.stderr)

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


def _choices(args: argparse.Namespace) -> tuple[str, list[str], list[int], list | None]:
    """The image, layers, group counts (one per layer) and classes asked for.

    Checked here as far as they can be without the model (the layer count, the group counts).
    """
    from neuron_groups.reading import MAX_LAYERS, WHY_MAX_LAYERS

    demo = DEMO_LAYERS if args.image == "demo-layers" else DEMO if args.image == "demo" else None
    if demo is DEMO_LAYERS:
        image, layers, groups = demo["image"], list(demo["layers"]), list(demo["groups"])
    else:
        image = DEMO["image"] if demo else args.image
        layers, groups = [DEMO["layer"]], [DEMO["groups"]]
    layers = _or_default(args.layer, layers)
    groups = _or_default(args.groups, groups if args.layer is None else [DEMO["groups"]])
    if len(layers) > MAX_LAYERS:
        raise NeuronGroupsError(
            f"--layer takes at most {MAX_LAYERS} layers; got {len(layers)}: {WHY_MAX_LAYERS}."
        )
    if len(groups) == 1:
        groups = groups * len(layers)  # one value for every layer
    elif len(groups) != len(layers):
        raise NeuronGroupsError(
            f"--groups has {len(groups)} values for {len(layers)} "
            f"layer{'s' * (len(layers) > 1)} ({' '.join(layers)}): give one value for all, or "
            f"one per layer, e.g. --groups {' '.join([str(DEMO['groups'])] * len(layers))}."
        )
    classes = _or_default(args.classes, demo["classes"] if demo else None)
    classes = [int(c) if c.isdigit() else c for c in classes] if classes else None
    return image, layers, groups, classes


def run(args: argparse.Namespace) -> int:
    """Run the analysis the parsed arguments describe."""
    from neuron_groups.images import load_image
    from neuron_groups.models import load_model

    image_source, layers, groups, classes = _choices(args)
    settings = _icon_settings(args)

    _check_writable(args.save, args.out)  # before minutes of work, not after
    image = load_image(image_source)
    with _stage(f"Loading model {args.model}"):
        model = load_model(args.model)
    with model.few_readings():  # each layer is read once: a trace would cost more than it saves
        result = _analyze(model, image, layers, groups, classes, args)
    print(f"\nTop 5 predictions for {image_source}:\n{result.top5_table()}\n")
    print(_report(result))
    if not args.no_icons:
        several = len(result.layers) > 1
        for groups_at in reversed(list(result.groups.values())):  # the last layer first
            label = f"Icons {groups_at.layer}" if several else "Icons"
            groups_at.icons = _icons(
                model, groups_at.layer, groups_at.channel, settings, not args.no_cache, label
            )
    if args.save:
        print(f"Saved the result to {result.save(args.save)}", file=sys.stderr)
    if args.out:
        from neuron_groups.display.page import save_page  # the display layer: only for a page

        where = " -> ".join(result.layers)
        save_page(result, args.out, title=f"Neuron groups of {image_source} at {where}")
        print(f"Wrote the interactive page {args.out}", file=sys.stderr)
    return 0


def _analyze(model, image, layers: list[str], groups: list[int], classes, args):
    """The groups at the layers (one or several), the tables, the flows and their quality."""
    from neuron_groups.reading import ImageReading, check_layers

    layers = check_layers(model, layers)  # before the passes
    chain = " -> ".join(f"{layer} ({n} groups)" for layer, n in zip(layers, groups, strict=True))
    with _stage(f"Reading {chain}, factorizing, attributing by every method"):
        reading = ImageReading(model, image, layers, classes)
        result = reading.analyze(groups, classes, args.method, attribution=args.attribution)
    with _stage("Measuring explained variance over counts and stability"):
        return reading.measure(result)


def _report(result) -> str:
    """The tables, the flows, how much the groups explain and where the methods disagree."""
    from neuron_groups.attribution import NAMES

    lines = [
        f"Effect of neuron groups at {result.layer} on output classes, by "
        f"{NAMES[result.attribution_method]} (logit units):",
        result.attribution_table(),
    ]
    if result.rest is not None:
        lines.append(
            "rest: the evidence the groups do not explain (integrated gradients' completeness: "
            "the groups and the rest add up to logit(image) - logit(zero activations))."
        )
    lines += _disagreements(result)
    for a, b in result.pairs:
        lines.append(
            f"\nFlows from the groups at {a} to the groups at {b} by "
            f"{NAMES[result.attribution_method]} (largest {TOP_FLOWS}):"
        )
        lines.append(result.flow_table((a, b), top=TOP_FLOWS))
    lines.append("")
    lines += [_quality_line(groups) for groups in result.groups.values()]
    return "\n".join(lines)


def _disagreements(result) -> list[str]:
    from neuron_groups.attribution import STRONG, sign_disagreements

    if not {"linear", "ablation"} <= set(result.tables):
        return []
    linear, measured = result.tables["linear"], result.tables["ablation"]
    return [
        f"warning: for {result.classes[k]!r}, group {g}'s linear attribution "
        f"({linear[k, g]:+.3f}) has the opposite sign of its measured effect "
        f"({measured[k, g]:+.3f}): the first-order estimate is off here; trust the measured "
        f"effect (strong cells: at least {STRONG:.0%} of the largest)."
        for k, g in zip(*np.nonzero(sign_disagreements(linear, measured)), strict=True)
    ]


def _quality_line(groups) -> str:
    text = (
        f"{groups.layer}: {groups.n_groups} groups explain {groups.explained_variance:.1%} of "
        "the activations"
    )
    if groups.explained_variance_by_k is not None:
        curve = ", ".join(f"{v:.0%}" for v in groups.explained_variance_by_k)
        text += f" (1..{len(groups.explained_variance_by_k)} groups: {curve})"
    if groups.stability is not None:
        text += "; stability of each group: " + " ".join(f"{v:.2f}" for v in groups.stability)
    return text + "."


def _icons(model, layer: str, directions, settings, cache: bool, label: str = "Icons"):
    """Icons of these directions (n, C), from the cache or optimized with a progress bar."""
    from neuron_groups.backends.base import IconHooks
    from neuron_groups.icons import cached_icons, icon_cache_folder, render_icons

    found = cached_icons(model, layer, directions, settings, cache=cache)
    if found is not None:
        print(f"{label}: from the cache ({icon_cache_folder(cache)}).", file=sys.stderr)
        return found
    bar, progress = _icon_progress(settings.steps, label)
    with bar:
        hooks = IconHooks(progress=progress)
        return render_icons(model, layer, directions, settings, cache=cache, hooks=hooks)


def _fit_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="neuron-groups fit",
        description="Find one set of neuron groups shared by many images (streamed, in "
        "bounded memory) and save it, for GroupWidget(..., groups=) and load_groups.",
    )
    parser.add_argument("images", nargs="+", metavar="IMAGES", help="files, folders or globs")
    parser.add_argument(
        "--layer",
        nargs="+",
        default=["mixed4d"],
        help="the one layer to factorize (mixed4d): a fit finds groups at one layer",
    )
    parser.add_argument("--groups", type=_whole(1), default=8, help="number of groups (8)")
    parser.add_argument("--batch-size", type=_whole(1), default=16, help="images per batch (16)")
    parser.add_argument("--checkpoint", metavar="CK.npz", help="resume from / write to this file")
    parser.add_argument("--save", metavar="OUT.npz", required=True, help="where to save the groups")
    parser.add_argument(
        "--out",
        metavar="GALLERY.html",
        help="write the gallery (each group's icon, strongest regions, usage and classes) as "
        "one offline HTML page",
    )
    parser.add_argument("--model", default="inceptionv1", help="model name (default inceptionv1)")
    _icon_options(parser, "the gallery's")
    return parser


def _icon_options(parser: argparse.ArgumentParser, whose: str = "the") -> None:
    parser.add_argument(
        "--no-icons", action="store_true", help=f"skip {whose} feature visualizations"
    )
    parser.add_argument(
        "--steps", type=_whole(0), default=None, help="icon optimization steps, 0 or more (513)"
    )
    parser.add_argument(
        "--fast",
        action="store_true",
        help="fast icons: IconSettings.fast(), the default run's first 256 steps (of 513)",
    )
    parser.add_argument(
        "--lucid",
        action="store_true",
        help="icons with Lucid's optimizer exactly: IconSettings.lucid() (Adam's betas 0.9 "
        "and 0.999, where the default's are 0.6 and 0.98)",
    )
    parser.add_argument("--no-cache", action="store_true", help="do not use the icon cache")
    parser.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help='where to fit: this process (default), or a Ray cluster (the "ray" extra)',
    )
    parser.add_argument(
        "--ray-address",
        metavar="ADDRESS",
        help="with --engine ray: the cluster (default: RAY_ADDRESS, else a new local one)",
    )


def _icon_settings(args: argparse.Namespace):
    from neuron_groups.backends.base import IconSettings

    settings = IconSettings.lucid() if args.lucid else IconSettings()
    if args.fast:
        settings = dataclasses.replace(settings, steps=IconSettings.fast().steps)
    if args.steps is not None:
        settings = dataclasses.replace(settings, steps=args.steps)
    return settings


def run_fit(args: argparse.Namespace) -> int:
    """Fit shared groups over the images the parsed arguments name, save them (and a gallery)."""
    from neuron_groups.datasets import fit_groups, image_sources
    from neuron_groups.models import load_model

    if len(args.layer) > 1:
        raise NeuronGroupsError(
            f"A fit finds groups at one layer; got --layer {' '.join(args.layer)}. Fit each "
            f"layer on its own, e.g. --layer {args.layer[-1]}."
        )
    _check_writable(args.save, args.checkpoint, args.out)
    settings = _icon_settings(args)
    images = args.images[0] if len(args.images) == 1 else args.images
    image_sources(images)  # a missing folder or a pattern matching nothing: before the model
    with _stage(f"Loading model {args.model}"):
        model = load_model(args.model)
    groups = fit_groups(
        images,
        args.layer[0],
        args.groups,
        model=model,
        batch_size=args.batch_size,
        checkpoint=args.checkpoint,
        engine=args.engine,
        ray_address=args.ray_address,
    )
    groups.save(args.save)
    print(repr(groups))
    for name, reason in groups.skipped:
        print(f"skipped {name}: {reason}", file=sys.stderr)
    print(f"Saved the groups to {args.save}", file=sys.stderr)
    if args.out:
        _write_gallery(groups, model, settings, args)
    return 0


def _write_gallery(groups, model, settings, args: argparse.Namespace) -> None:
    """The gallery page: the classes measured on the regions' crops, the icons if asked."""
    from neuron_groups.display.gallery import gallery_page  # the display layer: for a page

    count = sum(len(regions) for regions in groups.top_regions)
    with _stage(f"Measuring the classes each group pushes ({count} regions)"):
        effects = groups.class_effects(model)
    icons = None
    if not args.no_icons:
        icons = _icons(model, groups.layer, groups.channel, settings, not args.no_cache)
    title = f"Shared neuron groups at {groups.layer} ({groups.n_images} images)"
    gallery_page(groups, args.out, title=title, effects=effects, icons=icons)
    print(f"Wrote the gallery {args.out}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``neuron-groups`` console script (``fit`` and ``export`` too)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv and argv[0] in ("fit", "export") else None
    if command == "export":
        from neuron_groups.display.export import main as export_main  # the display layer

        return export_main(argv[1:], prog="neuron-groups export")
    fitting = command == "fit"
    args = _fit_parser().parse_args(argv[1:]) if fitting else _parser().parse_args(argv)
    try:
        return run_fit(args) if fitting else run(args)
    except NeuronGroupsError as exc:
        print(f"\nneuron-groups: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nneuron-groups: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
