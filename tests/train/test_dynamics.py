"""DynamicsRecorder: hand-computed scores, a tiny real training run, crash resume, AUM thresholds, plot."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from datadiet.train import DynamicsRecorder, assign_threshold_examples, aum_cutoff, plot_data_map

E = math.e


def _softmax(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max())
    return e / e.sum()


def _tiny(tmp_path):
    """3 examples, 3 classes, 3 epochs; example 2 is not seen in epoch 1."""
    rec = DynamicsRecorder(3, 3, tmp_path / "dyn", max_epochs=5)
    rec.record(0, [0, 1, 2], np.array([[2.0, 0, 0], [0, 0, 0], [1, 0, 0]]), [0, 1, 2])
    rec.record(1, [1, 0], np.array([[0.0, 2, 1], [0, 1, 0]]), [1, 0])
    rec.record(2, [2], np.array([[1.0, 0, 0]]), [2])
    rec.record(2, [0, 1], np.array([[3.0, 0, 1], [0, 2, 1]]), [0, 1])
    return rec


def test_scores_match_hand_computed_values(tmp_path):
    s = _tiny(tmp_path).scores()
    # AUM: mean of (logit of the label - largest other logit)
    assert s["aum"].tolist() == pytest.approx([(2 - 1 + 2) / 3, (0 + 1 + 1) / 3, -1.0])
    # correctness: example 1 ties at epoch 0 (argmax picks class 0: wrong)
    assert s["correctness"].tolist() == pytest.approx([2 / 3, 2 / 3, 0.0])
    # forgetting: 0 is right, wrong, right -> 1; 1 wrong, right, right -> 0; 2 never right -> seen twice
    assert s["forgetting"].tolist() == [1.0, 0.0, 2.0]
    # confidence / variability: probability of the label per epoch
    p0 = [E**2 / (E**2 + 2), 1 / (2 + E), E**3 / (E**3 + 1 + E)]
    p1 = [1 / 3, E**2 / (1 + E**2 + E), E**2 / (1 + E**2 + E)]
    p2 = [1 / (E + 2), 1 / (E + 2)]
    assert s["confidence"].tolist() == pytest.approx([np.mean(p0), np.mean(p1), np.mean(p2)], rel=1e-6)
    assert s["variability"].tolist() == pytest.approx([np.std(p0), np.std(p1), 0.0], rel=1e-5, abs=1e-7)
    # EL2N: || softmax - onehot ||, averaged over epochs
    el0 = [np.linalg.norm(_softmax(z) - np.eye(3)[0]) for z in ([2, 0, 0], [0, 1, 0], [3, 0, 1])]
    assert s["el2n"][0] == pytest.approx(np.mean(el0), rel=1e-6)
    assert np.isnan(s["grand"]).all()
    assert s["epochs_seen"].tolist() == [3, 3, 2]
    # EL2N restricted to the first epoch
    first = _tiny(tmp_path / "again").scores(epochs=[0])
    assert first["el2n"][0] == pytest.approx(el0[0], rel=1e-6)


def test_a_tiny_real_training_run_matches_an_independent_computation(tmp_path):
    torch = pytest.importorskip("torch")
    from datadiet._testing import fashion_mnist

    x, y = fashion_mnist("train")
    x = torch.from_numpy(x[:64].astype(np.float32) / 255.0)
    y = torch.from_numpy(y[:64].astype(np.int64))
    torch.manual_seed(0)
    net = torch.nn.Linear(784, 10)
    opt = torch.optim.SGD(net.parameters(), lr=0.5)
    rec = DynamicsRecorder(64, 10, tmp_path / "run")
    all_logits = []
    for epoch in range(4):
        for b in range(0, 64, 16):
            idx = torch.arange(b, b + 16)
            z = net(x[idx])
            loss = torch.nn.functional.cross_entropy(z, y[idx])
            g = None
            if epoch == 0:
                g = (torch.softmax(z, 1) - torch.nn.functional.one_hot(y[idx], 10)).norm(dim=1) * (
                    x[idx].norm(dim=1) ** 2 + 1).sqrt()
            rec.record(epoch, idx, z.detach(), y[idx], grad_norms=None if g is None else g.detach())
            all_logits.append((epoch, idx.numpy(), z.detach().numpy().astype(np.float64)))
            opt.zero_grad()
            loss.backward()
            opt.step()
    s = rec.scores()
    # independent per-example loop
    per = {i: [] for i in range(64)}
    for _epoch, idx, z in all_logits:
        for i, row in zip(idx, z):
            per[int(i)].append(row)
    yy = y.numpy()
    for i in (0, 17, 63):
        rows = np.array(per[i])
        lab = yy[i]
        margins = [r[lab] - np.max(np.delete(r, lab)) for r in rows]
        probs = [_softmax(r)[lab] for r in rows]
        right = [int(np.argmax(r) == lab) for r in rows]
        forgets = sum(1 for a, b in zip(right, right[1:]) if a == 1 and b == 0) if any(right) else len(right)
        assert s["aum"][i] == pytest.approx(np.mean(margins), rel=1e-4, abs=1e-4)
        assert s["confidence"][i] == pytest.approx(np.mean(probs), rel=1e-4, abs=1e-6)
        assert s["variability"][i] == pytest.approx(np.std(probs), rel=1e-3, abs=1e-6)
        assert s["correctness"][i] == pytest.approx(np.mean(right))
        assert s["forgetting"][i] == forgets
    assert np.isfinite(s["grand"]).all()        # recorded in epoch 0 only, averaged over it
    assert s["correctness"].mean() > 0.3        # it did learn something


def test_store_is_bounded_and_resumes_after_a_crash(tmp_path):
    path = tmp_path / "dyn"
    code = f"""
