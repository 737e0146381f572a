"""Choosing the tf.distribute strategy: TPU, multi-worker, multi-GPU, CPU replicas, default."""

from __future__ import annotations

import json
import os

import tensorflow as tf
from absl import logging


def make_strategy(*, tpu: str | None = None, cpu_replicas: int = 1) -> tf.distribute.Strategy:
    """The strategy for this machine.

    Args:
      tpu: a TPU name/address ("" or "local" for a TPU VM), or None.
      cpu_replicas: > 1 splits the CPU into that many logical devices under a
        MirroredStrategy (tests the multi-replica path without accelerators; must be
        called before TensorFlow has initialized its devices).

    Order: TPU when asked; MultiWorkerMirroredStrategy when TF_CONFIG names several
    workers; MirroredStrategy on 2+ GPUs or with cpu_replicas > 1; else the default.
    """
    if tpu is not None:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu or "local")
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return _log(tf.distribute.TPUStrategy(resolver))
    cluster = json.loads(os.environ.get("TF_CONFIG", "{}")).get("cluster", {})
    if len(cluster.get("worker", [])) > 1:
        return _log(tf.distribute.MultiWorkerMirroredStrategy())
    gpus = tf.config.list_physical_devices("GPU")
    if len(gpus) > 1:
        return _log(tf.distribute.MirroredStrategy())
    if cpu_replicas > 1:
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * cpu_replicas
        )
        devices = [f"/cpu:{i}" for i in range(cpu_replicas)]
        return _log(tf.distribute.MirroredStrategy(devices))
    return _log(tf.distribute.get_strategy())


def _log(strategy: tf.distribute.Strategy) -> tf.distribute.Strategy:
    logging.info(
        "strategy %s with %d replica(s)", type(strategy).__name__, strategy.num_replicas_in_sync
    )
    return strategy
