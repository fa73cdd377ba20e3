"""The gallery page of shared groups (``gallery_page`` / ``neuron-groups fit --out``) in chromium.

The groups are fitted on the fake model (no framework needed) over pieces of the example
images, so the crops are real photographs; the icons are noise. The page is opened from disk
in an offline context with every host but localhost unresolvable (``chromium.FLAGS``):
every request it makes must be ``file:``, ``blob:`` or ``data:``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from neuron_groups.datasets import fit_groups
from neuron_groups.display.gallery import gallery_page
from neuron_groups.images import load_image
from tests.fakes import FakeModel

from .chromium import browser
from .test_standalone_page import LOAD_TIMEOUT, UI_TIMEOUT, open_page

pytestmark = pytest.mark.browser

N_GROUPS, TOP_K = 4, 6
PINNED = re.compile(r"\bis-pinned\b")
HOVERED = re.compile(r"\bis-hovered\b")


@pytest.fixture(scope="module")
def page_path(tmp_path_factory, shared) -> Path:
    """Shared groups of the fake model over the 10 example images and their flips (20)."""
    pictures = [load_image(p) for p in sorted((shared / "images").glob("*.png"))]
    images = pictures + [p[:, ::-1] for p in pictures]
    model = FakeModel()
    groups = fit_groups(images, "conv", N_GROUPS, model=model, progress=False, top_k=TOP_K)
    icons = np.random.default_rng(0).random((N_GROUPS, 80, 80, 3)).astype(np.float32)
    path = tmp_path_factory.mktemp("gallery") / "gallery.html"
    gallery_page(groups, path, title="Examples", effects=groups.class_effects(model), icons=icons)
    return path


def test_gallery_page_offline(page_path: Path) -> None:
    from playwright.sync_api import expect

    with browser() as chromium:
        context = chromium.new_context(offline=True, viewport={"width": 1100, "height": 1000})
        visit = open_page(context, page_path.as_uri())
        page = visit.page
        root = page.locator("#neuron-groups-root")
        expect(root).to_have_attribute("data-ready", "true", timeout=LOAD_TIMEOUT)
        view = page.locator(".neuron-groups.ng-gallery-view")
        expect(view.locator(".ng-error")).to_be_hidden()
        expect(view.locator(".ng-title")).to_have_text("Examples")

        # Every group with its icon, and every region's crop decoded (JPEG from base64).
        expect(view.locator(".ng-gallery-group")).to_have_count(N_GROUPS)
        expect(view.locator(".ng-gallery-head img.ng-icon:visible")).to_have_count(N_GROUPS)
        crops = view.locator("img.ng-region-crop")
        expect(crops).to_have_count(N_GROUPS * TOP_K)
        widths = crops.evaluate_all("imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")
        assert widths == [64] * (N_GROUPS * TOP_K)
        expect(view.locator(".ng-gallery-classes").first).to_contain_text("Pushes")
        expect(view.locator(".ng-progress")).to_be_hidden()  # no kernel: nothing to stop

        # The cell box lies inside its crop, in the group's colour.
        region = view.locator('.ng-region[data-group="1"][data-index="0"]')
        box = region.locator(".ng-region-cell").bounding_box()
        frame = region.locator(".ng-region-frame").bounding_box()
        assert frame["x"] <= box["x"] and box["x"] + box["width"] <= frame["x"] + frame["width"] + 1
        assert 0 < box["width"] < frame["width"]

        # Hover a region: its words, its group shown.
        page.mouse.move(1, 1)
        region.hover()
        expect(region).to_have_class(HOVERED, timeout=UI_TIMEOUT)
        expect(view).to_have_attribute("data-selected", "1")
        expect(view.locator(".ng-gallery-detail")).to_contain_text("cell (")
        title = region.get_attribute("title")
        expect(view.locator(".ng-gallery-detail")).to_have_text(title)

        # Click a group's tile: pinned; again: unpinned.
        tile = view.locator('.ng-tile[data-group="2"]')
        tile.click()
        expect(view).to_have_attribute("data-pinned", "2", timeout=UI_TIMEOUT)
        expect(view.locator('.ng-gallery-group[data-group="2"]')).to_have_class(PINNED)
        tile.click()
        expect(view).to_have_attribute("data-pinned", "-1", timeout=UI_TIMEOUT)

        assert visit.remote_requests() == []
        assert visit.errors == [] and visit.dialogs == []
        context.close()
