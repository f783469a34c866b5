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
    softmax,
    softmax_cross_entropy_backward,
    softmax_cross_entropy_forward,
)
from .noise import draw_bn_noise, noise_pairs
from .mlp import (ACTIVATIONS, BN_POSITIONS, NORMS, Architecture, FlatLayout, LayerTrace, backward,
                  class_probabilities, correct, forward, logit_sum, logits_finite, loss_and_grads, output_loss,
                  output_loss_backward, output_grad, predicted_class, probabilities)

__all__ = [
    "ACTIVATIONS", "BN_POSITIONS", "INITS", "NORMS", "Architecture", "BatchNormCache", "FlatLayout", "LayerNormCache",
    "LayerTrace",
    "activation_backward", "activation_forward", "backward", "batch_sum", "batchnorm_backward",
    "batchnorm_eval_forward", "batchnorm_forward", "bce_with_logits_backward", "bce_with_logits_forward",
    "dense_backward", "dense_forward", "draw_bn_noise", "layernorm_backward",
    "layernorm_forward", "noise_pairs", "forward", "init_params", "init_weight", "loss_and_grads",
    "sigmoid", "softmax", "softmax_cross_entropy_backward", "softmax_cross_entropy_forward",
    "class_probabilities", "correct", "logit_sum", "logits_finite", "output_loss", "output_loss_backward",
    "output_grad", "predicted_class", "probabilities",
]
