"""Data augmentation: shapes and dtypes kept, seeded, zero strength is the identity, and shifts and
turns move the picture the way they say."""

from __future__ import annotations

import pytest
import torch

from nnkit.augment import affine, augment, preview


def _blob(size: int = 28, dtype=torch.uint8) -> torch.Tensor:
    """A round blob in the middle of a size x size image, values 0..255."""
    r = torch.arange(size, dtype=torch.float32) - (size - 1) / 2
    picture = 255 * torch.exp(-(r[:, None] ** 2 + r[None, :] ** 2) / 8)
    return picture.round().to(dtype) if dtype == torch.uint8 else (picture / 255).to(dtype)


def _centre_of_mass(images: torch.Tensor) -> torch.Tensor:
    """(N, 2) (x, y) centres of mass of (N, H, W) images."""
    w = images.double()
    h_idx, w_idx = torch.arange(w.shape[-2], dtype=torch.float64), torch.arange(w.shape[-1], dtype=torch.float64)
    total = w.sum(dim=(-2, -1))
    return torch.stack([(w.sum(dim=-2) * w_idx).sum(-1) / total, (w.sum(dim=-1) * h_idx).sum(-1) / total], dim=-1)


def _batch(dtype=torch.uint8, n: int = 6) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    noise = torch.rand(n, 28, 28, generator=g)
    base = _blob(dtype=torch.float32)
    images = (base + 0.2 * noise).clamp(0, 1)
    return (images * 255).round().to(torch.uint8) if dtype == torch.uint8 else images.to(dtype)


@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
@pytest.mark.parametrize("channels", [False, True])
def test_shape_and_dtype_are_kept_and_the_same_seed_gives_the_same_batch(dtype, channels):
    images = _batch(dtype)
    if channels:
        images = images[:, None].expand(-1, 3, -1, -1).contiguous()
    strength = {"degrees": 15, "shift": 3, "scale": 0.1}
    first = augment(images, 5, **strength)
    assert first.shape == images.shape and first.dtype == dtype
    assert torch.equal(first, augment(images, 5, **strength))
    assert not torch.equal(first, augment(images, 6, **strength))
    assert not torch.equal(first, images)
    # each image gets its own transform: two copies of one image come out different
    twins = augment(images[:1].repeat(2, *[1] * (images.ndim - 1)), 5, **strength)
    assert not torch.equal(twins[0], twins[1])


@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_zero_strength_is_the_identity(dtype):
    images = _batch(dtype)
    assert torch.equal(augment(images, 3), images)
    assert torch.equal(augment(images, 3, degrees=0, shift=0, scale=0.0, interpolation="nearest"), images)


@pytest.mark.parametrize("k", [1, 3, 5])
def test_a_shift_by_k_pixels_moves_the_centre_of_mass_by_k(k):
    images = _blob()[None].repeat(3, 1, 1)
    shifts = torch.tensor([[k, 0], [0, k], [-k, -k]])
    moved = affine(images, torch.zeros(3), shifts, torch.ones(3))
    got = _centre_of_mass(moved) - _centre_of_mass(images)
    assert torch.allclose(got, shifts.double(), atol=0.02), got  # the blob stays inside the image


def test_random_shifts_are_whole_pixels_within_the_limit():
    images = _blob()[None].repeat(40, 1, 1)
    moved = _centre_of_mass(augment(images, 0, shift=2)) - _centre_of_mass(images)
    assert moved.abs().max() <= 2.02
    assert torch.allclose(moved, moved.round(), atol=0.02)
    assert set(moved.round().flatten().tolist()) == {-2.0, -1.0, 0.0, 1.0, 2.0}  # all five drawn


def test_a_rotation_turns_clockwise_and_a_scale_grows_the_picture():
    bar = torch.zeros(1, 9, 9)
    bar[0, 4, 4:] = 1  # from the centre to the right edge
    turned = affine(bar, torch.tensor([90.0]), torch.zeros(1, 2), torch.ones(1), "nearest")
    assert turned[0, 4:, 4].tolist() == [1.0] * 5 and turned[0].sum() == 5  # now points down
    blob = _blob(dtype=torch.float32)[None]
    bigger = affine(blob, torch.zeros(1), torch.zeros(1, 2), torch.tensor([1.5]))
    spread = lambda im: (im[0] > 0.5).sum().item()  # area above half height grows by 1.5^2
    assert spread(bigger) / spread(blob) == pytest.approx(2.25, rel=0.15)


def test_preview_gives_several_versions_of_each_image():
    images = _batch(n=2)
    versions = preview(images, 4, seed=1, degrees=10, shift=2)
    assert versions.shape == (2, 4, 28, 28) and versions.dtype == torch.uint8
    assert len({tuple(v.flatten().tolist()) for v in versions[0]}) == 4
    assert torch.equal(versions, preview(images, 4, seed=1, degrees=10, shift=2))


def test_bad_strengths_and_shapes_are_refused():
    with pytest.raises(ValueError, match="scale < 1"):
        augment(_batch(), 0, scale=1.0)
    with pytest.raises(ValueError, match="shift >= 0"):
        augment(_batch(), 0, shift=-1)
    with pytest.raises(ValueError, match=r"got shape \(28, 28\)"):
        augment(_blob(), 0)
