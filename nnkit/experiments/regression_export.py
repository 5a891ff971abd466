"""The Regression experiment as self-contained PyTorch scripts, one per task.

Each script repeats nnkit.regression's steps in the same order (same generators, same float64
arithmetic), so it prints the numbers the page shows; tests/test_export_regression.py checks it.
"""

from __future__ import annotations

from dataclasses import asdict

_HEAD = '''"""NN Playground - Regression ({task}), exported with these settings:
{settings}
Needs torch only; matplotlib (optional) saves a picture to {png}.
"""
import torch
from torch import nn

SEED = {seed}
N_POINTS = {n_points}
NOISE = {noise!r}
LR = {lr!r}
ITERATIONS = {iterations}
dtype = torch.float64  # float64: the hand-written loop and nn.Linear then agree to ~1e-12
'''

_PLOT = '''
try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    plt = None
'''

_LINEAR = '''TRUE_W, TRUE_B = {true_w!r}, {true_b!r}

# 1. Data: x uniform in [-2, 2], y = w x + b + noise
g = torch.Generator().manual_seed(SEED)
x = (torch.rand(N_POINTS, 1, generator=g, dtype=dtype) * 2 - 1) * 2.0
y = TRUE_W * x + TRUE_B + NOISE * torch.randn(N_POINTS, 1, generator=g, dtype=dtype)

# 2. Initial weights: {init}
{init_code}

# 3. By hand: tensors that require grad, backward(), an update under no_grad, gradients zeroed
w = torch.tensor([w0], dtype=dtype, requires_grad=True)
b = torch.tensor([b0], dtype=dtype, requires_grad=True)
for step in range(ITERATIONS):
    loss = ((x * w + b - y) ** 2).mean()
    if not torch.isfinite(loss):
        print(f"by hand: diverged at step {{step}}: lower the learning rate")
        break
    loss.backward()
    with torch.no_grad():  # the update must not become part of the graph
        w -= LR * w.grad
        b -= LR * b.grad
{zero_hand}
else:
    print(f"by hand: w = {{w.item():.6f}}, b = {{b.item():.6f}}, loss = {{loss.item():.6f}}")

# 4. The same with nn.Linear, MSELoss and SGD
model = nn.Linear(1, 1, dtype=dtype)
with torch.no_grad():
    model.weight.fill_(w0)
    model.bias.fill_(b0)
optimizer = torch.optim.SGD(model.parameters(), lr=LR)
loss_fn = nn.MSELoss()
for step in range(ITERATIONS):
{zero_opt}
    loss = loss_fn(model(x), y)
    if not torch.isfinite(loss):
        print(f"nn.Linear: diverged at step {{step}}: lower the learning rate")
        break
    loss.backward()
    optimizer.step()
else:
    print(f"nn.Linear: w = {{model.weight.item():.6f}}, b = {{model.bias.item():.6f}}, loss = {{loss.item():.6f}}")

# 5. The closed-form answer, for comparison
design = torch.cat([x, torch.ones(N_POINTS, 1, dtype=dtype)], dim=1)
best = torch.linalg.lstsq(design, y).solution.flatten()
print(f"least squares: w = {{best[0].item():.6f}}, b = {{best[1].item():.6f}}")
''' + _PLOT + '''if plt is not None:
    plt.scatter(x.flatten(), y.flatten(), s=8, label="data")
    line = torch.linspace(-2, 2, 2, dtype=dtype)
    plt.plot(line, model.weight.item() * line + model.bias.item(), color="red", label="nn.Linear")
    plt.legend()
    plt.savefig("regression_linear.png")
    print("saved regression_linear.png")
'''

_MULTIPLE = '''TRUE_WEIGHTS = {true_weights!r}
TRUE_B = {true_b!r}
SPREAD = {spread!r}  # feature j has scale SPREAD ** (j / (n - 1)): from 1 to SPREAD

g = torch.Generator().manual_seed(SEED)
n = len(TRUE_WEIGHTS)
scales = torch.tensor([SPREAD ** (j / max(n - 1, 1)) for j in range(n)], dtype=dtype)
x = torch.randn(N_POINTS, n, generator=g, dtype=dtype) * scales
y = x @ torch.tensor(TRUE_WEIGHTS, dtype=dtype)[:, None] + TRUE_B + NOISE * torch.randn(N_POINTS, 1, generator=g, dtype=dtype)


def train(standardize):
    mean, std = x.mean(dim=0), x.std(dim=0)
    std = torch.where(std > 0, std, torch.ones_like(std))  # a constant column stays as it is
    inputs = (x - mean) / std if standardize else x
    model = nn.Linear(n, 1, dtype=dtype)
    nn.init.zeros_(model.weight), nn.init.zeros_(model.bias)
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    loss_fn = nn.MSELoss()
    for step in range(ITERATIONS):
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), y)
        if not torch.isfinite(loss):
            return f"diverged at step {{step}}: lower the learning rate"
        loss.backward()
        optimizer.step()
    w, b = model.weight.detach().flatten(), model.bias.item()
    if standardize:  # back to the units of the original features
        w = w / std
        b = b - float((w * mean).sum())
    return "weights = " + ", ".join(f"{{v:.6f}}" for v in w.tolist()) + f"; bias = {{b:.6f}}; loss = {{loss.item():.6f}}"


print("raw:", train(standardize=False))
print("standardized:", train(standardize=True))
design = torch.cat([x, torch.ones(N_POINTS, 1, dtype=dtype)], dim=1)
best = torch.linalg.lstsq(design, y).solution.flatten()
print("least squares: weights = " + ", ".join(f"{{v:.6f}}" for v in best[:-1].tolist()))
'''

