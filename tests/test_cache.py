"""The disk cache: hits, misses on a changed key, damaged entries rebuilt, and the truth/prior users."""

import numpy as np

from aitia.cache import cached, fingerprint


def test_cached_hits_misses_and_rebuilds_damaged_entries(tmp_path):
    calls = []

    def build():
        calls.append(1)
        return {"n": len(calls)}

    assert cached("t", {"a": 1}, build) == {"n": 1}
    assert cached("t", {"a": 1}, build) == {"n": 1} and len(calls) == 1  # hit
    assert cached("t", {"a": 2}, build) == {"n": 2}  # another key
    from aitia.config import get_settings

    for f in (get_settings().cache_dir / "t").glob("*.pkl"):
        f.write_bytes(b"torn")
    assert cached("t", {"a": 1}, build) == {"n": 3}  # damaged: rebuilt, not fatal
    assert cached("t", {"a": 1}, build, enabled=False) == {"n": 4}
    assert fingerprint(np.arange(3)) != fingerprint(np.arange(3.0)) and fingerprint([1]) == fingerprint([1])


def test_dataset_truth_is_cached_by_content(sachs):
    from aitia.causal.truth import dataset_truth

    first = dataset_truth(sachs)
    again = dataset_truth(sachs)
    assert np.array_equal(first.qvalue, again.qvalue, equal_nan=True) and first is not again
    changed = sachs[sachs.obs["perturbation"].astype(str) != "Mek"].copy()  # other data: another entry
    assert "Mek" not in set(dataset_truth(changed).groups["source"])
