"""nnkit.preprocess: drawings and pictures made into MNIST / 8x8 digits, uploads decoded safely."""

from __future__ import annotations

import io
import pickle
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageFile

from nnkit.preprocess import MAX_PIXELS, PictureError, read_picture, to_digits8, to_mnist


def _centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    rows, cols = np.indices(image.shape)
    return (rows * image).sum() / image.sum(), (cols * image).sum() / image.sum()


def _bbox(image: np.ndarray) -> tuple[int, int]:
    rows, cols = np.nonzero(image > 0)
    return rows.max() - rows.min() + 1, cols.max() - cols.min() + 1


def _seven(size: int = 280, top: int = 30, left: int = 150, scale: float = 1.0) -> np.ndarray:
    """A white "7" on black, uint8, deliberately off-centre."""
    image = np.zeros((size, size), dtype=np.uint8)
    s = lambda v: int(round(v * scale))  # noqa: E731
    image[top: top + s(20), left: left + s(90)] = 255  # the bar
    for i in range(s(150)):  # the slanted stem
        x = left + s(90) - s(20) - i * 40 // 150
        image[top + i: top + i + 2, max(x, 0): x + s(18)] = 255
    return image


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _bomb_png(side: int) -> bytes:
    """A valid 1-bit PNG of side x side pixels of zeros, a few kB on disk, written row by row."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    packer = zlib.compressobj(9)
    row = b"\x00" * (1 + (side + 7) // 8)
    pixels = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


# --- to_mnist ---------------------------------------------------------------------------------

def test_mnist_shape_range_and_type():
    out = to_mnist(_seven())
    assert out.shape == (28, 28) and out.dtype == np.float32
    assert out.min() == 0.0 and 0.99 <= out.max() <= 1.0


@pytest.mark.parametrize("top, left", [(10, 10), (30, 150), (120, 0), (0, 180)])
def test_mnist_centre_of_mass_is_centred(top, left):
    image = _seven(top=top, left=left)
    assert abs(_centre_of_mass(image.astype(float))[1] - 140) > 20 or top != 30  # really off-centre
    cy, cx = _centre_of_mass(to_mnist(image))
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5


def test_mnist_blob_off_centre():
    image = np.zeros((100, 100))
    image[5:25, 60:95] = 1.0
    cy, cx = _centre_of_mass(to_mnist(image))
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5


@pytest.mark.parametrize("scale", [1.0, 1.7])
def test_mnist_digit_box_is_20_px(scale):
    image = _seven(size=600, top=40, left=200, scale=scale)
    h, w = _bbox(to_mnist(image))
    assert h <= 20 and w <= 20
    assert max(h, w) >= 19


def test_mnist_small_input_is_enlarged_to_20_px():
    image = np.zeros((28, 28))
    image[3:11, 5:9] = 1.0  # 8 x 4
    out = to_mnist(image)
    h, w = _bbox(out)
    assert 19 <= h <= 20 and w <= 12


def test_mnist_keeps_the_aspect_ratio():
    image = np.zeros((200, 200))
    image[20:180, 90:130] = 1.0  # 160 tall, 40 wide: 20 x 5 after scaling
    h, w = _bbox(to_mnist(image))
    assert h == 20 and 5 <= w <= 6


def test_dark_ink_on_white_is_inverted():
    white_ink = _seven()
    dark_ink = 255 - white_ink
    np.testing.assert_allclose(to_mnist(dark_ink), to_mnist(white_ink), atol=1e-6)
    np.testing.assert_allclose(to_digits8(dark_ink), to_digits8(white_ink), atol=1e-6)
    # float input in [0, 1] as well as 0..255
    np.testing.assert_allclose(to_mnist(dark_ink / 255.0), to_mnist(white_ink), atol=1e-6)


def test_grey_paper_counts_as_background():
    photo = np.full((200, 200), 0.75)  # grey paper, dark pencil
    photo[40:160, 95:105] = 0.1
    out = to_mnist(photo)
    assert out[0].max() == 0 and out.max() > 0.99 and _bbox(out)[0] == 20


@pytest.mark.parametrize("image", [
    np.zeros((280, 280)), np.ones((280, 280)), np.full((50, 80), 255, dtype=np.uint8),
    np.zeros((280, 280, 4), dtype=np.uint8), np.zeros((280, 280, 3)),
])
def test_empty_input_gives_zeros(image):
    out = to_mnist(image)
    assert out.shape == (28, 28) and not out.any()
    assert to_digits8(image).shape == (8, 8) and not to_digits8(image).any()


def test_rgb_input():
    rgb = np.repeat(_seven()[..., None], 3, axis=2)
    rgb[..., 2] = 0  # yellow ink on black: still light ink on a dark background
    out = to_mnist(rgb)
    assert out.max() > 0.8
    cy, cx = _centre_of_mass(out)
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5


@pytest.mark.parametrize("ink_colour", [0, 255])
def test_rgba_with_transparent_background(ink_colour):
    """Black or white ink on a transparent background (whose RGB is 0, as most tools save it)."""
    seven = _seven()
    rgba = np.zeros((280, 280, 4), dtype=np.uint8)
    rgba[..., :3] = np.where(seven[..., None] > 0, ink_colour, 0)
    rgba[..., 3] = seven  # opaque where the ink is, transparent elsewhere
    np.testing.assert_allclose(to_mnist(rgba), to_mnist(seven), atol=1e-6)


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError):
        to_mnist(np.zeros((4, 4, 5)))
    with pytest.raises(ValueError):
        to_mnist(np.zeros(10))


# --- to_digits8 -------------------------------------------------------------------------------

def test_digits8_shape_and_range():
    out = to_digits8(_seven())
    assert out.shape == (8, 8) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0 and out.max() > 0.9


def test_digits8_digit_fills_the_box():
    out = to_digits8(_seven(top=150, left=10))
    assert out[0].any() and out[-1].any()  # top and bottom rows reached, wherever it was drawn


def test_digits8_vertical_bar_lands_in_the_middle_columns():
    image = np.zeros((280, 280), dtype=np.uint8)
    image[40:240, 20:44] = 255  # a "1" at the far left
    out = to_digits8(image)
    assert out[:, 3:5].sum() > 0.99 * out.sum()
    assert out[:, 3:5].min() > 0.1  # the bar runs from top to bottom
    assert not out[:, :3].any() and not out[:, 5:].any()


# --- read_picture -----------------------------------------------------------------------------

def test_png_round_trip():
    seven = _seven()
    data = _png(Image.fromarray(255 - seven))  # dark ink on white, as a scan
    picture = read_picture(data)
    assert picture.shape == seven.shape and picture.dtype == np.float32
    np.testing.assert_allclose(picture, (255 - seven) / 255.0, atol=1e-6)
    np.testing.assert_allclose(to_mnist(picture), to_mnist(seven), atol=1e-6)


def test_rgba_png_with_transparency():
    seven = _seven()
    rgba = np.zeros((280, 280, 4), dtype=np.uint8)
    rgba[..., 3] = seven  # black ink, transparent background
    picture = read_picture(_png(Image.fromarray(rgba)))
    assert picture.shape == (280, 280)
    np.testing.assert_allclose(to_mnist(picture), to_mnist(seven), atol=1e-6)


def test_jpeg_rgb_and_large_pictures_are_shrunk():
    seven = np.kron(_seven(), np.ones((6, 6), dtype=np.uint8))  # 1680 x 1680
    out = io.BytesIO()
    Image.fromarray(np.stack([seven] * 3, axis=2)).save(out, "JPEG", quality=90)
    picture = read_picture(out.getvalue())
    assert max(picture.shape) <= 1024 and picture.min() >= 0.0 and picture.max() <= 1.0
    cy, cx = _centre_of_mass(to_mnist(picture))
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5


@pytest.mark.parametrize("data", [
    np.random.default_rng(0).bytes(5000),
    b"x,y\n1,2\n3,4\n5,6\n",
    pickle.dumps({"weights": [1.0, 2.0]}),
    b"",
    b"\x89PNG\r\n\x1a\n" + b"\x00" * 100,  # a PNG signature and nothing valid after it
    b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n",  # a format Pillow knows but we refuse
])
def test_not_an_image(data):
    with pytest.raises(PictureError) as err:
        read_picture(data)
    assert err.value.code == "not_image" and isinstance(err.value, ValueError)


def test_truncated_png_is_not_an_image():
    data = _png(Image.fromarray(_seven()))
    with pytest.raises(PictureError) as err:
        read_picture(data[: len(data) // 2])
    assert err.value.code == "not_image"


def test_too_big():
    data = _png(Image.fromarray(_seven()))
    with pytest.raises(PictureError) as err:
        read_picture(data, max_bytes=len(data) - 1)
    assert err.value.code == "too_big"
    assert err.value.details == {"size": len(data), "limit": len(data) - 1}
    assert read_picture(data, max_bytes=len(data)).shape == (280, 280)


@pytest.mark.parametrize("side", [20_000, 5_000])
def test_decompression_bomb_is_refused_before_decoding(side, monkeypatch):
    """20000 x 20000 trips Pillow's own limit in open(); 5000 x 5000 (25 MP) only ours (16.8 MP)."""
    data = _bomb_png(side)
    assert len(data) < 100_000 and side * side > MAX_PIXELS

    def no_decoding(self, *args, **kwargs):
        raise AssertionError("pixel data was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    with pytest.raises(PictureError) as err:
        read_picture(data)
    assert err.value.code == "too_many_pixels" and err.value.details == {"limit": MAX_PIXELS}
