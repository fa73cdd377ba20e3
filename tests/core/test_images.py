import numpy as np
import PIL.Image
import pytest

from neuron_groups.errors import DataError, ImageError
from neuron_groups.images import load_image, png_bytes


def test_example_name_and_path_agree(shared):
    by_name = load_image("dog_cat")
    by_path = load_image(shared / "images" / "dog_cat.png")
    assert by_name.shape == (224, 224, 3) and by_name.dtype == np.float32
    np.testing.assert_array_equal(by_name, by_path)
    assert by_name.min() >= 0.0 and by_name.max() <= 1.0


def test_pil_and_uint8_and_float_agree(shared):
    pil = PIL.Image.open(shared / "images" / "flowers.png")
    as_uint8 = np.asarray(pil.convert("RGB"))
    np.testing.assert_allclose(load_image(pil), load_image(as_uint8))
    np.testing.assert_allclose(load_image(as_uint8 / 255.0), load_image(as_uint8), atol=1e-6)


def test_grayscale_rgba_and_batch_axis_are_converted():
    gray = np.full((10, 12), 128, np.uint8)
    out = load_image(gray)
    assert out.shape == (10, 12, 3)
    np.testing.assert_allclose(out, 128 / 255)
    rgba = np.zeros((1, 5, 5, 4), np.float32)
    rgba[..., 0] = 1.0
    out = load_image(rgba)
    assert out.shape == (5, 5, 3)
    assert out[..., 0].min() == 1.0 and out[..., 1:].max() == 0.0


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros((0, 5, 3)), "empty"),
        (np.zeros((5, 5, 3, 2, 1)), "shape"),
        (np.zeros((3, 5, 5)), "channels"),
        (np.full((5, 5, 3), np.nan), "NaN"),
        (np.full((5, 5, 3), 200.0), "divide by 255"),
        (np.full((5, 5, 3), -3.0), "[0, 1]"),
    ],
)
def test_bad_arrays_get_specific_errors(array, message):
    with pytest.raises(ImageError, match=message if message[0] != "[" else r"\[0, 1\]"):
        load_image(array)


def test_unreadable_and_missing_files(tmp_path):
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not a png")
    with pytest.raises(ImageError, match="Cannot read"):
        load_image(junk)
    with pytest.raises(ImageError, match="Did you mean 'dog_cat'"):
        load_image("dog_car")
    with pytest.raises(ImageError, match="No image file"):
        load_image(tmp_path / "absent.png")


def test_image_from_an_address(shared_over_http, monkeypatch, tmp_path):
    monkeypatch.setenv("NEURON_GROUPS_CACHE", str(tmp_path))
    from_url = load_image(f"{shared_over_http}/images/flowers.png")
    np.testing.assert_array_equal(from_url, load_image("flowers"))


def test_download_failure_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("NEURON_GROUPS_CACHE", str(tmp_path))
    with pytest.raises(ImageError, match="Could not download"):
        load_image("http://127.0.0.1:9/nothing.png")


def test_png_round_trip():
    image = np.linspace(0, 1, 4 * 6 * 3, dtype=np.float32).reshape(4, 6, 3)
    back = load_image(PIL.Image.open(__import__("io").BytesIO(png_bytes(image))))
    np.testing.assert_allclose(back, image, atol=1 / 255)


def test_example_missing_everywhere_names_variable_file_and_address(monkeypatch, tmp_path):
    monkeypatch.setenv("NEURON_GROUPS_DATA", str(tmp_path))  # an empty local copy
    monkeypatch.setenv("NEURON_GROUPS_CACHE", str(tmp_path / "cache"))
    with pytest.raises(DataError) as info:
        load_image("flowers")
    text = str(info.value)
    assert "NEURON_GROUPS_DATA" in text and "images/flowers.png" in text
    assert "post--building-blocks/0d598ae76d5a7183c09a33aeaa7c08af67e1c631" in text
