"""activations.capture on plain torch modules: values, pooling, hooks, dtype, memory."""

from __future__ import annotations

import gc

import numpy as np
import psutil
import pytest
import torch

from subspacekit.activations import capture, resolve_modules
from subspacekit.errors import DTypeError, NonFiniteError, TooFewSamplesError, ValidationError


def _mlp(width: int = 16) -> torch.nn.Sequential:
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(5, width), torch.nn.ReLU(), torch.nn.Linear(width, 3), torch.nn.Tanh()
    )


def test_mlp_capture_equals_manual_forward() -> None:
    mlp = _mlp()
    x = torch.randn(37, 5)
    acts = capture(mlp, x, batch_size=8, verbose=False)
    assert list(acts) == ["0", "1", "2", "3"]
    with torch.no_grad():
        h0 = mlp[0](x)
        h1 = torch.relu(h0)
        h2 = mlp[2](h1)
    np.testing.assert_allclose(acts["0"], h0.numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(acts["1"], h1.numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(acts["2"], h2.numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(acts["3"], np.tanh(h2.numpy()), rtol=1e-6, atol=1e-6)
    assert acts["0"].dtype == np.float32 and acts.sample_index is None
    # numpy input and an iterable of ready-made batches give the same rows
    from_numpy = capture(mlp, x.numpy(), modules="2", verbose=False)
    from_batches = capture(mlp, (x[i : i + 10] for i in range(0, 37, 10)), "2", verbose=False)
    np.testing.assert_allclose(from_numpy["2"], acts["2"], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(from_batches["2"], acts["2"], rtol=1e-6, atol=1e-6)


def test_dtype_control() -> None:
    mlp = _mlp().double()
    x = torch.randn(9, 5, dtype=torch.float64)
    acts64 = capture(mlp, x, modules=["0"], dtype=np.float64, verbose=False)
    acts16 = capture(mlp, x, modules=["0"], dtype=np.float16, verbose=False)
    assert acts64["0"].dtype == np.float64 and acts16["0"].dtype == np.float16
    np.testing.assert_allclose(acts16["0"], acts64["0"], rtol=2e-3, atol=2e-3)
    with pytest.raises(DTypeError, match="float16, float32 or float64"):
        capture(mlp, x, dtype=np.int32, verbose=False)


class _Tokens(torch.nn.Module):
    """A toy sequence model: embedding then a linear map, keyword inputs like HF models."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(1)
        self.embed = torch.nn.Embedding(50, 6)
        self.proj = torch.nn.Linear(6, 4)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.proj(self.embed(input_ids))


@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_attention_mask_aware_pooling(padding_side: str) -> None:
    model = _Tokens()
    lengths = [3, 5, 1, 4]
    seq = 5
    ids = torch.zeros(4, seq, dtype=torch.long)
    mask = torch.zeros(4, seq, dtype=torch.long)
    gen = torch.Generator().manual_seed(0)
    for i, n in enumerate(lengths):
        span = slice(0, n) if padding_side == "right" else slice(seq - n, seq)
        ids[i, span] = torch.randint(1, 50, (n,), generator=gen)
        mask[i, span] = 1
    inputs = {"input_ids": ids, "attention_mask": mask}
    with torch.no_grad():
        full = model.proj(model.embed(ids)).numpy()
    real = [np.flatnonzero(mask[i].numpy()) for i in range(4)]
    mean = capture(model, inputs, "proj", pool="mean", batch_size=3, verbose=False)["proj"]
    first = capture(model, inputs, "proj", pool="first", batch_size=3, verbose=False)["proj"]
    last = capture(model, inputs, "proj", pool="last", batch_size=3, verbose=False)["proj"]
    tokens = capture(model, inputs, "proj", pool="none", batch_size=3, verbose=False)
    for i in range(4):
        np.testing.assert_allclose(mean[i], full[i, real[i]].mean(0), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(first[i], full[i, real[i][0]], rtol=1e-6)
        np.testing.assert_allclose(last[i], full[i, real[i][-1]], rtol=1e-6)
    assert tokens["proj"].shape == (sum(lengths), 4)
    assert np.bincount(tokens.sample_index).tolist() == lengths
    for row, (s, t) in enumerate(zip(tokens.sample_index, tokens.token_index, strict=True)):
        assert mask[s, t] == 1
        np.testing.assert_allclose(tokens["proj"][row], full[s, t], rtol=1e-6)


def test_module_selection_by_name_and_glob() -> None:
    model = torch.nn.Sequential(
        torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU()),
        torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU()),
    )
    assert resolve_modules(model) == ["0", "1"]
    assert resolve_modules(model, "*.0") == ["0.0", "1.0"]
    assert resolve_modules(model, "**") == ["0", "0.0", "0.1", "1", "1.0", "1.1"]
    with pytest.raises(ValidationError, match=r"'2\.\*' matches no module; available"):
        resolve_modules(model, "2.*")


class _FailsOnSecondBatch(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(2, 2)
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        if self.calls == 2:
            raise RuntimeError("boom")
        return self.layer(x)


def test_hooks_removed_on_success_and_on_error_and_mode_restored() -> None:
    model = _FailsOnSecondBatch()
    model.train()
    capture(model, torch.ones(2, 2), batch_size=2, verbose=False)
    assert not model.layer._forward_hooks and model.training
    # a failure inside the model is reported as an input error naming the batch
    with pytest.raises(ValidationError, match=r"RuntimeError on batch 0 .*boom") as err:
        capture(model, torch.ones(6, 2), batch_size=2, verbose=False)
    assert isinstance(err.value.__cause__, RuntimeError)
    assert not model.layer._forward_hooks and model.training


def test_strings_need_a_tokenizer() -> None:
    with pytest.raises(ValidationError, match="no tokenizer"):
        capture(_mlp(), ["a sentence"], verbose=False)
    with pytest.raises(DTypeError, match=r"torch\.nn\.Module"):
        capture(object(), torch.ones(2, 2), verbose=False)
    with pytest.raises(ValidationError, match="pool must be"):
        capture(_mlp(), torch.ones(2, 5), pool="max", verbose=False)


def test_memory_stays_flat_over_200_batches() -> None:
    # a wide hidden layer that is not captured: any retained graph, hook output or batch
    # would pile up 200 x (64 x 2048 x 4 B = 0.5 MiB) = 100 MiB or more
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(32, 2048), torch.nn.ReLU(), torch.nn.Linear(2048, 8)
    )

    def batches(n: int):
        gen = torch.Generator().manual_seed(0)
        for _ in range(n):
            yield torch.randn(64, 32, generator=gen)

    process = psutil.Process()
    capture(model, batches(10), modules=["2"], verbose=False)  # warm up allocators
    gc.collect()
    before = process.memory_info().rss
    acts = capture(model, batches(200), modules=["2"], pool="mean", verbose=False)
    gc.collect()
    growth = process.memory_info().rss - before
    kept = sum(a.nbytes for a in acts.values())  # the result itself: 200*64*8*4 B
    assert acts["2"].shape == (200 * 64, 8)
    assert growth < kept + 40 * 2**20, f"RSS grew by {growth / 2**20:.0f} MiB"


class _NaNOnBatch(torch.nn.Module):
    """Identity, except that batch ``bad`` (0-based) comes out as NaN."""

    def __init__(self, bad: int) -> None:
        super().__init__()
        self.bad, self.calls = bad, 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return x * torch.nan if self.calls == self.bad + 1 else x


def test_nan_activations_raise_naming_the_module_and_the_batch() -> None:
    # Regression: capture used to return NaN activations without a word.
    model = torch.nn.Sequential(torch.nn.Linear(5, 3), _NaNOnBatch(bad=2), torch.nn.ReLU())
    with pytest.raises(
        NonFiniteError, match=r"module '1' produced 12 NaN .* batch 2 \(inputs 8 to 11\)"
    ):
        capture(model, torch.randn(20, 5), batch_size=4, verbose=False)
    assert not model[1]._forward_hooks
    # NaN in the inputs is refused before the model runs
    x = torch.randn(6, 5)
    x[4, 1] = torch.nan
    with pytest.raises(NonFiniteError, match="inputs contains 1 NaN"):
        capture(_mlp(), x, verbose=False)
    # float16 storage cannot hold 1e5: an overflow to inf is refused too
    big = torch.nn.Sequential(torch.nn.Identity())
    with pytest.raises(NonFiniteError, match="overflowed float16"):
        capture(big, torch.full((3, 2), 1e5), dtype=np.float16, verbose=False)


def test_inputs_of_every_container_give_the_same_rows() -> None:
    pd = pytest.importorskip("pandas")
    mlp = _mlp()
    x = np.random.default_rng(0).standard_normal((9, 5))
    reference = capture(mlp, torch.tensor(x, dtype=torch.float32), verbose=False)["2"]
    for given in (x, x.tolist(), pd.DataFrame(x), x.astype(np.float32)):
        np.testing.assert_allclose(capture(mlp, given, verbose=False)["2"], reference, rtol=1e-6)
    with pytest.raises(TooFewSamplesError):
        capture(mlp, np.zeros((0, 5)), verbose=False)
    with pytest.raises(DTypeError, match="Complex"):
        capture(mlp, x.astype(complex), verbose=False)
    with pytest.raises(NonFiniteError, match=r"overflow torch\.float32"):
        capture(mlp, x * 1e160, verbose=False)
    # inputs the model cannot take: a subspacekit error naming the batch, not torch's
    with pytest.raises(ValidationError, match=r"batch 0 .*mat1 and mat2 shapes"):
        capture(mlp, x[:, :3], verbose=False)