_POLYNOMIAL = '''DEGREE = {degree}


def truth(x):
    return {truth_code}


g = torch.Generator().manual_seed(SEED)
x = torch.rand(N_POINTS, 1, generator=g, dtype=dtype) * 2 - 1  # in [-1, 1], so x**15 stays small
y = truth(x) + NOISE * torch.randn(N_POINTS, 1, generator=g, dtype=dtype)
n_val = max(1, int(round(N_POINTS * 0.3)))
order = torch.randperm(N_POINTS, generator=g)
val, train = order[:n_val], order[n_val:]


def powers(x, degree):
    """x, x^2, ..., x^degree: polynomial regression is linear regression on these features."""
    return torch.cat([x**k for k in range(1, degree + 1)], dim=1)


def least_squares(features, target):
    design = torch.cat([features, torch.ones(len(features), 1, dtype=dtype)], dim=1)
    return torch.linalg.lstsq(design, target).solution.flatten()


def mse(features, target, coef):
    return ((features @ coef[:-1, None] + coef[-1] - target) ** 2).mean().item()


for degree in range(1, 16):
    coef = least_squares(powers(x[train], degree), y[train])
    print(f"degree {{degree:2d}}: train MSE = {{mse(powers(x[train], degree), y[train], coef):.6f}}, "
          f"validation MSE = {{mse(powers(x[val], degree), y[val], coef):.6f}}")
coef = least_squares(powers(x[train], DEGREE), y[train])
print("coefficients (x^1 ... x^k, then the bias):", ", ".join(f"{{v:.6f}}" for v in coef.tolist()))
''' + _PLOT + '''if plt is not None:
    grid = torch.linspace(-1, 1, 200, dtype=dtype)[:, None]
    plt.scatter(x[train].flatten(), y[train].flatten(), s=8, label="train")
    plt.scatter(x[val].flatten(), y[val].flatten(), s=8, label="validation")
    plt.plot(grid.flatten(), (powers(grid, DEGREE) @ coef[:-1, None] + coef[-1]).flatten(), color="red")
    plt.legend()
    plt.savefig("regression_polynomial.png")
    print("saved regression_polynomial.png")
'''

_INIT = {
    "zeros": "w0, b0 = 0.0, 0.0",
    "randn": "w0, b0 = torch.randn(2, generator=torch.Generator().manual_seed(SEED + 1), dtype=dtype).tolist()",
    "constant": "w0 = b0 = {init_value!r}",
}
_TRUTH = {"sine": "torch.sin(torch.pi * x)", "cubic": "2 * x**3 - x"}


def export_code(p, lang: str = "en") -> str:
    settings = "\n".join(f"    {k} = {v!r}" for k, v in asdict(p).items())
    head = _HEAD.format(task=p.task, settings=settings, png=f"regression_{p.task}.png", seed=p.seed,
                        n_points=p.n_points, noise=p.noise, lr=p.lr, iterations=p.iterations)
    if p.task == "linear":
        forgotten = "  # forgotten on purpose: gradients pile up across steps"
        body = _LINEAR.format(
            true_w=p.true_w, true_b=p.true_b, init=p.init, init_code=_INIT[p.init].format(init_value=p.init_value),
            zero_hand=("    w.grad.zero_()\n    b.grad.zero_()" if p.zero_grad
                       else "    # w.grad.zero_()\n    # b.grad.zero_()" + forgotten),
            zero_opt="    optimizer.zero_grad()" if p.zero_grad else "    # optimizer.zero_grad()" + forgotten)
    elif p.task == "multiple":
        body = _MULTIPLE.format(true_weights=list(p.true_weights), true_b=p.true_b, spread=p.spread)
    else:
        body = _POLYNOMIAL.format(degree=p.degree, truth_code=_TRUTH[p.truth])
    return head + "\n" + body
