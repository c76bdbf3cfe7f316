"""The training machinery behind `fit`, `evaluate` and `predict`, in four parts.

The *source* (`ember.data`: `preparation.prepare` makes an `ArraySource`, `StreamingSource` or
`IterableSource`) owns the data: it yields device batches `(x, y, sample_weight)`, one epoch at a
time. The *step* (`step.Step`, chosen by `steps.make_step`: eager or compiled in
`autograd_step.py`, CUDA-graphed in `graphed_step.py` over `graphs.py`, hand-derived in
`dense_stack.py`, thread-tuned in `threads.py`; the GAN's in `ember.gan.step`) owns one batch:
forward, loss, backward and update, with loss and metrics accumulated on the device
(`objectives.Objectives`, built from `compile_settings.CompileSettings`). The *engine*
(`engine.Engine`) owns the loop: epochs, batches, validation, and when the step finishes; it knows
neither the data's form nor how a step runs. The *callbacks* (`ember.callbacks`) own everything
around the loop that a user sees or changes: progress, history, checkpoints, early stopping,
learning-rate changes, through `model.stop_training` and the optimizer's learning rate.
"""
