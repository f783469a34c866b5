"""The network: layers as forward/backward pairs, the MLP, initializers. NumPy only."""
from .init import INITS, init_params, init_weight
from .layers import (
    BatchNormCache,
    LayerNormCache,
    activation_backward,
    activation_forward,
    batch_sum,
    batchnorm_backward,
    batchnorm_eval_forward,
    batchnorm_forward,
    bce_with_logits_backward,
    bce_with_logits_forward,
    dense_backward,
    dense_forward,
    layernorm_backward,
    layernorm_forward,
    sigmoid,
)
from .noise import draw_bn_noise, noise_pairs
from .mlp import ACTIVATIONS, BN_POSITIONS, NORMS, Architecture, FlatLayout, LayerTrace, backward, forward, loss_and_grads

__all__ = [
    "ACTIVATIONS", "BN_POSITIONS", "INITS", "NORMS", "Architecture", "BatchNormCache", "FlatLayout", "LayerNormCache",
    "LayerTrace",
    "activation_backward", "activation_forward", "backward", "batch_sum", "batchnorm_backward",
    "batchnorm_eval_forward", "batchnorm_forward", "bce_with_logits_backward", "bce_with_logits_forward",
    "dense_backward", "dense_forward", "draw_bn_noise", "layernorm_backward",
    "layernorm_forward", "noise_pairs", "forward", "init_params", "init_weight", "loss_and_grads",
    "sigmoid",
]
