"""PPO with part of RSRNav's encoder held fixed (``TrainArgs.ppo_freeze``,
``RSRNavEncoder.freeze``): the same features as the unfrozen encoder, no gradient into the frozen
part, the rollout's features reused by the update, and a real BC -> PPO run that leaves exactly
the frozen weights as cloned."""

from __future__ import annotations

import copy

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="RSRNav needs torch (pip install navgym[rl])")
pytest.importorskip("sb3_contrib", reason="RSRNav needs sb3-contrib (pip install navgym[rl])")

from gymnasium import spaces  # noqa: E402

from navgym.agents.rsrnav.encoders import FREEZE_PARTS, RSRNavEncoder  # noqa: E402

ENV_ID = "ImageNav-ProcHouseEasy-v0"
TINY_ENV = {"num_scenes": 1, "episodes_per_scene": 4}
TINY_MODEL = {"n_steps": 16, "batch_size": 32, "n_epochs": 2}
SPACE = spaces.Dict({key: spaces.Box(0, 255, (3, 64, 64), np.uint8) for key in ("rgb", "imagegoal")})


def _batch(seed: int = 0) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    goals = torch.rand(2, 3, 64, 64, generator=generator)
    # a rollout's batch: few distinct goals, one per episode
    return {"rgb": torch.rand(6, 3, 64, 64, generator=generator), "imagegoal": goals[[0, 0, 0, 1, 1, 1]]}


class _CountingTrunk(torch.nn.Module):
    def __init__(self, trunk):
        super().__init__()
        self.inner, self.images = trunk, 0
        self.out_channels = trunk.out_channels

    def forward(self, x):
        self.images += x.shape[0]
        return self.inner(x)


@pytest.mark.parametrize("head", ["direction", "dense"])
def test_frozen_trunk_gives_the_same_features_and_head_gradients(head):
    torch.manual_seed(0)
    plain = RSRNavEncoder(SPACE, head=head, cue_norm=True)
    frozen = copy.deepcopy(plain)
    frozen.freeze("trunk")
    assert frozen.frozen == "trunk"
    assert not any(p.requires_grad for p in frozen.trunk.parameters())
    assert all(p.requires_grad for name, p in frozen.named_parameters() if not name.startswith("trunk."))
    obs = _batch()
    expected, got = plain(obs), frozen(obs)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)
    expected.square().sum().backward()
    got.square().sum().backward()
    for (name, p), q in zip(plain.named_parameters(), frozen.parameters()):
        if name.startswith("trunk."):
            assert q.grad is None, name
        else:
            torch.testing.assert_close(q.grad, p.grad, rtol=1e-4, atol=1e-6, msg=name)


def test_the_update_reads_the_trunk_features_acting_computed():
    torch.manual_seed(1)
    encoder = RSRNavEncoder(SPACE, head="direction")
    encoder.freeze("trunk")
    encoder.trunk = _CountingTrunk(encoder.trunk)
    obs = _batch(1)
    with torch.no_grad():  # acting, one step of each of the six "envs"
        for i in range(6):
            encoder({key: value[i : i + 1] for key, value in obs.items()})
    acted = encoder.trunk.images
    assert acted == 6 + 2  # each observation once, each goal once
    encoder(obs).sum().backward()  # the update: no trunk pass at all
    assert encoder.trunk.images == acted
    encoder.load_state_dict(copy.deepcopy(encoder.state_dict()))  # new weights: the cache is emptied
    encoder(obs)
    assert encoder.trunk.images == acted + 8
    encoder.freeze("trunk", rollout_size=3)
    assert encoder._frozen_capacity == encoder.FROZEN_CACHE_SIZE
    encoder._frozen_capacity = 4  # a cache too small for the batch: misses are computed again, same values
    small = encoder(obs)
    assert len(encoder._frozen_cache) == 4 and encoder.trunk.images == acted + 16
    torch.testing.assert_close(encoder(obs), small, rtol=0, atol=0)
    assert encoder.trunk.images == acted + 16 + 4  # the 4 kept were reused
    encoder.freeze("trunk", rollout_size=5000)
    assert encoder._frozen_capacity == 10_000


