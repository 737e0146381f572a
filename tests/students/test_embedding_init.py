import numpy as np
import pytest

from lealla.models.students import embedding_init
from lealla.models.students.student_config import StudentConfig


def test_pca_keeps_the_geometry_of_a_low_rank_table():
    rng = np.random.default_rng(0)
    basis = rng.normal(size=(4, 12))
    table = rng.normal(size=(300, 4)) @ basis + 3.0  # rank 4 plus an offset, in 12 dims
    projected = embedding_init.pca_project(table, 4, target_std=0.02)
    assert projected.shape == (300, 4) and projected.dtype == np.float32
    assert projected.std() == pytest.approx(0.02, rel=1e-4)

    # Pairwise distances survive up to the global scale.
    def distances(x):
        return np.linalg.norm(x[:, None] - x[None], axis=-1)

    ratio = (
        distances(projected)[np.triu_indices(300, 1)] / distances(table)[np.triu_indices(300, 1)]
    )
    np.testing.assert_allclose(ratio, ratio.mean(), rtol=1e-4)


def test_pca_picks_the_largest_variance_directions():
    rng = np.random.default_rng(1)
    table = rng.normal(size=(2000, 3)) * np.array([10.0, 1.0, 0.1])
    projected = embedding_init.pca_project(table, 1, target_std=1.0)
    assert abs(np.corrcoef(projected[:, 0], table[:, 0])[0, 1]) > 0.99


def test_use_m_table_initializes_a_student(use_m_module, monkeypatch):
    import os

    from lealla.models.teachers import loading

    monkeypatch.setenv("LEALLA_CACHE_DIR", os.path.dirname(os.path.dirname(use_m_module)))
    teacher = loading.load_teacher("use-multilingual")
    table = teacher.token_embeddings()
    assert table.shape == (128_000, 512)
    rows = embedding_init.pca_project(table[:5000], 32)
    student = StudentConfig.from_preset("tiny_test", vocabulary_size=5000).build()
    embedding_init.set_token_embeddings(student, rows)
    np.testing.assert_array_equal(student.token_embedding.embeddings.numpy(), rows)
    with pytest.raises(ValueError, match=r"has shape \(10, 32\); the student needs \(5000, 32\)"):
        embedding_init.set_token_embeddings(student, rows[:10])
    with pytest.raises(ValueError, match="width must be in"):
        embedding_init.pca_project(table[:10], 600)


def test_labse_format_teacher_table_is_found(hub_modules):
    from lealla.models.teachers import loading
    from tests.teachers import hub_fixtures

    teacher = loading.load_teacher(
        hub_modules["labse_v2_encoder"], preprocessor=hub_modules["labse_v2_preprocessor"]
    )
    table = teacher.token_embeddings()
    assert table.shape == (len(hub_fixtures.VOCAB), hub_fixtures.HIDDEN)
