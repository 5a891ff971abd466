"""Data augmentation for image tensors: small random shifts, rotations and scalings, seeded.

- `affine(images, angles, shifts, scales)`: each image turned by its angle (degrees, clockwise on screen),
  moved by its (dx, dy) pixels (right, down) and scaled about its centre, by torchvision's
  `transforms.v2.functional.affine` (pixels moved off the edge are lost, new ones are 0).
- `augment(images, seed, degrees=0, shift=0, scale=0)`: each image gets its own random angle in
  [-degrees, degrees], whole-pixel shift in [-shift, shift] along each axis and scale in
  [1-scale, 1+scale], drawn from a generator seeded with `seed`: the same seed, the same batch.
- `preview(images, n_versions, seed, ...)`: n_versions augmented copies of each image, to show.

Images are a batch of tensors, (N, H, W) or (N, C, H, W), uint8 or float; the result has the same
shape and dtype. Each image needs its own parameters, and a v2 transform given a batch draws one set
for all of it, so the images go through the functional form one at a time (about 0.4 ms per 28x28
image on this CPU: 0.7 s for the 1,797 digits, ~24 s for MNIST's 60,000 per epoch). The random
numbers come from our own torch.Generator, never torch's global one, so a page cannot disturb them.
torchvision (0.29; `torchvision.transforms.v2` is its stable API since 0.16) is imported inside the
functions: importing it costs time a page that never augments should not pay.
"""

from __future__ import annotations

import torch


def affine(images: torch.Tensor, angles: torch.Tensor, shifts: torch.Tensor, scales: torch.Tensor,
           interpolation: str = "bilinear") -> torch.Tensor:
    """images (N, [C,] H, W); angles (N,) degrees; shifts (N, 2) pixels (dx, dy); scales (N,)."""
    from torchvision.transforms.v2 import InterpolationMode
    from torchvision.transforms.v2 import functional as F

    if images.ndim not in (3, 4):
        raise ValueError(f"need images (N, H, W) or (N, C, H, W), got shape {tuple(images.shape)}")
    mode = InterpolationMode(interpolation)
    channels = images if images.ndim == 4 else images[:, None]  # torchvision wants (C, H, W)
    out = torch.empty_like(channels)
    for i, image in enumerate(channels):
        if float(angles[i]) == 0 and not shifts[i].any() and float(scales[i]) == 1:
            out[i] = image  # bilinear resampling in place still rounds float pixels (by up to 2.4e-6)
            continue
        out[i] = F.affine(image, angle=float(angles[i]), translate=[float(v) for v in shifts[i]],
                          scale=float(scales[i]), shear=[0.0, 0.0], interpolation=mode, fill=0)
    return out if images.ndim == 4 else out[:, 0]


def augment(images: torch.Tensor, seed: int, degrees: float = 0.0, shift: int = 0, scale: float = 0.0,
            interpolation: str = "bilinear") -> torch.Tensor:
    """A randomly shifted, turned and scaled copy of each image (see the module docstring)."""
    if degrees < 0 or shift < 0 or not 0 <= scale < 1:
        raise ValueError(f"need degrees >= 0, shift >= 0 and 0 <= scale < 1, got {degrees}, {shift}, {scale}")
    n = len(images)
    g = torch.Generator().manual_seed(seed)
    angles = (torch.rand(n, generator=g, dtype=torch.float64) * 2 - 1) * degrees
    # whole pixels, as torchvision's RandomAffine rounds them: a shifted digit stays sharp
    shifts = torch.randint(-shift, shift + 1, (n, 2), generator=g)
    scales = 1 + (torch.rand(n, generator=g, dtype=torch.float64) * 2 - 1) * scale
    return affine(images, angles, shifts, scales, interpolation)


def preview(images: torch.Tensor, n_versions: int, seed: int, **strength) -> torch.Tensor:
    """(N, n_versions, ...) augmented versions of each of the N images; `strength` as in augment."""
    copies = images.repeat_interleave(n_versions, dim=0)
    return augment(copies, seed, **strength).reshape(len(images), n_versions, *images.shape[1:])