import numpy as np, os
from datadiet.train import DynamicsRecorder
rec = DynamicsRecorder(1000, 4, {str(path)!r}, max_epochs=10)
rng = np.random.default_rng(0)
for e in range(2):
    rec.record(e, np.arange(1000), rng.normal(size=(1000, 4)), np.arange(1000) % 4)
os._exit(3)   # crash: no flush, no close
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 3, r.stderr
    size = (path / "stats.npy").stat().st_size
    assert 24 * 1000 * 10 <= size < 24 * 1000 * 10 + 4096
    rec = DynamicsRecorder(1000, 4, path)          # reopen: the same store
    assert rec.epochs_recorded().tolist() == [0, 1]
    rng = np.random.default_rng(0)
    z0 = rng.normal(size=(1000, 4))
    z1 = rng.normal(size=(1000, 4))
    before = rec.scores()
    # replaying an epoch (resume from the last checkpoint) leaves the scores unchanged
    rec.record(1, np.arange(500), z1[:500], np.arange(500) % 4)
    after = rec.scores()
    for k in ("aum", "confidence", "forgetting"):
        np.testing.assert_allclose(after[k], before[k], rtol=1e-6)
    clean = DynamicsRecorder(1000, 4, tmp_path / "clean")
    clean.record(0, np.arange(1000), z0, np.arange(1000) % 4)
    clean.record(1, np.arange(1000), z1, np.arange(1000) % 4)
    np.testing.assert_allclose(clean.scores()["aum"], after["aum"], rtol=1e-5)
    small = rec.scores(chunk=7)                     # bounded memory: block by block gives the same scores
    for k, v in after.items():
        np.testing.assert_array_equal(small[k], v)
    with pytest.raises(ValueError, match="n=1000, num_classes=4"):
        DynamicsRecorder(999, 4, path)


def test_threshold_examples_and_cutoff():
    y = np.repeat(np.arange(10), 50)
    new, mask = assign_threshold_examples(y, 10, seed=3)
    assert mask.sum() == round(500 / 11)
    assert (new[mask] == 10).all() and (new[~mask] == y[~mask]).all()
    again, mask2 = assign_threshold_examples(y, 10, seed=3)
    assert (mask == mask2).all()
    assert (assign_threshold_examples(y, 10, seed=4)[1] != mask).any()
    aum = np.where(mask, -np.linspace(0, 2, 500), 1.0)
    cut = aum_cutoff(aum, mask, 99)
    assert cut == pytest.approx(np.percentile(aum[mask], 99))
    with pytest.raises(ValueError, match="labels must be in"):
        assign_threshold_examples(y, 5)
    with pytest.raises(ValueError, match="no threshold example"):
        aum_cutoff(aum, np.zeros(500, bool))


def test_scores_table_and_data_map(tmp_path):
    pytest.importorskip("matplotlib")
    rec = _tiny(tmp_path)
    t = rec.scores_table(ids=["a", "b", "c"])
    assert t.column_names[:2] == ["id", "label"]
    assert t.column("id").to_pylist() == ["a", "b", "c"]
    assert t.column("label").to_pylist() == [0, 1, 2]
    with pytest.raises(ValueError, match=r"ids have repeated values \(e.g. 'a' at rows 0 and 2"):
        rec.scores_table(ids=["a", "b", "a"])
    png = plot_data_map(rec.scores(), tmp_path / "map.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_records_are_clear(tmp_path):
    rec = DynamicsRecorder(4, 3, tmp_path / "d", max_epochs=2)
    z = np.zeros((2, 3))
    with pytest.raises(ValueError, match=r"shape \(2, 3\)"):
        rec.record(0, [0, 1], np.zeros((2, 4)), [0, 1])
    with pytest.raises(ValueError, match="labels must be in"):
        rec.record(0, [0, 1], z, [0, 3])
    with pytest.raises(ValueError, match="epoch must be"):
        rec.record(2, [0, 1], z, [0, 1])
    with pytest.raises(ValueError, match="indices must be in"):
        rec.record(0, [0, 4], z, [0, 1])
    with pytest.raises(ValueError, match="finite"):
        rec.record(0, [0, 1], np.full((2, 3), np.nan), [0, 1])
    with pytest.raises(ValueError, match="nothing recorded"):
        rec.scores()
    with pytest.raises(ValueError, match="not a dynamics store"):
        DynamicsRecorder.open(tmp_path)
