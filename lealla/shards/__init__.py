"""Sharded jobs: plan line ranges, run shards in-process or as Beam pipelines, resume."""
