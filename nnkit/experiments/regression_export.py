"""The Regression experiment as self-contained PyTorch scripts, one per task.

Each script repeats nnkit.regression's steps in the same order (same generators, same float64
arithmetic), so it prints the numbers the page shows; tests/test_export.py checks it. Its header
lists only the settings of its task, and its comments are in the page's language (`COMMENTS`);
what it prints stays in English, whatever the language.
"""

from __future__ import annotations

from nnkit.experiments.base import comments

COMMENTS = {
    "en": {
        "settings": "NN Playground - Regression ({task}), exported with these settings:",
        "needs": "Needs torch only; matplotlib (optional) saves a picture to {png}.",
        "dtype": "float64: the hand-written loop and nn.Linear then agree to ~1e-12",
        "line_data": "1. Data: x uniform in [-2, 2], y = w x + b + noise",
        "init": "2. Initial weights: {init}",
        "course_init": "as the course does: w random, b zero",
        "by_hand": "3. By hand: tensors that require grad, backward(), then an update under no_grad",
        "no_graph": "the update must not become part of the graph",
        "zero_why": "otherwise the next backward() adds to these gradients",
        "forgotten": "forgotten on purpose: gradients pile up across steps",
        "nn_linear": "4. The same with nn.Linear, MSELoss and SGD",
        "closed_form": "5. The closed-form answer, for comparison",
        "spread": "feature j has scale SPREAD ** (j / (n - 1)): from 1 to SPREAD",
        "features_data": "Data: y = x . weights + bias + noise, the features on different scales",
        "constant": "a constant column stays as it is",
        "units": "back to the units of the original features",
        "curve_data": "in [-1, 1], so x**15 stays small",
        "split": "70% of the points train, 30% validate",
        "powers": "x, x^2, ..., x^degree: polynomial regression is linear regression on these features.",
        "closed_form_only": "least squares in closed form: no learning rate, no iterations",
    },
    "zh": {
        "settings": "NN Playground - 回归({task}),导出时的设置:",
        "needs": "只需要 torch;装了 matplotlib(可选)时会把图保存到 {png}。",
        "dtype": "float64:这样手写循环与 nn.Linear 的结果一致到约 1e-12",
        "line_data": "1. 数据:x 在 [-2, 2] 上均匀分布,y = w x + b + 噪声",
        "init": "2. 初始权重:{init}",
        "course_init": "与课程相同:w 随机,b 为 0",
        "by_hand": "3. 手写:需要梯度的张量、backward(),然后在 no_grad 下更新",
        "no_graph": "更新本身不能成为计算图的一部分",
        "zero_why": "否则下一次 backward() 会把新梯度加到这些梯度上",
        "forgotten": "故意省略:梯度会在各步之间不断累加",
        "nn_linear": "4. 用 nn.Linear、MSELoss 和 SGD 做同样的事",
        "closed_form": "5. 解析解,用于对比",
        "spread": "第 j 个特征的尺度为 SPREAD ** (j / (n - 1)):从 1 到 SPREAD",
        "features_data": "数据:y = x · weights + bias + 噪声,各特征的尺度不同",
        "constant": "常数列保持不变",
        "units": "换算回原始特征的单位",
        "curve_data": "在 [-1, 1] 内,所以 x**15 不会太大",
        "split": "70% 的点用于训练,30% 用于验证",
        "powers": "x, x^2, ..., x^degree:多项式回归就是在这些特征上做线性回归。",
        "closed_form_only": "最小二乘解析解:没有学习率,也没有迭代次数",
    },
}

_HEAD = '''"""{c[settings]}
{settings}
{c[needs]}
"""
import torch
from torch import nn

SEED = {seed}
N_POINTS = {n_points}
NOISE = {noise!r}
dtype = torch.float64  # {c[dtype]}
'''

