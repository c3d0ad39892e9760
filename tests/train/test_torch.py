"""Adapters with a real torch DataLoader and a real Hugging Face Trainer on Fashion-MNIST."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from datadiet.train import (  # noqa: E402
    CurriculumSampler,
    DynamicsRecorder,
    GroupSampler,
    InfoBatchSampler,
    LossWindowSampler,
    RS2Sampler,
    torch_batch_sampler,
    torch_sampler,
    weighted_loss,
)


@pytest.fixture(scope="module")
def fmnist():
    from datadiet._testing import fashion_mnist

    x, y = fashion_mnist("train")
    return torch.from_numpy(x[:512].astype(np.float32) / 255.0), torch.from_numpy(y[:512].astype(np.int64))


def _makers(y):
    n = len(y)
    yn = y.numpy()
    return {
        "rs2": lambda: RS2Sampler(n, 0.25, seed=0),
        "infobatch": lambda: InfoBatchSampler(n, 3, budget=0.8, seed=0),
        "group": lambda: GroupSampler(yn, alpha=0.0, mode="upweight", seed=0),
        "group-online": lambda: GroupSampler(yn, online=True, seed=0),
        "curriculum": lambda: CurriculumSampler(np.arange(n, dtype=float), num_epochs=3, seed=0),
        "loss-window": lambda: LossWindowSampler(n, 3, seed=0),
    }


class _Indexed(torch.utils.data.Dataset):
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return self.x[i], self.y[i], i


@pytest.mark.parametrize("name", ["rs2", "infobatch", "group", "group-online", "curriculum", "loss-window"])
@pytest.mark.parametrize("batched", [False, True])
def test_dataloader_trains_with_each_adapter(fmnist, name, batched):
    x, y = fmnist
    s = _makers(y)[name]()
    ds = _Indexed(x, y)
    dl = (torch.utils.data.DataLoader(ds, batch_sampler=torch_batch_sampler(s, 32)) if batched
          else torch.utils.data.DataLoader(ds, sampler=torch_sampler(s), batch_size=32))
    torch.manual_seed(0)
    net = torch.nn.Linear(784, 10)
    opt = torch.optim.SGD(net.parameters(), lr=0.5)
    for epoch in range(3):
        if batched:
            dl.batch_sampler.set_epoch(epoch)
        else:
            dl.sampler.set_epoch(epoch)
        seen = []
        for xb, yb, ib in dl:
            loss = weighted_loss(s, ib, torch.nn.functional.cross_entropy(net(xb), yb, reduction="none"))
            opt.zero_grad()
            loss.backward()
            opt.step()
            seen.append(ib)
        got = torch.cat(seen).numpy()
        s.set_epoch(epoch)
        expected = s.epoch_indices()
        if name != "group-online":
            assert got.tolist() == expected.tolist()
        assert len(got) == len(s)
    if name == "infobatch":
        n = len(y)
        assert np.isfinite(s.scores_).all()
        assert s.saved_fraction() == pytest.approx(1 - round(0.8 * n * 3) / (n * 3))
    if name == "group-online":
        assert s.weight_history().shape[0] > 1


def test_adapters_reject_non_samplers():
    with pytest.raises(TypeError, match="datadiet.train sampler"):
        torch_sampler(range(3))
    with pytest.raises(ValueError, match="batch_size"):
        torch_batch_sampler(RS2Sampler(4, 0.5), 0)


@pytest.mark.slow
def test_trainer_callback_on_a_tiny_model(fmnist, tmp_path):
    transformers = pytest.importorskip("transformers")
    pytest.importorskip("accelerate")
    from datadiet.train import attach_to_trainer

    x, y = fmnist
    n = len(y)

    class Tiny(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(784, 10)

        def forward(self, pixels, labels=None):
            logits = self.lin(pixels)
            out = {"logits": logits}
            if labels is not None:
                out["loss"] = torch.nn.functional.cross_entropy(logits, labels)
            return out

    class DS(torch.utils.data.Dataset):
        def __len__(self):
            return n

        def __getitem__(self, i):
            return {"pixels": x[i], "labels": y[i], "datadiet_index": i}

    epochs, bs = 3, 32
    s = InfoBatchSampler(n, epochs, budget=0.8, seed=0)
    rec = DynamicsRecorder(n, 10, tmp_path / "dyn", max_epochs=epochs)
    torch.manual_seed(0)
    model = Tiny()
    opt = torch.optim.SGD(model.parameters(), lr=0.3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=s.total_steps(bs))
    args = transformers.TrainingArguments(output_dir=str(tmp_path / "out"), num_train_epochs=epochs,
                                          per_device_train_batch_size=bs, report_to=[], save_strategy="no",
                                          use_cpu=True, disable_tqdm=True, logging_strategy="no",
                                          dataloader_num_workers=0)
    trainer = transformers.Trainer(model=model, args=args, train_dataset=DS(), optimizers=(opt, sched))
    attach_to_trainer(trainer, s, recorder=rec)
    trainer.train()
    # every epoch went through the sampler: the planned lengths, the real saved share, the losses
    assert trainer.state.global_step == s.total_steps(bs)
    assert s.saved_fraction() == pytest.approx(1 - round(0.8 * n * 3) / (n * 3))
    assert np.isfinite(s.scores_).all()
    assert sorted(s.passes_) == [0, 1, 2]
    assert rec.epochs_recorded().tolist() == [0, 1, 2]
    assert opt.param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-9)
    sc = rec.scores()
    assert (sc["epochs_seen"] >= 1).all()
    assert sc["epochs_seen"].sum() == s.epoch_lengths().sum()   # one record per forward pass


@pytest.mark.slow
def test_trainer_with_a_datasets_dataset_keeps_the_index_column(tmp_path):
    transformers = pytest.importorskip("transformers")
    datasets = pytest.importorskip("datasets")
    from datadiet._testing import fashion_mnist
    from datadiet.train import attach_to_trainer

    x, y = fashion_mnist("train")
    n = 96
    ds = datasets.Dataset.from_dict({"pixels": (x[:n] / 255.0).astype(np.float32).tolist(),
                                     "labels": y[:n].astype(int).tolist(), "unused": ["x"] * n})
    ds = ds.map(lambda r, i: {"datadiet_index": i}, with_indices=True).with_format("torch")

    class Tiny(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(784, 10)

        def forward(self, pixels, labels=None):
            z = self.lin(pixels)
            return {"logits": z, "loss": torch.nn.functional.cross_entropy(z, labels)}

    s = InfoBatchSampler(n, 3, budget=0.8, seed=0)
    args = transformers.TrainingArguments(output_dir=str(tmp_path), num_train_epochs=3, per_device_train_batch_size=16,
                                          report_to=[], save_strategy="no", use_cpu=True, disable_tqdm=True,
                                          logging_strategy="no")
    trainer = transformers.Trainer(model=Tiny(), args=args, train_dataset=ds)
    attach_to_trainer(trainer, s)
    trainer.train()
    assert np.isfinite(s.scores_).all()          # the index column survived remove_unused_columns
    assert trainer.state.global_step == s.total_steps(16)