def test_frozen_encoder_gives_constant_features_and_can_be_undone():
    torch.manual_seed(2)
    plain = RSRNavEncoder(SPACE, head="direction", cue_norm=True)
    frozen = copy.deepcopy(plain)
    frozen.freeze("encoder")
    assert not any(p.requires_grad for p in frozen.parameters())
    obs = _batch(2)
    got = frozen(obs)
    assert not got.requires_grad
    torch.testing.assert_close(got, plain(obs), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(frozen(obs), got, rtol=0, atol=0)  # from the cache
    assert len(frozen._frozen_cache) == 6
    frozen.freeze("none")
    assert all(p.requires_grad for p in frozen.parameters()) and frozen(obs).requires_grad
    with pytest.raises(ValueError, match="part='all'"):
        frozen.freeze("all")
    assert FREEZE_PARTS == ("none", "trunk", "encoder")


@pytest.mark.parametrize("part", ["trunk", "encoder"])
def test_ppo_from_a_clone_leaves_exactly_the_frozen_weights(tmp_path, part):
    """BC, then PPO with ppo_freeze: the frozen weights are bit-identical to the clone's, the
    rest of the policy moved (plain PPO moves the trunk too: test_imitation's warm-up test)."""
    from navgym.agents.rsrnav.model import read_state_dicts
    from navgym.training import train

    common = dict(head="dense", env_id=ENV_ID, n_envs=1, env_kwargs=TINY_ENV, progress=False, seed=3, demo_workers=1, eval_episodes=0)
    train(**common, model=TINY_MODEL, out=tmp_path / "bc", timesteps=0, pretrain="bc", demos=2, bc_epochs=1)
    start = read_state_dicts(tmp_path / "bc" / "pretrain.zip")["policy"]
    tuned = {**TINY_MODEL, "learning_rate": 1e-3, "ent_coef": 0.0}
    result = train(**common, model=tuned, timesteps=32, init_from=tmp_path / "bc" / "pretrain.zip", out=tmp_path / part, ppo_freeze=part)
    assert result.num_timesteps == 32
    after = read_state_dicts(tmp_path / part / "checkpoint.zip")["policy"]
    prefix = "features_extractor." + ("trunk." if part == "trunk" else "")
    frozen = [k for k in start if k.startswith(prefix) and start[k].is_floating_point()]
    trained = [k for k in start if not k.startswith("features_extractor.") and start[k].is_floating_point()]
    assert frozen and trained
    assert all(torch.equal(start[k], after[k]) for k in frozen)
    assert not all(torch.equal(start[k], after[k]) for k in trained)
    if part == "trunk":  # the input layer still trains
        projection = [k for k in start if k.startswith("features_extractor.projection.")]
        assert not all(torch.equal(start[k], after[k]) for k in projection)


def test_ppo_freeze_is_checked_and_passed_by_the_cli(tmp_path, train_cli):
    from navgym.training import TrainArgs

    with pytest.raises(ValueError, match="ppo_freeze='head'.*'trunk', 'encoder'"):
        TrainArgs(ppo_freeze="head", out=tmp_path / "bad")
    _check_freeze_option(train_cli, ["train", "--out", str(tmp_path / "run"), "--timesteps", "64", "--no-progress"], "ppo_freeze", "encoder")


def _check_freeze_option(train_cli, common: list[str], name: str, part: str) -> None:
    """``--<name>`` reaches TrainArgs as given (``part``), defaults to ``none``, and a bad part exits 2 naming it."""
    invoke, seen = train_cli
    option = "--" + name.replace("_", "-")
    result = invoke([*common, option, part])
    assert result.exit_code == 130, result.output
    assert getattr(seen[-1], name) == part
    invoke(common)
    assert getattr(seen[-1], name) == "none"
    result = invoke([*common, option, "everything"])
    assert result.exit_code == 2 and f"{name}='everything'" in result.output


@pytest.mark.parametrize("part", ["trunk", "encoder"])
def test_bc_freeze_clones_on_top_of_a_given_encoder_without_changing_it(tmp_path, part):
    """BC (and a DAgger round) with bc_freeze from init_from's weights: the frozen part stays
    bit-identical to the start, the rest learns, and the saved policy is unfrozen again (a
    following PPO with ppo_freeze='none' trains the encoder)."""
    from navgym.agents.rsrnav.model import read_state_dicts
    from navgym.training import train

    common = dict(head="dense", env_id=ENV_ID, n_envs=1, env_kwargs=TINY_ENV, model=TINY_MODEL, progress=False, seed=5, demo_workers=1, eval_episodes=0)
    train(**common, out=tmp_path / "start", timesteps=0, pretrain="bc", demos=2, bc_epochs=1)
    start = read_state_dicts(tmp_path / "start" / "pretrain.zip")["policy"]
    result = train(**common, out=tmp_path / part, timesteps=16, pretrain="dagger", demos=2, bc_epochs=2, dagger_rounds=1,
                   dagger_episodes=1, dagger_epochs=1, init_from=tmp_path / "start" / "pretrain.zip", bc_freeze=part, bc_aux_coef=0.5)
    cloned = read_state_dicts(tmp_path / part / "pretrain.zip")["policy"]
    prefix = "features_extractor." + ("trunk." if part == "trunk" else "")
    frozen = [k for k in start if k.startswith(prefix) and start[k].is_floating_point()]
    trained = [k for k in start if k.startswith("lstm_actor.") or k.startswith("action_net.")]
    assert frozen and trained
    assert all(torch.equal(start[k], cloned[k]) for k in frozen)
    assert not all(torch.equal(start[k], cloned[k]) for k in trained)
    # PPO after it (ppo_freeze='none') trains the encoder again.
    assert result.num_timesteps == 16
    after = read_state_dicts(tmp_path / part / "checkpoint.zip")["policy"]
    assert not all(torch.equal(cloned[k], after[k]) for k in frozen)


def test_bc_freeze_is_checked_and_passed_by_the_cli(tmp_path, train_cli):
    from navgym.training import TrainArgs

    with pytest.raises(ValueError, match="bc_freeze='head'.*'trunk', 'encoder'"):
        TrainArgs(bc_freeze="head", pretrain="bc", out=tmp_path / "bad")
    with pytest.raises(ValueError, match="bc_freeze='encoder'.*pretrain=None.*pretrain='bc'"):
        TrainArgs(bc_freeze="encoder", out=tmp_path / "bad")
    common = ["train", "--out", str(tmp_path / "run"), "--timesteps", "64", "--no-progress", "--pretrain", "bc"]
    _check_freeze_option(train_cli, common, "bc_freeze", "trunk")


def test_freezing_a_random_encoder_is_warned_about():
    import warnings

    import pytest

    from navgym.training.args import TrainArgs

    with pytest.warns(UserWarning, match=r"ppo_freeze='encoder' with neither pretrain nor init_from holds the randomly initialised encoder"):
        TrainArgs(ppo_freeze="encoder")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        TrainArgs(ppo_freeze="encoder", pretrain="bc")  # cloned first: no warning
        TrainArgs(ppo_freeze="none")
