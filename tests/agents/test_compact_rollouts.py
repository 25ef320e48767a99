"""RSRNav's compact rollout buffer (``navgym.agents.rsrnav.policy``): image minibatches without
the padding rows, and the same PPO updates as sb3-contrib's buffer."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="RSRNav needs torch (pip install navgym[rl])")
pytest.importorskip("sb3_contrib", reason="RSRNav needs sb3-contrib (pip install navgym[rl])")

from sb3_contrib.common.recurrent.buffers import RecurrentDictRolloutBuffer  # noqa: E402

from navgym.agents.rsrnav.model import RSRNavConfig, build_model  # noqa: E402
from navgym.agents.rsrnav.policy import REAL_ROWS_KEY, CompactRolloutBuffer, RSRNavLstmPolicy, use_compact_rollouts  # noqa: E402
from navgym.training import TrainArgs, make_vec_env  # noqa: E402

ENV_ID = "ImageNav-ProcHouseEasy-v0"
TINY_ENV = {"num_scenes": 1, "episodes_per_scene": 4}


def _model(tmp_path, compact: bool, privileged: bool = False, freeze: str = "none"):
    # short episodes (time limit 12) so the minibatches hold several padded sequences
    args = TrainArgs(env_id=ENV_ID, n_envs=1, out=tmp_path / "run", env_kwargs={**TINY_ENV, "max_episode_steps": 12},
                     model={"n_steps": 48, "batch_size": 16, "n_epochs": 2, "privileged_critic": privileged, "base_channels": 8})
    config = args.config()
    model = build_model(config, make_vec_env(args), seed=3)
    if freeze != "none":
        args.trainer.freeze(model, freeze)
    if not compact:
        old = model.rollout_buffer
        model.rollout_buffer = RecurrentDictRolloutBuffer(old.buffer_size, old.observation_space, old.action_space, old.hidden_state_shape,
                                                          old.device, gamma=old.gamma, gae_lambda=old.gae_lambda, n_envs=old.n_envs)
    return model


@pytest.mark.parametrize("privileged,freeze", [(False, "none"), (True, "encoder")])
def test_compact_minibatches_give_the_same_updates(tmp_path, privileged, freeze):
    torch.set_num_threads(1)
    models = []
    for name, compact in (("a", True), ("b", False)):  # built and trained one after the other: the seed sets global RNGs
        model = _model(tmp_path / name, compact, privileged, freeze)
        if compact:
            start = [p.detach().clone() for p in model.policy.parameters()]
        model.learn(48 * 2)
        models.append(model)
    compact, padded = models
    assert isinstance(compact.rollout_buffer, CompactRolloutBuffer) and isinstance(compact.policy, RSRNavLstmPolicy)
    moved = False
    for (name, a), b, s in zip(compact.policy.named_parameters(), padded.policy.parameters(), start):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6, msg=name)
        moved |= not torch.equal(a, s)
    assert moved, "PPO changed no parameter: the test compares nothing"
    np.testing.assert_array_equal(compact.rollout_buffer.observations["rgb"], padded.rollout_buffer.observations["rgb"])


def test_a_compact_minibatch_holds_only_the_real_rows(tmp_path):
    model = _model(tmp_path, True)
    model.learn(48)
    sizes = []
    for samples in model.rollout_buffer.get(16):
        real = samples.observations[REAL_ROWS_KEY]
        assert real.dtype == torch.bool and real.shape == samples.mask.shape
        assert int(real.sum()) == 16 == samples.observations["rgb"].shape[0] == samples.observations["imagegoal"].shape[0]
        assert samples.observations["rgb"].dtype == torch.uint8
        sizes.append(real.shape[0])
    assert max(sizes) > 16, "no minibatch had padding: the episodes were too long for this test"


def test_compact_batches_need_the_navgym_policy(tmp_path):
    model = _model(tmp_path, True)
    model.policy.__class__ = RSRNavLstmPolicy.__mro__[1]  # sb3-contrib's MultiInputLstmPolicy
    with pytest.raises(TypeError, match="RSRNavLstmPolicy"):
        use_compact_rollouts(model)


def test_the_policy_takes_padded_batches_unchanged(tmp_path):
    """Acting and behaviour cloning hand the policy ordinary (padded or single-step) batches."""
    model = _model(tmp_path, True)
    policy = model.policy
    obs = {key: torch.randint(0, 256, (5, *space.shape), dtype=torch.uint8) for key, space in policy.observation_space.spaces.items()}
    obs["rgb"][1] = 0
    obs["imagegoal"][1] = 0  # a padding row
    policy.set_training_mode(True)
    full = policy.extract_features(obs)
    real = torch.tensor([True, False, True, True, True])
    compact = {key: value[real] for key, value in obs.items()}
    compact[REAL_ROWS_KEY] = real
    torch.testing.assert_close(policy.extract_features(compact), full)
    assert torch.equal(full[1], torch.zeros_like(full[1]))
    compact["rgb"] = compact["rgb"][:3]
    with pytest.raises(ValueError, match="rgb"):
        policy.extract_features(compact)


def test_config_builds_the_navgym_policy():
    assert issubclass(RSRNavConfig().policy_class(), RSRNavLstmPolicy)
    assert issubclass(RSRNavConfig(privileged_critic=True).policy_class(), RSRNavLstmPolicy)


@pytest.mark.parametrize("layers", [1, 2])
def test_one_lstm_call_over_sequences_that_reset_only_first(layers):
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(5, 4, num_layers=layers)
    n_seq, length = 3, 6
    features = torch.randn(n_seq * length, 5, requires_grad=True)
    states = (torch.randn(layers, n_seq, 4), torch.randn(layers, n_seq, 4))
    starts = torch.zeros(n_seq, length)
    starts[[0, 2], 0] = 1.0  # sequences 0 and 2 begin episodes; sequence 1 continues the stored state
    parent = RSRNavLstmPolicy.__mro__[1]._process_sequence
    expected, expected_states = parent(features, states, starts.flatten(), lstm)
    got, got_states = RSRNavLstmPolicy._process_sequence(features, states, starts.flatten(), lstm)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)
    for a, b in zip(got_states, expected_states):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    (grad_got,) = torch.autograd.grad(got.square().sum(), features)
    (grad_expected,) = torch.autograd.grad(expected.square().sum(), features)
    torch.testing.assert_close(grad_got, grad_expected, rtol=1e-5, atol=1e-6)
    starts[1, 3] = 1.0  # a reset mid-sequence: sb3-contrib's step loop, the same values
    torch.testing.assert_close(RSRNavLstmPolicy._process_sequence(features, states, starts.flatten(), lstm)[0],
                               parent(features, states, starts.flatten(), lstm)[0])


@pytest.mark.parametrize("freeze", ["none", "encoder"])
def test_uint8_images_give_the_features_of_converted_ones(tmp_path, freeze):
    """The policy hands uint8 images to the encoder unconverted; the features (and the frozen
    cache's hits) are those of SB3's float conversion."""
    model = _model(tmp_path, True, freeze=freeze)
    policy = model.policy
    policy.set_training_mode(False)
    obs = {key: torch.randint(0, 256, (3, *space.shape), dtype=torch.uint8) for key, space in policy.observation_space.spaces.items()}
    with torch.no_grad():
        raw = policy.extract_features(obs)
        converted = policy.extract_features({key: value.float() for key, value in obs.items()})  # float [0, 255]: SB3 divides
        again = policy.extract_features(obs)  # frozen: read from the cache
        direct = policy.features_extractor({key: value.float() / 255.0 for key, value in obs.items()})
    torch.testing.assert_close(raw, converted, rtol=0, atol=0)
    torch.testing.assert_close(again, raw, rtol=0, atol=0)
    torch.testing.assert_close(direct, raw, rtol=0, atol=0)
    assert raw.dtype == torch.float32
