"""Turn a learner's drawing or picture into what a digit model was trained on.

Two targets:

- MNIST (28x28): white ink on black, the digit scaled so its longer side is 20 px, keeping its
  aspect ratio, and pasted so that its centre of mass sits at the centre of the field (the way the
  MNIST images were made from NIST's size-normalized digits).
- scikit-learn's 8x8 digits: a 32x32 bitmap in which the digit fills the box, counted in 4x4
  blocks (values 0..16 there; here the ink fraction of each block, 0..1 = count / 16).

Both start the same way: greyscale (a transparent background counts as background), ink made
white on black whichever way round the picture was (the border decides which is background),
the background level subtracted, and the ink's bounding box cropped.

`read_picture` decodes an uploaded PNG/JPEG/GIF/BMP/WebP with Pillow, and refuses files that are
too large, not pictures, or with more pixels than we are willing to decode (decompression bombs),
before any pixel data is decoded.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageFile, ImageOps

from nnkit.errors import CodedError

MAX_BYTES = 2 * 2**20  # 2 MB, as Streamlit counts a megabyte
MAX_PIXELS = 4096 * 4096  # 16.8 million: any phone photo that fits in MAX_BYTES, far below a bomb
WORK_SIDE = 1024  # read_picture shrinks larger pictures to this longer side (targets are 28 or 32 px)
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP")
ERROR_CODES = ("too_big", "not_image", "too_many_pixels")

INK_THRESHOLD = 0.2  # ink above this counts for the bounding box
NOISE_FLOOR = 0.05  # ink below this is set to 0 (MNIST's background is exactly 0)


class PictureError(CodedError):
    """A file that cannot be used; `code` selects the translated message, `details` fill it in."""

    codes = ERROR_CODES


# ---------------------------------------------------------------------------------------------
# From any array to white ink on black
# ---------------------------------------------------------------------------------------------

def _unit(values: np.ndarray) -> np.ndarray:
    """Values as float64 in [0, 1]: integers and floats above 1 are read as 0..255."""
    array = np.asarray(values)
    if array.dtype == bool:
        return array.astype(np.float64)
    out = np.nan_to_num(array.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    if np.issubdtype(array.dtype, np.integer) or (out.size and out.max() > 1.0):
        out = out / 255.0
    return np.clip(out, 0.0, 1.0)


def grey(image: np.ndarray) -> np.ndarray:
    """A 2-D greyscale float array in [0, 1] from 2-D, (H, W, 1), RGB, grey+alpha or RGBA input.

    With an alpha channel, transparent pixels are background: the picture is laid on white when
    its visible pixels are dark and on black when they are light, so the ink keeps its contrast.
    """
    array = np.asarray(image)
    if array.ndim == 2:
        return _unit(array)
    if array.ndim != 3 or array.shape[2] not in (1, 2, 3, 4):
        raise ValueError(f"expected a 2-D picture or (H, W, 1|2|3|4) channels, got shape {array.shape}")
    channels = _unit(array)
    colour = channels[..., : 1 if channels.shape[2] <= 2 else 3]
    if colour.shape[2] == 3:
        value = colour @ np.array([0.299, 0.587, 0.114])  # ITU-R 601 luma, as Pillow's "L"
    else:
        value = colour[..., 0]
    if channels.shape[2] in (2, 4):
        alpha = channels[..., -1]
        weight = alpha.sum()
        if weight == 0:
            return np.zeros(value.shape)
        visible_mean = float((alpha * value).sum() / weight)
        background = 1.0 if visible_mean < 0.5 else 0.0
        value = alpha * value + (1.0 - alpha) * background
    return value


def ink(image: np.ndarray) -> np.ndarray:
    """White ink on black, background at 0, as float64 in [0, 1].

    The border pixels decide: a light border means dark ink on a light background, which is
    inverted. The border's median level is then taken as the background and subtracted, so grey
    paper in a photo becomes black, and the strongest ink is stretched to 1.
    """
    value = grey(image)
    if value.size == 0:
        return value
    border = np.concatenate([value[0], value[-1], value[:, 0], value[:, -1]])
    if np.median(border) > 0.5:
        value = 1.0 - value
        border = 1.0 - border
    background = float(np.median(border))
    if background >= 0.95:  # nothing but background (or nothing but ink): no digit to find
        return np.zeros_like(value)
    value = np.clip((value - background) / (1.0 - background), 0.0, 1.0)
    top = value.max()
    if top <= INK_THRESHOLD:  # no stroke stands out from the background
        return np.zeros_like(value)
    value = value / top  # the darkest pencil line becomes full ink, as in MNIST
    value[value < NOISE_FLOOR] = 0.0
    return value


def _crop(value: np.ndarray) -> np.ndarray | None:
    """The ink's bounding box, or None when there is no ink."""
    rows = np.flatnonzero((value > INK_THRESHOLD).any(axis=1))
    cols = np.flatnonzero((value > INK_THRESHOLD).any(axis=0))
    if rows.size == 0:
        return None
    return value[rows[0]: rows[-1] + 1, cols[0]: cols[-1] + 1]


