"""The network itself as a diagram (its Keras-style summary is in bnviz.tables)."""
from __future__ import annotations

import plotly.graph_objects as go

from ..run import Run
from ..visitor_text import shown
from .colours import COLOURS, norm_meaning
from .common import alpha, style


def network_diagram(run: Run, label: str = "placed") -> go.Figure:
    """The layers from input to output, each box a Dense, BN (or layer norm) or activation step.
    label: what the data's label is called (Dataset.label_name): the sigmoid unit's output is P(label)."""
    arch = run.arch
    boxes = [("input<br>" + ", ".join(shown(n) for n in run.feature_names), COLOURS["network input"].hex)]
    for k in range(1, arch.n_dense + 1):
        width = arch.widths[k]
        bias = " + b" if arch.has_bias(k) else ""
        dense = (f"Dense {width}<br>z = a·W{k}{bias}", "#DDDDDD")
        if k == arch.n_dense:
            # one sigmoid unit for two classes, a softmax over the classes for more (the digits)
            output = f"sigmoid<br>P({shown(label)})" if arch.n_out == 1 else f"softmax<br>P of each of {arch.n_out} classes"
            boxes += [dense, (output, COLOURS["network output"].hex)]
            continue
        # the normalization's box in the colour its runs are drawn in, and named with the same words
        norm = norm_meaning(arch.norm)
        bn = ((f"{norm.short} {width}<br>γ{k}·x̂ + β{k}", norm.hex) if arch.norm == "layer" else
              (f"{norm.short} {width}<br>γ{k}·ẑ + β{k}", norm.hex))
        act = (f"{arch.activation}", COLOURS["network activation"].hex)
        boxes += [dense] + ([bn, act] if arch.normed and arch.bn_position == "before" else
                            [act, bn] if arch.normed else [act])
    n = len(boxes)
    shapes = [dict(type="rect", x0=i - 0.42, x1=i + 0.42, y0=-0.5, y1=0.5, fillcolor=alpha(colour, 0.35),
                   line=dict(color=colour, width=2)) for i, (_, colour) in enumerate(boxes)]
    labels = [dict(x=i, y=0, text=text, showarrow=False, font=dict(size=13)) for i, (text, _) in enumerate(boxes)]
    arrows = [dict(x=i - 0.43, y=0, ax=i - 0.57, ay=0, xref="x", yref="y", axref="x", ayref="y", showarrow=True,
                   arrowhead=3, arrowsize=1.2, arrowwidth=2, text="") for i in range(1, n)]
    fig = go.Figure(layout=dict(shapes=shapes, annotations=labels + arrows))
    fig.update_xaxes(visible=False, range=[-0.6, n - 0.4])
    fig.update_yaxes(visible=False, range=[-0.8, 0.8])
    trainable, averaged = arch.param_layout().size, arch.buffer_layout().size
    per_unit = ("layer norm: 2 numbers per unit, γ and β; each row's μ and σ² are its own, never stored"
                if arch.norm == "layer" else "4 numbers per BN unit: γ, β, μ, σ²")
    return style(fig, "The network", 220, f"{trainable} trainable parameters, "
                  f"{averaged} running statistics ({per_unit})", legend="none")
