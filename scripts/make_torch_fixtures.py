"""Write the PyTorch reference fixtures that tests/test_torch_reference.py compares against.

Needs PyTorch (pip install torch==2.13.0). Everything is float64 on the CPU.
Initial weights, data and batch order come from bnviz (so both sides start
alike); every number the tests compare against is computed by PyTorch alone:
BatchNorm1d / F.batch_norm, F.layer_norm, autograd and torch.optim.

    python scripts/make_torch_fixtures.py              # every fixture
    python scripts/make_torch_fixtures.py layernorm    # only the ones named
    python scripts/make_torch_fixtures.py sgd_layer_before adam_layer_after   # single network cases

"softmax": whole trainings on the handwritten digits (64 inputs, ten classes) with BN layers and
torch.nn.CrossEntropyLoss, written to tests/fixtures/torch_softmax_*.npz.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bnviz import Config, load_for  # noqa: E402
from bnviz.train import architecture, batch_bounds, epoch_orders, initial_params, network_inputs  # noqa: E402

OUT = ROOT / "tests" / "fixtures"
torch.set_default_dtype(torch.float64)

# Whole-network cases: name -> Config. Batch 16 on 320 rows, 5 epochs = 100 steps.
NETWORK_CASES = {
    "sgd_before_biased": Config(optimizer="sgd", lr=0.1, batch_size=16, epochs=5),
    "adam_before_biased": Config(optimizer="adam", lr=0.01, batch_size=16, epochs=5),
    "sgd_after_unbiased": Config(optimizer="sgd", lr=0.2, batch_size=16, epochs=5, bn_position="after",
                                 running_var="unbiased", bn_momentum=0.9, eps=1e-5, activation="tanh"),
    "adam_before_cumulative": Config(optimizer="adam", lr=0.02, batch_size=16, epochs=5, running_avg="cumulative",
                                     running_var="unbiased", hidden=(4, 3, 2)),
    "sgd_nobn": Config(optimizer="sgd", lr=0.5, batch_size=16, epochs=5, bn=False, activation="sigmoid"),
    # layer norm on layers of eight units: narrower ones make training sensitive to rounding (see
    # tests/test_compiled.py), which would measure the two libraries' rounding, not their agreement
    "sgd_layer_before": Config(optimizer="sgd", lr=0.1, batch_size=16, epochs=5, norm="layer", hidden=(8, 8)),
    "adam_layer_after": Config(optimizer="adam", lr=0.01, batch_size=16, epochs=5, norm="layer", hidden=(8, 8),
                               bn_position="after", activation="tanh", eps=1e-5, keep_bias=True),
}

# Ten classes: the digits through three BN layers, torch.nn.CrossEntropyLoss. 1,438 training rows in
# batches of 60 (the last one of 58), 2 epochs = 48 steps.
SOFTMAX_CASES = {
    "sgd_before_sigmoid": Config(dataset="digits", hidden=(24, 24, 24), activation="sigmoid", batch_size=60,
                                 epochs=2, lr=0.5, optimizer="sgd"),
    "adam_after_relu_unbiased": Config(dataset="digits", hidden=(16, 16, 16), activation="relu", batch_size=60,
                                       epochs=2, lr=0.01, optimizer="adam", bn_position="after",
                                       running_var="unbiased", bn_momentum=0.9, eps=1e-5),
}


def batchnorm_fixture(rng):
    """BatchNorm1d on a few batches: outputs, gradients, running statistics both ways."""
    out = {}
    D, momentum, eps = 3, 0.1, 1e-3
    xs = [rng.normal(2.0, 3.0, size=(n, D)) for n in (8, 5, 8, 2)]
    gamma, beta = rng.normal(1.0, 0.5, D), rng.normal(0.0, 0.5, D)
    dys = [rng.normal(size=x.shape) for x in xs]
    bn = torch.nn.BatchNorm1d(D, eps=eps, momentum=momentum)
    with torch.no_grad():
        bn.weight.copy_(torch.tensor(gamma))
        bn.bias.copy_(torch.tensor(beta))
    biased_mean, biased_var = torch.zeros(D), torch.ones(D)
    for i, (x, dy) in enumerate(zip(xs, dys)):
        xt = torch.tensor(x, requires_grad=True)
        bn.zero_grad()
        y = bn(xt)
        y.backward(torch.tensor(dy))
        out[f"x{i}"], out[f"dy{i}"] = x, dy
        out[f"y{i}"], out[f"dx{i}"] = y.detach().numpy(), xt.grad.numpy()
        out[f"dgamma{i}"], out[f"dbeta{i}"] = bn.weight.grad.numpy().copy(), bn.bias.grad.numpy().copy()
        out[f"running_mean_unbiased{i}"] = bn.running_mean.numpy().copy()
        out[f"running_var_unbiased{i}"] = bn.running_var.numpy().copy()
        xd = torch.tensor(x)
        biased_mean = (1 - momentum) * biased_mean + momentum * xd.mean(0)
        biased_var = (1 - momentum) * biased_var + momentum * xd.var(0, unbiased=False)
        out[f"running_mean_biased{i}"], out[f"running_var_biased{i}"] = biased_mean.numpy(), biased_var.numpy()
    bn.eval()
    x_eval = rng.normal(2.0, 3.0, size=(4, D))
    out["x_eval"], out["y_eval"] = x_eval, bn(torch.tensor(x_eval)).detach().numpy()
    out["gamma"], out["beta"] = gamma, beta
    out["eps"], out["momentum"], out["n_batches"] = eps, momentum, len(xs)
    return out


def layernorm_fixture(rng):
    """F.layer_norm on a few shapes, both eps values, with random upstream gradients.

    Each case: x (..., N, D), gamma, beta (..., D); a leading axis holds independent
    models, each normalized by PyTorch with its own weight and bias.
    """
    cases = [((8, 5), 1.0, 1e-3), ((5, 3), 1.0, 1e-5), ((1, 4), 1.0, 1e-3), ((6, 4), 0.02, 1e-3),
             ((2, 6, 4), 1.0, 1e-5), ((3, 7, 16), 1.0, 1e-5)]
    out = {}
    for i, (shape, scale, eps) in enumerate(cases):
        *lead, n, d = shape
        # rows with their own offsets and spreads; scale 0.02 puts the spread near sqrt(eps)
        x = rng.normal(size=shape) * rng.uniform(0.5, 3.0, size=(*lead, n, 1)) * scale + rng.normal(0, 3, (*lead, n, 1))
        gamma, beta = rng.normal(1.0, 0.5, (*lead, d)), rng.normal(0.0, 0.5, (*lead, d))
        dy = rng.normal(size=shape)
        ys, dxs, dgammas, dbetas = [], [], [], []
        for x_m, g_m, b_m, dy_m in zip(x.reshape(-1, n, d), gamma.reshape(-1, d), beta.reshape(-1, d),
                                       dy.reshape(-1, n, d)):
            xt, gt, bt = (torch.tensor(a, requires_grad=True) for a in (x_m, g_m, b_m))
            y = F.layer_norm(xt, (d,), gt, bt, eps=eps)
            y.backward(torch.tensor(dy_m))
            ys.append(y.detach().numpy())
            dxs.append(xt.grad.numpy())
            dgammas.append(gt.grad.numpy())
            dbetas.append(bt.grad.numpy())
        out.update({f"x{i}": x, f"gamma{i}": gamma, f"beta{i}": beta, f"eps{i}": eps, f"dy{i}": dy,
                    f"y{i}": np.reshape(ys, shape), f"dx{i}": np.reshape(dxs, shape),
                    f"dgamma{i}": np.reshape(dgammas, gamma.shape), f"dbeta{i}": np.reshape(dbetas, beta.shape)})
    out["n_cases"] = len(cases)
    return out


class TorchNet:
    """The bnviz network written with torch.nn.functional; BN via F.batch_norm, layer norm via
    F.layer_norm (the function torch.nn.LayerNorm calls)."""

    def __init__(self, cfg, params, n_in=2, n_classes=2):
        self.cfg = cfg
        self.arch = architecture(cfg, n_in, n_classes)
        self.p = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
        self.running = {}
        for k, units in enumerate(self.arch.hidden, start=1):
            self.running[k] = [torch.zeros(units), torch.ones(units)]
        self.batches_seen = 0

    def bn(self, k, x, training):
        cfg, (rm, rv) = self.cfg, self.running[k]
        g, b = self.p[f"gamma{k}"], self.p[f"beta{k}"]
        if self.arch.norm == "layer":          # one map in training and evaluation, no running statistics
            return F.layer_norm(x, (x.shape[-1],), g, b, eps=cfg.eps)
        if not training:
            return F.batch_norm(x, rm, rv, g, b, training=False, eps=cfg.eps)
        if cfg.running_var == "unbiased":
            # PyTorch's own rule: unbiased variance; momentum=None is the cumulative average
            momentum = None if cfg.running_avg == "cumulative" else 1.0 - cfg.bn_momentum
            if momentum is None:
                # F.batch_norm takes the cumulative factor 1 / batches_seen directly
                momentum = 1.0 / self.batches_seen
            return F.batch_norm(x, rm, rv, g, b, training=True, momentum=momentum, eps=cfg.eps)
        y = F.batch_norm(x, None, None, g, b, training=True, eps=cfg.eps)
        with torch.no_grad():
            m = 1.0 - cfg.bn_momentum
            rm.mul_(1 - m).add_(m * x.mean(0))
            rv.mul_(1 - m).add_(m * x.var(0, unbiased=False))
        return y

    def forward(self, x, training=True):
        act = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "linear": lambda t: t}[
            self.cfg.activation]
        if training:
            self.batches_seen += 1
        a = x
        for k in range(1, self.arch.n_dense):
            z = a @ self.p[f"W{k}"] + (self.p[f"b{k}"] if f"b{k}" in self.p else 0.0)
            if self.arch.normed and self.arch.bn_position == "before":
                a = act(self.bn(k, z, training))
            elif self.arch.normed:
                a = self.bn(k, act(z), training)
            else:
                a = act(z)
        L = self.arch.n_dense
        logits = a @ self.p[f"W{L}"] + self.p[f"b{L}"]
        return logits if self.arch.softmax else logits[:, 0]


def network_fixture(cfg):
    data = load_for(cfg)
    arch = architecture(cfg, data.n_features, data.n_classes)
    params = initial_params(cfg, arch)
    X = torch.tensor(network_inputs(cfg, data, data.X_train))
    y = torch.tensor(data.y_train)
    net = TorchNet(cfg, params, data.n_features, data.n_classes)
    if arch.softmax:
        cross_entropy = torch.nn.CrossEntropyLoss()                 # mean over the batch, from logits
        loss_of = lambda logits, labels: cross_entropy(logits, labels.long())  # noqa: E731
    else:
        loss_of = F.binary_cross_entropy_with_logits
    names = arch.param_layout().names
    ordered = [net.p[n] for n in names]
    if cfg.optimizer == "sgd":
        opt = torch.optim.SGD(ordered, lr=cfg.lr)
    else:
        opt = torch.optim.Adam(ordered, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), eps=cfg.opt_eps)
    orders = epoch_orders(cfg.seed, len(y), cfg.epochs)
    bounds = batch_bounds(len(y), cfg.batch_size)
    losses, rows, running = [], [], []
    for epoch in range(cfg.epochs):
        for start, stop in bounds:
            idx = orders[epoch, start:stop]
            rows.append(idx)
            opt.zero_grad()
            loss = loss_of(net.forward(X[idx]), y[idx])
            loss.backward()
            opt.step()
            losses.append(loss.item())
            running.append(np.concatenate([t.numpy().copy() for k in sorted(net.running)
                                           for t in net.running[k]]) if arch.bn else np.zeros(0))
    X_test = torch.tensor(network_inputs(cfg, data, data.X_test))
    with torch.no_grad():
        eval_logits = net.forward(X_test, training=False).numpy()
    out = {f"init_{n}": v for n, v in params.items()}
    out.update({f"final_{n}": net.p[n].detach().numpy() for n in names})
    out.update(losses=np.array(losses), rows=np.stack(rows) if len({len(r) for r in rows}) == 1 else np.concatenate(rows), running=np.stack(running), eval_logits=eval_logits,
               query=np.array(json.dumps(cfg.to_query())))
    return out


FIXTURE_KINDS = ("batchnorm", "layernorm", "networks", "softmax")


def main(which=FIXTURE_KINDS):
    unknown = sorted(set(which) - set(FIXTURE_KINDS) - set(NETWORK_CASES))
    if unknown:
        raise SystemExit(f"unknown fixtures {unknown}: choose from {', '.join(FIXTURE_KINDS + tuple(NETWORK_CASES))}")
    OUT.mkdir(parents=True, exist_ok=True)
    version = np.array(torch.__version__)
    if "batchnorm" in which:
        np.savez(OUT / "torch_batchnorm.npz", torch_version=version, **batchnorm_fixture(np.random.default_rng(2013)))
    if "layernorm" in which:
        np.savez(OUT / "torch_layernorm.npz", torch_version=version, **layernorm_fixture(np.random.default_rng(2014)))
    for name, cfg in NETWORK_CASES.items():
        if "networks" in which or name in which:
            np.savez(OUT / f"torch_net_{name}.npz", torch_version=version, **network_fixture(cfg))
            print("wrote", name)
    if "softmax" in which:
        for name, cfg in SOFTMAX_CASES.items():
            np.savez_compressed(OUT / f"torch_softmax_{name}.npz", torch_version=version, **network_fixture(cfg))
            print("wrote", name)


if __name__ == "__main__":
    main(sys.argv[1:] or FIXTURE_KINDS)
