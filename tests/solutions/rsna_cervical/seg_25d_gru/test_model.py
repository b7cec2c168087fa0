"""The stage-2 network's shapes, its overall options and the loss equal to the metric."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from solutions.rsna_cervical.seg_25d_gru.model import (
    VertebraGru,
    competition_loss,
    log_probabilities,
)
from tasks.rsna_cervical.layout import TARGETS
from tasks.rsna_cervical.metric import weighted_log_loss


def model(overall_head: bool) -> VertebraGru:
    return VertebraGru(
        "test_convnext",
        pretrained=False,
        pretrained_path=None,
        hidden=8,
        spatial_dropout=0.2,
        overall_head=overall_head,
    )


@pytest.mark.parametrize("overall_head", [False, True])
def test_outputs_one_logit_per_vertebra(overall_head):
    torch.manual_seed(0)
    logits, overall = model(overall_head).eval()(torch.rand(2, 7, 5, 3, 32, 32))
    assert logits.shape == (2, 7)
    assert (overall is not None) == overall_head
    if overall is not None:
        assert overall.shape == (2,)


def test_noisy_or_overall_is_one_minus_the_product():
    logits = torch.tensor([[0.0, -1.0, 2.0, -3.0, 0.5, -0.5, 1.0]])
    log_p, log_not_p = log_probabilities(logits, None)
    p = torch.sigmoid(logits)
    expected = 1 - torch.prod(1 - p)
    assert float(log_p[0, 7].exp()) == pytest.approx(float(expected), rel=1e-5)
    assert float(log_not_p[0, 7].exp()) == pytest.approx(float(1 - expected), rel=1e-5)
    torch.testing.assert_close(log_p[:, :7].exp(), p)


def test_loss_equals_the_competition_metric():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, size=(3, 8)).astype(np.float32)
    probabilities = rng.uniform(0.05, 0.95, size=(3, 8))
    log_p = torch.tensor(np.log(probabilities))
    log_not_p = torch.tensor(np.log1p(-probabilities))
    loss = competition_loss(log_p, log_not_p, torch.tensor(labels, dtype=torch.float64))
    metric = weighted_log_loss(
        labels.reshape(-1).astype(int),
        probabilities.reshape(-1),
        np.asarray(list(TARGETS) * 3),
        np.repeat(np.arange(3), 8),
    )
    assert float(loss) == pytest.approx(metric)


def test_gru_is_reinitialised():
    gru = model(False).gru
    weight = gru.weight_hh_l0.detach()
    hidden = weight.shape[1]
    # orthogonal: the (3 gates x hidden, hidden) recurrent matrix has orthonormal columns
    torch.testing.assert_close(weight.T @ weight, torch.eye(hidden), atol=1e-5, rtol=0)
    assert float(gru.bias_ih_l0.abs().sum()) == 0.0
