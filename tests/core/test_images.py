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


# -- images from the web: a local server that misbehaves in every way ----------------------------


def png_of(image: np.ndarray) -> bytes:
    buffer = __import__("io").BytesIO()
    PIL.Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


SMALL = np.arange(8 * 8 * 3, dtype=np.uint8).reshape(8, 8, 3)
NOISE = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def web():
    """A local HTTP server with one address per way a download can go wrong; its base URL."""
    import contextlib
    import http.server
    import threading
    import time

    release = threading.Event()  # the stalling handlers wait for it; set at the end

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def send(self, code, body=b"", kind="image/png", length=True, **headers):
            self.send_response(code)
            self.send_header("Content-Type", kind)
            if length:
                self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            path = self.path
            if path == "/image.png":
                self.send(200, png_of(SMALL))
            elif path == "/moved":
                self.send(302, Location="/image.png")
            elif path in ("/loop-a", "/loop-b"):
                self.send(302, Location="/loop-b" if path == "/loop-a" else "/loop-a")
            elif path.startswith("/chain/"):
                self.send(302, Location=f"/chain/{int(path.rsplit('/', 1)[1]) + 1}")
            elif path == "/huge":  # announces 25 MB
                self.send_response(200)
                self.send_header("Content-Type", "image/jpeg")
                self.send_header("Content-Length", str(25 * 2**20))
                self.end_headers()
            elif path == "/endless":  # no length announced; sends 1 MB blocks until closed
                self.send(200, length=False)
                while not release.is_set():
                    self.wfile.write(b"\0" * 2**20)
            elif path == "/page.html":
                self.send(200, b"<html><body><img src='/image.png'></body></html>", "text/html")
            elif path == "/damaged.png":  # half of a PNG of noise
                self.send(200, png_of(NOISE)[: len(png_of(NOISE)) // 2])
            elif path == "/silent":  # accepts, then says nothing
                release.wait(60)
            elif path == "/stalls":  # headers and 10 bytes of 1000, then nothing
                self.send_response(200)
                self.send_header("Content-Length", "1000")
                self.end_headers()
                self.wfile.write(png_of(SMALL)[:10])
                self.wfile.flush()
                release.wait(60)
            elif path == "/trickle":  # a byte every 0.1 s: no single wait is long
                self.send(200, length=False)
                while not release.wait(0.1):
                    self.wfile.write(b"\0")
                    self.wfile.flush()
            else:
                self.send(404, b"no", "text/plain")

        def handle(self):
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                super().handle()  # (the client giving up is what these tests are about)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    release.set()
    server.shutdown()
    server.server_close()
    time.sleep(0.2)


def refused(url, match, bound, **limits):
    """load_image(url) raises an ImageError matching ``match`` in under ``bound`` seconds."""
    import time

    start = time.monotonic()
    with pytest.raises(ImageError, match=match):
        load_image(url, **limits)
    elapsed = time.monotonic() - start
    assert elapsed < bound, f"{url} took {elapsed:.1f} s"
    return elapsed


def test_an_image_from_a_local_server_and_through_a_redirect(web):
    np.testing.assert_array_equal(load_image(f"{web}/image.png"), SMALL / np.float32(255))
    np.testing.assert_array_equal(load_image(f"{web}/moved"), SMALL / np.float32(255))


def test_a_redirect_loop_or_chain_is_refused(web):
    refused(f"{web}/loop-a", r"/loop-a redirects in a loop, more than 5 times", 5)
    refused(f"{web}/chain/0", r"/chain/0 redirects in a loop, more than 5 times", 5)


def test_a_download_over_the_size_cap_is_refused(web):
    # Announced: refused before a byte of the body is read (the default cap, 20 MB).
    refused(f"{web}/huge", r"larger than the 20 MB download limit \(25.0 MB\).*max_bytes", 5)
    # Not announced: refused once more than the cap has arrived.
    refused(f"{web}/endless", r"larger than the 2 MB download limit", 10, max_bytes=2 * 2**20)


def test_a_web_page_is_not_an_image_and_says_what_to_give(web):
    refused(f"{web}/page.html", r"gave text/html \(\d+ bytes\), not an image.*Copy image", 5)
    refused(f"{web}/damaged.png", r"\(image/png\) is damaged", 5)
    refused(f"{web}/nothing.png", r"Could not download the image at .*HTTP 404", 5)


@pytest.mark.parametrize("path", ["silent", "stalls", "trickle"])
def test_a_stalled_or_trickling_download_gives_up_at_the_timeout(web, path):
    # "trickle" sends a byte every 0.1 s: no single wait reaches the timeout, the whole does.
    elapsed = refused(f"{web}/{path}", r"did not arrive within 1 s.*timeout=", 3, timeout=1.0)
    assert elapsed >= 0.9


def test_the_default_limits_are_documented():
    from neuron_groups import images

    assert images.URL_MAX_BYTES == 20 * 2**20 and images.URL_TIMEOUT == 30.0
    doc = images.load_image.__doc__
    assert "20 MB" in doc and "30 s" in doc


# -- odd but valid image files -------------------------------------------------------------------


def reopened(image: PIL.Image.Image, fmt: str, **options) -> bytes:
    buffer = __import__("io").BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def chunk(kind: bytes, data: bytes) -> bytes:
    """A PNG chunk: length, kind, data, CRC-32."""
    import struct
    import zlib

    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png16(samples: np.ndarray) -> bytes:
    """A 16-bit PNG (grey (H, W) or RGB (H, W, 3)) written by hand: PIL cannot write RGB 16."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    h, w = samples.shape[:2]
    colour = 2 if samples.ndim == 3 else 0
    rows = b"".join(b"\0" + samples[y].astype(">u2").tobytes() for y in range(h))
    header = struct.pack(">IIBBBBB", w, h, 16, colour, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def test_a_16_bit_greyscale_png_is_scaled_by_its_full_range():
    grey = np.array([[0, 32768], [65535, 1000]], np.uint16)  # its brightest is not 65535 alone
    out = load_image(png16(grey))
    np.testing.assert_allclose(out[..., 0], grey / 65535, atol=1e-6)
    dim = load_image(png16(grey // 4))  # a dim image stays dim (not stretched to white)
    np.testing.assert_allclose(dim[..., 1], (grey // 4) / 65535, atol=1e-6)


def test_a_16_bit_rgb_png_is_scaled_by_its_full_range():
    rgb = np.zeros((2, 3, 3), np.uint16)
    rgb[0, 0] = [65535, 32768, 257]
    rgb[1, 2] = [1000, 60000, 30000]
    out = load_image(png16(rgb))
    np.testing.assert_allclose(out, rgb / 65535, atol=1 / 255)  # PIL keeps the high byte


def test_a_cmyk_jpeg_is_converted_to_rgb():
    cmyk = PIL.Image.new("CMYK", (16, 16), (0, 0, 0, 0))  # white
    cmyk.paste((255, 0, 0, 0), (0, 0, 8, 16))  # cyan on the left half
    out = load_image(reopened(cmyk, "JPEG", quality=95))
    np.testing.assert_allclose(out[4, 2], [0, 1, 1], atol=0.03)
    np.testing.assert_allclose(out[4, 13], [1, 1, 1], atol=0.03)


def test_a_palette_png_with_transparency_is_composited_on_white():
    palette = PIL.Image.new("P", (4, 4), 0)
    palette.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)  # 0: black (transparent), 1: red
    palette.putpixel((1, 2), 1)
    out = load_image(reopened(palette, "PNG", transparency=0))
    np.testing.assert_array_equal(out[2, 1], [1, 0, 0])
    np.testing.assert_array_equal(out[0, 0], [1, 1, 1])  # transparent: white, not black


def test_half_transparent_rgba_and_grey_alpha_are_composited_on_white():
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[..., 2] = 255  # blue
    rgba[..., 3] = [[255, 0], [128, 0]]
    out = load_image(reopened(PIL.Image.fromarray(rgba), "PNG"))
    np.testing.assert_allclose(out[0, 0], [0, 0, 1])
    np.testing.assert_allclose(out[0, 1], [1, 1, 1])
    np.testing.assert_allclose(out[1, 0], [127 / 255, 127 / 255, 1], atol=1.5 / 255)
    grey_alpha = PIL.Image.fromarray(np.stack([np.zeros((2, 2), np.uint8)] * 2, -1), "LA")
    np.testing.assert_array_equal(load_image(grey_alpha), np.ones((2, 2, 3)))  # alpha 0


def test_a_greyscale_file_and_a_png_named_jpg(tmp_path):
    grey = np.array([[0, 64], [128, 255]], np.uint8)
    out = load_image(reopened(PIL.Image.fromarray(grey), "PNG"))
    np.testing.assert_allclose(out, np.repeat(grey[..., None] / 255, 3, -1), atol=1e-6)
    misnamed = tmp_path / "photo.jpg"
    misnamed.write_bytes(png_of(SMALL))
    np.testing.assert_array_equal(load_image(misnamed), SMALL / np.float32(255))


@pytest.mark.parametrize(
    ("orientation", "upright"),
    [(3, lambda a: a[::-1, ::-1]), (6, lambda a: np.rot90(a, -1)), (8, lambda a: np.rot90(a, 1))],
)
def test_an_exif_rotated_photo_is_shown_upright(tmp_path, orientation, upright):
    # A 40 x 24 photo: a red block at the top left of the sensor's image, the rest grey.
    sensor = np.full((24, 40, 3), 128, np.uint8)
    sensor[:8, :16] = [255, 0, 0]
    exif = PIL.Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / f"rotated{orientation}.jpg"
    PIL.Image.fromarray(sensor).save(path, exif=exif, quality=100, subsampling=0)
    out = load_image(path)
    expected = upright(sensor) / 255
    assert out.shape == expected.shape
    np.testing.assert_allclose(out, expected, atol=0.05)  # JPEG's error
    red = np.argwhere((out[..., 0] > 0.8) & (out[..., 1] < 0.2))
    assert len(red) > 100 and np.all(expected[tuple(red.T)] == [1, 0, 0])


def test_a_decompression_bomb_is_refused_quickly(tmp_path):
    """A 60,000 x 60,000 PNG (3.6 billion pixels) in a few hundred KB is refused at its header."""
    import struct
    import time
    import zlib

    side = 60_000
    compressor = zlib.compressobj(9)
    row = b"\0" + b"\0" * (side // 8)  # one-bit greyscale rows, all black
    body = b"".join(compressor.compress(row) for _ in range(200)) + compressor.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )
    start = time.monotonic()
    with pytest.raises(ImageError, match="decompression bomb"):
        load_image(bomb)
    with pytest.raises(ImageError, match="decompression bomb"):
        load_image(bomb.read_bytes())
    assert time.monotonic() - start < 5
