"""Distillation: losses and the training loop under tf.distribute, with its absl entry point."""
