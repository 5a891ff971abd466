"""The digits in an exported script, written once for every page that exports a digits training:
`load_data()` (scikit-learn's 8x8 digits as 0..255 pixels, with the app's stratified test split,
nnkit.datasets.images.digits) and `validation_split()` (a stratified, seeded share of each class of
the training images, nnkit.datasets.images.validation_split), both drawing what nnkit draws."""

from __future__ import annotations

from nnkit.datasets.images import DIGITS_SEED, DIGITS_TEST_FRACTION
from nnkit.experiments.base import comments

COMMENTS = {
    "en": {"digits": "scikit-learn's real 8x8 handwritten digits as 0..255 pixels, with the app's stratified "
                     "80/20 split: the test images stay aside.",
           "split": "Hold out a share of each class of the training images for validation (drawn by the seed)."},
    "zh": {"digits": "scikit-learn 自带的真实 8x8 手写数字,像素为 0..255,按类别分层的 80/20 划分与应用相同:"
                     "测试图像留在一边。",
           "split": "从训练图像的每个类别中留出一部分作为验证集(由随机种子抽取)。"},
}

LOAD_DATA = '''def load_data():
    """{c[digits]}"""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = np.floor(bunch.images * (255.0 / 16.0) + 0.5).clip(0, 255).astype(np.uint8)
    labels = bunch.target.astype(np.int64)
    rng = np.random.default_rng({seed})
    test = np.zeros(len(labels), dtype=bool)
    for digit in range(10):
        members = np.flatnonzero(labels == digit)
        test[rng.permutation(members)[:int(round(len(members) * {fraction}))]] = True
    return ((torch.from_numpy(images[~test].copy()), torch.from_numpy(labels[~test].copy())),
            (torch.from_numpy(images[test].copy()), torch.from_numpy(labels[test].copy())))
'''

VALIDATION_SPLIT = '''def validation_split(labels, fraction, seed):
    """{c[split]}"""
    generator = torch.Generator().manual_seed(seed)
    held_out = torch.zeros(len(labels), dtype=torch.bool)
    for label in range(int(labels.max()) + 1):
        members = torch.nonzero(labels == label).flatten()
        picked = torch.randperm(len(members), generator=generator)[:round(len(members) * fraction)]
        held_out[members[picked]] = True
    return torch.nonzero(~held_out).flatten(), torch.nonzero(held_out).flatten()
'''


def load_data(lang: str = "en") -> str:
    """The script's `load_data()` for the digits (the script imports numpy as np and torch)."""
    return LOAD_DATA.format(c=comments(COMMENTS, lang), seed=DIGITS_SEED, fraction=DIGITS_TEST_FRACTION)


def validation_split(lang: str = "en") -> str:
    """The script's `validation_split(labels, fraction, seed)` (the script imports torch)."""
    return VALIDATION_SPLIT.format(c=comments(COMMENTS, lang))