def _fit(value: np.ndarray, side: int) -> np.ndarray:
    """`value` resized so its longer side is `side`, aspect ratio kept, anti-aliased."""
    h, w = value.shape
    scale = side / max(h, w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    picture = Image.fromarray(value.astype(np.float32))  # mode "F": no 8-bit rounding
    # BOX is the area average (the anti-aliased choice when shrinking); BILINEAR when enlarging.
    method = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
    resized = np.asarray(picture.resize((new_w, new_h), method), dtype=np.float64)
    return np.clip(resized, 0.0, 1.0)


def _centre_of_mass(value: np.ndarray) -> tuple[float, float]:
    total = value.sum()
    rows, cols = np.indices(value.shape)
    return float((rows * value).sum() / total), float((cols * value).sum() / total)


# ---------------------------------------------------------------------------------------------
# The two targets
# ---------------------------------------------------------------------------------------------

def to_mnist(image: np.ndarray) -> np.ndarray:
    """A drawing or picture as an MNIST digit: float32 (28, 28) in [0, 1], white ink on black.

    The ink's bounding box is scaled so its longer side is 20 px and pasted into 28x28 so that its
    centre of mass lands on (14, 14) (row, column indices), shifted by the rounded offset. When
    that shift would push ink off the field (a very lopsided shape) it is limited so that all the
    ink stays inside. No ink at all gives all zeros.
    """
    out = np.zeros((28, 28), dtype=np.float32)
    digit = _crop(ink(image))
    if digit is None:
        return out
    digit = _fit(digit, 20)
    if digit.sum() == 0:
        return out
    h, w = digit.shape
    cy, cx = _centre_of_mass(digit)
    top = min(max(int(np.round(14 - cy)), 0), 28 - h)
    left = min(max(int(np.round(14 - cx)), 0), 28 - w)
    out[top: top + h, left: left + w] = digit
    return out


def to_digits8(image: np.ndarray) -> np.ndarray:
    """A drawing or picture as one of scikit-learn's 8x8 digits: float32 (8, 8) in [0, 1].

    The digit is scaled to fill a 32x32 box (longer side 32, aspect kept), centred in it, and each
    4x4 block becomes its ink fraction (scikit-learn's value / 16). No ink gives all zeros.
    """
    box = np.zeros((32, 32), dtype=np.float64)
    digit = _crop(ink(image))
    if digit is not None:
        digit = _fit(digit, 32)
        h, w = digit.shape
        top, left = (32 - h) // 2, (32 - w) // 2
        box[top: top + h, left: left + w] = digit
    return box.reshape(8, 4, 8, 4).mean(axis=(1, 3)).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# Uploaded pictures
# ---------------------------------------------------------------------------------------------

def _open(data: bytes) -> ImageFile.ImageFile:
    """Open (header only) with the allowed decoders; refuse too many pixels before any decoding."""
    try:
        picture = Image.open(io.BytesIO(data), formats=FORMATS)
    except Image.DecompressionBombError as err:  # Pillow's own limit, far above ours, checked in open()
        raise PictureError("too_many_pixels", f"{err}; the limit here is {MAX_PIXELS:,} pixels",
                           limit=MAX_PIXELS) from None
    except Exception:
        raise PictureError("not_image", f"this is not a {', '.join(FORMATS)} picture",
                           formats=", ".join(FORMATS)) from None
    width, height = picture.size
    if width * height > MAX_PIXELS:
        picture.close()
        raise PictureError("too_many_pixels", f"the picture is {width:,} x {height:,} pixels; the limit is "
                           f"{MAX_PIXELS:,} pixels", limit=MAX_PIXELS)
    if width == 0 or height == 0:
        raise PictureError("not_image", "the picture has no pixels", formats=", ".join(FORMATS))
    return picture


def read_picture(data: bytes, max_bytes: int = MAX_BYTES) -> np.ndarray:
    """Decode an uploaded picture into a 2-D greyscale float32 array in [0, 1].

    Checks, in order: the byte size; that Pillow recognises it as PNG, JPEG, GIF, BMP or WebP (no
    other decoder is tried); its pixel count, read from the header before anything is decoded;
    Pillow's `verify()` of the file's structure; then a fresh decode. A transparent background is
    treated as background (see `grey`). JPEG orientation tags are applied, the first frame of an
    animation is used, and pictures larger than WORK_SIDE px are shrunk to it (the digit targets
    are 28 or 32 px). Problems raise PictureError with code "too_big", "not_image" or
    "too_many_pixels".
    """
    if len(data) > max_bytes:
        raise PictureError("too_big", f"the file has {len(data):,} bytes; the limit is {max_bytes:,}",
                           size=len(data), limit=max_bytes)
    if not data:
        raise PictureError("not_image", "the file is empty", formats=", ".join(FORMATS))
    with _open(data) as picture:
        try:
            picture.verify()
        except Exception:
            raise PictureError("not_image", "the picture file is damaged", formats=", ".join(FORMATS)) from None
    with _open(data) as picture:  # verify() leaves the image unusable: open it again
        try:
            picture.seek(0)
            if picture.format == "JPEG":
                picture.draft("L", (WORK_SIDE, WORK_SIDE))  # libjpeg decodes grey, at a reduced scale
            picture.load()
            picture = ImageOps.exif_transpose(picture) or picture
            if picture.mode in ("I", "F") or picture.mode.startswith("I;"):  # 16-bit or float greyscale
                picture = picture.convert("F")
                picture.thumbnail((WORK_SIDE, WORK_SIDE), Image.Resampling.BOX)
                array = np.asarray(picture, dtype=np.float64)
                top = array.max(initial=0.0)
                array = array / (65535.0 if top > 255 else 255.0)
            else:
                has_alpha = picture.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in picture.info
                picture = picture.convert("RGBA" if has_alpha else "L")
                picture.thumbnail((WORK_SIDE, WORK_SIDE), Image.Resampling.BOX)
                array = np.asarray(picture)
        except PictureError:
            raise
        except Exception:
            raise PictureError("not_image", "the picture could not be decoded", formats=", ".join(FORMATS)) from None
    return grey(array).astype(np.float32)
