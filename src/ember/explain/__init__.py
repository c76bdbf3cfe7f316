"""Explanations of predictions, built on Captum: saliency, input x gradient, integrated gradients,
SmoothGrad, occlusion and Grad-CAM, with pictures and sanity checks.

    explanation = ember.explain.attribute(model, x_test[:8], method="grad_cam")
    explanation.save_png("gradcam.png")
"""

from ember.explain.attribution import METHODS, Explanation, attribute, convolution_layers
from ember.explain.sanity import (RandomizationCheck, completeness_gap, model_randomization_check,
                                  randomize_weights)

__all__ = ["attribute", "Explanation", "METHODS", "convolution_layers", "completeness_gap",
           "model_randomization_check", "randomize_weights", "RandomizationCheck"]