_GRADIENT = '''LR = {lr!r}
ITERATIONS = {iterations}
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

# {c[line_data]}
g = torch.Generator().manual_seed(SEED)
x = (torch.rand(N_POINTS, 1, generator=g, dtype=dtype) * 2 - 1) * 2.0
y = TRUE_W * x + TRUE_B + NOISE * torch.randn(N_POINTS, 1, generator=g, dtype=dtype)

# {c[init]}
{init_code}

# {c[by_hand]}
w = torch.tensor([w0], dtype=dtype, requires_grad=True)
b = torch.tensor([b0], dtype=dtype, requires_grad=True)
for step in range(ITERATIONS):
    loss = ((x * w + b - y) ** 2).mean()
    if not torch.isfinite(loss):
        print(f"by hand: diverged at step {{step}}: lower the learning rate")
        break
    loss.backward()
    with torch.no_grad():  # {c[no_graph]}
        w -= LR * w.grad
        b -= LR * b.grad
{zero_hand}
else:
    print(f"by hand: w = {{w.item():.6f}}, b = {{b.item():.6f}}, loss = {{loss.item():.6f}}")

# {c[nn_linear]}
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

# {c[closed_form]}
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
SPREAD = {spread!r}  # {c[spread]}

# {c[features_data]}
g = torch.Generator().manual_seed(SEED)
n = len(TRUE_WEIGHTS)
scales = torch.tensor([SPREAD ** (j / max(n - 1, 1)) for j in range(n)], dtype=dtype)
x = torch.randn(N_POINTS, n, generator=g, dtype=dtype) * scales
y = x @ torch.tensor(TRUE_WEIGHTS, dtype=dtype)[:, None] + TRUE_B + NOISE * torch.randn(N_POINTS, 1, generator=g, dtype=dtype)


def train(standardize):
    mean, std = x.mean(dim=0), x.std(dim=0)
    std = torch.where(std > 0, std, torch.ones_like(std))  # {c[constant]}
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
    if standardize:  # {c[units]}
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
x = torch.rand(N_POINTS, 1, generator=g, dtype=dtype) * 2 - 1  # {c[curve_data]}
y = truth(x) + NOISE * torch.randn(N_POINTS, 1, generator=g, dtype=dtype)
n_val = max(1, int(round(N_POINTS * 0.3)))  # {c[split]}
order = torch.randperm(N_POINTS, generator=g)
val, train = order[:n_val], order[n_val:]


def powers(x, degree):
    """{c[powers]}"""
    return torch.cat([x**k for k in range(1, degree + 1)], dim=1)


def least_squares(features, target):
    """{c[closed_form_only]}"""
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
    "randn_w": "w0 = torch.randn(1, generator=torch.Generator().manual_seed(SEED + 1), dtype=dtype).item()\n"
               "b0 = 0.0  # {course_init}",
    "constant": "w0 = b0 = {init_value!r}",
}
_TRUTH = {"sine": "torch.sin(torch.pi * x)", "cubic": "2 * x**3 - x"}


def export_code(p, lang: str = "en") -> str:
    from nnkit.experiments.regression import applies  # here: that module imports this one

    png = f"regression_{p.task}.png"
    c = {k: v.format(task=p.task, png=png, init=p.init) for k, v in comments(COMMENTS, lang).items()}
    settings = "\n".join(f"    {name} = {getattr(p, name)!r}" for name in applies(p))
    head = _HEAD.format(c=c, settings=settings, seed=p.seed, n_points=p.n_points, noise=p.noise)
    if p.task != "polynomial":
        head += _GRADIENT.format(lr=p.lr, iterations=p.iterations)
    if p.task == "linear":
        forgotten = f"  # {c['forgotten']}"
        body = _LINEAR.format(
            c=c, true_w=p.true_w, true_b=p.true_b,
            init_code=_INIT[p.init].format(init_value=p.init_value, course_init=c["course_init"]),
            zero_hand=(f"    w.grad.zero_()  # {c['zero_why']}\n    b.grad.zero_()" if p.zero_grad
                       else "    # w.grad.zero_()\n    # b.grad.zero_()" + forgotten),
            zero_opt="    optimizer.zero_grad()" if p.zero_grad else "    # optimizer.zero_grad()" + forgotten)
    elif p.task == "multiple":
        body = _MULTIPLE.format(c=c, true_weights=list(p.true_weights), true_b=p.true_b, spread=p.spread)
    else:
        body = _POLYNOMIAL.format(c=c, degree=p.degree, truth_code=_TRUTH[p.truth])
    return head + "\n" + body
