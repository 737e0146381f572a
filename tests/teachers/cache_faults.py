"""A teacher whose worker dies once, for the pipeline fault tests (imported by Beam's
workers by module name, so it lives outside the test module)."""

from __future__ import annotations

import os

from lealla.models.teachers import loading


class _DiesOnce:
    def __init__(self, teacher, marker: str):
        self._teacher = teacher
        self._marker = marker
        self.embedding_dim = teacher.embedding_dim

    def embed(self, texts):
        if not os.path.exists(self._marker):  # the first call of any worker process
            with open(self._marker, "w") as f:
                f.write("died")
            raise RuntimeError("worker killed mid-shard")
        return self._teacher.embed(texts)


def load_dying_once(path: str, marker: str) -> _DiesOnce:
    return _DiesOnce(loading.load_teacher(path), marker)
