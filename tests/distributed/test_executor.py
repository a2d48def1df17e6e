"""The executor layer: local and a real local Ray cluster give identical results; bad settings are one clear line."""

import numpy as np
import pytest

from aitia.errors import AitiaError
from aitia.executor import LocalExecutor, get_executor


def _scaled(x, factor):
    return x * factor


def test_local_executor_orders_results_and_shares_arguments():
    items = list(range(20))
    assert LocalExecutor().map(_scaled, items, shared={"factor": 3}) == [3 * i for i in items]
    assert LocalExecutor(workers=2).map(_scaled, items, shared={"factor": 3}) == [3 * i for i in items]
    with pytest.raises(AitiaError, match="not recognised"):
        get_executor("spark")


def test_unreachable_ray_address_is_one_clear_line(monkeypatch):
    pytest.importorskip("ray")
    from aitia.executor import RayExecutor

    with pytest.raises(AitiaError, match="Could not reach the Ray cluster"):
        RayExecutor(address="127.0.0.1:1")


@pytest.fixture(scope="module")
def ray_executor():
    pytest.importorskip("ray")
    from aitia.executor import RayExecutor

    ex = RayExecutor(num_cpus=2)  # a local cluster started inside the test
    yield ex
    ex.close()


def test_ray_matches_local_on_supervised(ray_executor, small_nb):
    from aitia.causal import learners

    adata = small_nb.adata if hasattr(small_nb, "adata") else small_nb[0]
    local = learners.get("supervised", block_pairs=300, executor="local").fit(adata).predict_scores()
    on_ray = learners.get("supervised", block_pairs=300, executor=ray_executor).fit(adata).predict_scores()
    assert np.array_equal(local.values, on_ray.values)  # same seed, same scores: blocks are independent
    # shared arrays go through the object store once; results come back in input order
    big = np.arange(1_000_000, dtype=np.float64)
    out = ray_executor.map(_sum_slice, [(0, 10), (10, 20), (999_990, 1_000_000)], shared={"x": big})
    assert out == [float(big[a:b].sum()) for a, b in [(0, 10), (10, 20), (999_990, 1_000_000)]]


def _sum_slice(bounds, x):
    return float(x[bounds[0] : bounds[1]].sum())


def test_ray_matches_local_on_interventional_truth(ray_executor, sachs):
    from aitia.causal.truth import interventional_truth

    local = interventional_truth(sachs, executor="local", progress=False)
    on_ray = interventional_truth(sachs, executor=ray_executor, progress=False)
    for name in ("effect", "statistic", "pvalue", "qvalue", "wasserstein"):
        assert np.array_equal(getattr(local, name), getattr(on_ray, name), equal_nan=True), name
    assert local.groups.equals(on_ray.groups) and np.array_equal(local.labels.values, on_ray.labels.values)
