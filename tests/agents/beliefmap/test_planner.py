"""BeliefMapNav's planner: sector visibility, observation belief, distances, visiting order."""

from __future__ import annotations

import itertools
import math
import random
import signal

import numpy as np
import pytest

from navgym.agents.beliefmap.planner import (
    exact_order,
    expected_search_cost,
    observation_belief,
    optimize_order,
    pairwise_distances,
    sector_offsets,
    unreachable_penalty,
)
from navgym.errors import InvalidArgumentError

pytest.importorskip("simanneal")

CELL = 0.25


def _reference_belief(posterior, unknown, obstacle, frontier_cells, offsets, w, per_cell):
    """Python loops over every ray sample: the definition of observation_belief."""
    rows, cols = posterior.shape
    per_cell = np.broadcast_to(np.asarray(per_cell, dtype=float), posterior.shape)
    out = np.zeros((len(frontier_cells), offsets.shape[0]))
    for f, (r0, c0) in enumerate(frontier_cells):
        for d in range(offsets.shape[0]):
            seen = set()
            for ray in offsets[d]:
                for dr, dc in ray:
                    r, c = r0 + dr, c0 + dc
                    if not (0 <= r < rows and 0 <= c < cols):
                        continue
                    seen.add((r, c))
                    if obstacle[r, c]:
                        break
            out[f, d] = sum(posterior[r, c] + unknown[r, c] * per_cell[r, c] * w for r, c in seen)
    return out


# ---------------------------------------------------------------------------------------------
# sector_offsets
# ---------------------------------------------------------------------------------------------


def test_sector_offsets_shape_and_direction_convention():
    offsets = sector_offsets(90, 2.0, CELL, rays=5)
    assert offsets.shape == (4, 5, 15, 2)  # samples every half cell from 1 cell to 8 cells
    assert offsets.dtype == np.int64
    central = offsets[:, 2, -1]  # the farthest sample of each central ray
    assert central.tolist() == [[-8, 0], [0, -8], [8, 0], [0, 8]]  # 0 up, 90 left, 180 down, 270 right
    assert not (offsets == 0).all(axis=-1).any()  # the viewpoint's own cell is not in view
    assert np.abs(offsets).max() <= 8


def test_sector_offsets_four_directions_cover_all_around():
    offsets = sector_offsets(90, 2.0, CELL)
    assert offsets.shape[1] == math.ceil(math.radians(90) * 2.0 / (CELL / 2)) + 1
    covered = {tuple(o) for o in offsets.reshape(-1, 2).tolist()}
    ring = {(r, c) for r in range(-7, 8) for c in range(-7, 8) if 1.0 <= math.hypot(r, c) <= 7.5}
    assert ring <= covered


# ---------------------------------------------------------------------------------------------
# observation_belief
# ---------------------------------------------------------------------------------------------


def _empty(shape=(21, 21)):
    return np.zeros(shape), np.zeros(shape, dtype=bool), np.zeros(shape, dtype=bool)


def test_wall_stops_the_view_but_is_seen_itself():
    posterior, unknown, obstacle = _empty()
    posterior[3, 10] = 1.0  # behind the wall, straight up from the frontier
    posterior[6, 10] = 0.5  # on the wall
    offsets = sector_offsets(60, 3.0, CELL)
    frontier = np.array([[10, 10]])
    open_view, _ = observation_belief(posterior, unknown, obstacle, frontier, offsets)
    assert open_view[0] == pytest.approx(1.5)
    obstacle[6, :] = True
    walled, direction = observation_belief(posterior, unknown, obstacle, frontier, offsets)
    assert walled[0] == pytest.approx(0.5)
    assert direction[0] == 0


def test_unknown_cells_count_once_each_and_do_not_block():
    posterior, unknown, obstacle = _empty()
    unknown[12:15, 10] = True  # 3 unknown cells straight down
    posterior[16, 10] = 0.2  # behind them
    offsets = sector_offsets(60, 3.0, CELL, rays=1)
    p_obs, direction = observation_belief(posterior, unknown, obstacle, np.array([[10, 10]]), offsets, w_unobserved=0.01, unknown_voxels_per_cell=5)
    assert p_obs[0] == pytest.approx(0.2 + 3 * 5 * 0.01)
    assert direction[0] == 2  # 180 degrees: down
    per_column = np.zeros(posterior.shape)
    per_column[12:15, 10] = [1, 2, 4]  # unknown voxels per column
    p_obs, _ = observation_belief(posterior, unknown, obstacle, np.array([[10, 10]]), offsets, w_unobserved=0.1, unknown_voxels_per_cell=per_column)
    assert p_obs[0] == pytest.approx(0.2 + 7 * 0.1)


def test_max_over_directions_picks_the_direction_toward_the_belief():
    posterior, unknown, obstacle = _empty()
    posterior[9:12, 14:17] = 0.1  # right of the first frontier
    posterior[2, 5] = 0.05  # up-left of the second one
    offsets = sector_offsets(79, 2.5, CELL)
    frontiers = np.array([[10, 10], [6, 3]])
    p_obs, direction = observation_belief(posterior, unknown, obstacle, frontiers, offsets)
    assert direction.tolist() == [3, 0]  # 270 (right), 0 (up)
    assert p_obs[0] == pytest.approx(0.9)
    assert p_obs[1] == pytest.approx(0.05)


def test_each_cell_counts_once_however_many_rays_cross_it():
    posterior, unknown, obstacle = _empty()
    posterior[9, 10] = 1.0  # next to the frontier: every ray of direction 0 passes near it
    offsets = sector_offsets(120, 3.0, CELL, rays=200)
    p_obs, _ = observation_belief(posterior, unknown, obstacle, np.array([[10, 10]]), offsets)
    assert p_obs[0] == pytest.approx(1.0)


def test_matches_the_loop_definition_on_random_grids():
    rng = np.random.default_rng(0)
    offsets = sector_offsets(79, 2.0, CELL)
    for _ in range(3):
        shape = (17, 23)
        posterior = rng.random(shape) * (rng.random(shape) < 0.3)
        unknown = rng.random(shape) < 0.3
        obstacle = rng.random(shape) < 0.15
        per_cell = rng.integers(0, 6, shape)
        frontiers = np.array([[0, 0], [16, 22], [8, 11], [3, 19], [12, 2]])  # corners: rays leave the grid
        p_obs, direction = observation_belief(posterior, unknown, obstacle, frontiers, offsets, 0.05, per_cell)
        expected = _reference_belief(posterior, unknown, obstacle, frontiers, offsets, 0.05, per_cell)
        np.testing.assert_allclose(p_obs, expected.max(axis=1), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(expected[np.arange(len(frontiers)), direction], expected.max(axis=1))


def test_no_frontier_gives_empty_arrays():
    posterior, unknown, obstacle = _empty()
    p_obs, direction = observation_belief(posterior, unknown, obstacle, np.zeros((0, 2), dtype=int), sector_offsets(79, 2.0, CELL))
    assert p_obs.shape == (0,) and direction.shape == (0,)


# ---------------------------------------------------------------------------------------------
# pairwise_distances
# ---------------------------------------------------------------------------------------------


def test_distances_go_around_a_wall():
    traversable = np.ones((20, 20), dtype=bool)
    traversable[0:15, 10] = False  # a wall from the top, open below row 14
    cells = np.array([[2, 5], [2, 15], [2, 8]])
    dist = pairwise_distances(traversable, cells, CELL)
    # Down to (15, 9) (13 rows, 4 columns), two steps under the wall's end, up to (2, 15).
    detour = (2 * (9 + 4 * math.sqrt(2)) + 2) * CELL
    assert abs(dist[0, 1] - detour) < CELL
    assert dist[0, 1] > 2.5 * 10 * CELL  # far more than the 10 cells straight across
    assert dist[0, 2] == pytest.approx(3 * CELL)  # no wall in between: straight
    np.testing.assert_array_equal(dist, dist.T)
    np.testing.assert_array_equal(np.diag(dist), 0.0)


def test_diagonal_steps_and_unreachable_cells():
    traversable = np.ones((10, 10), dtype=bool)
    traversable[5:8, 5:8] = False
    traversable[6, 6] = True  # a pocket walled in
    dist = pairwise_distances(traversable, np.array([[0, 0], [3, 3], [6, 6], [0, 9]]), CELL)
    assert dist[0, 1] == pytest.approx(3 * math.sqrt(2) * CELL)
    assert dist[0, 3] == pytest.approx(9 * CELL)
    assert np.isinf(dist[0, 2]) and np.isinf(dist[2, 3]) and np.isinf(dist[2, 0])
    np.testing.assert_array_equal(dist, dist.T)


def test_no_squeezing_between_corners_and_given_cells_are_snapped():
    traversable = np.ones((3, 3), dtype=bool)
    traversable[0, 1] = traversable[1, 0] = False  # (0, 0) touches the rest only at a corner
    assert np.isinf(pairwise_distances(traversable, np.array([[0, 0], [1, 1]]), CELL)[0, 1])
    traversable = np.ones((3, 5), dtype=bool)
    traversable[1, 2] = False  # the cell asked for is untraversable: it still connects
    dist = pairwise_distances(traversable, np.array([[1, 0], [1, 2], [1, 4]]), 0.5)
    assert dist[0, 1] == pytest.approx(1.0) and dist[0, 2] == pytest.approx(2.0)


# ---------------------------------------------------------------------------------------------
# expected_search_cost, exact_order, optimize_order
# ---------------------------------------------------------------------------------------------

D0 = np.array([2.0, 5.0, 4.0])
DD = np.array([[0.0, 3.0, 6.0], [3.0, 0.0, 2.0], [6.0, 2.0, 0.0]])
P3 = np.array([0.5, 0.2, 0.3])


def test_expected_cost_by_hand():
    # Arrival after 2, 2 + 3, 2 + 3 + 2 metres; weighted by 0.5, 0.2, 0.3.
    assert expected_search_cost([0, 1, 2], D0, DD, P3) == pytest.approx(2 * 0.5 + 5 * 0.2 + 7 * 0.3)
    # After 4, 4 + 2, 4 + 2 + 3 metres; weighted by 0.3, 0.2, 0.5.
    assert expected_search_cost([2, 1, 0], D0, DD, P3) == pytest.approx(4 * 0.3 + 6 * 0.2 + 9 * 0.5)
    costs = {pi: expected_search_cost(pi, D0, DD, P3) for pi in itertools.permutations(range(3))}
    order, cost = exact_order(D0, DD, P3)
    assert tuple(order) == min(costs, key=costs.get) and cost == pytest.approx(min(costs.values()))
    assert optimize_order(D0, DD, P3) == (order, pytest.approx(cost))


def test_unreachable_distances_count_as_a_finite_penalty():
    d0 = np.array([2.0, np.inf, 4.0])
    D = DD.copy()
    D[1, :] = D[:, 1] = np.inf
    D[1, 1] = 0.0
    penalty = unreachable_penalty(d0, D)
    assert penalty == pytest.approx((3 + 1) * 6.0)
    assert expected_search_cost([1, 0, 2], d0, D, P3) == pytest.approx(penalty * 0.2 + 2 * penalty * 0.5 + (2 * penalty + 6) * 0.3)
    order, cost = optimize_order(d0, D, P3)
    assert order[-1] == 1 and math.isfinite(cost)


def _instance(rng, n):
    points = rng.random((n + 1, 2)) * 20.0
    dist = np.linalg.norm(points[:, None] - points[None], axis=-1) * (1 + 0.3 * rng.random((n + 1, n + 1)))
    dist = np.minimum(dist, dist.T)
    np.fill_diagonal(dist, 0.0)
    p = rng.exponential(1.0, n) * (rng.random(n) < 0.7) + 0.01
    return dist[0, 1:], dist[1:, 1:], p


def test_annealing_matches_brute_force_on_random_instances():
    rng = np.random.default_rng(2024)
    for k in range(30):
        d0, D, p = _instance(rng, 6)
        best, best_cost = exact_order(d0, D, p)
        order, cost = optimize_order(d0, D, p, seed=k)
        assert sorted(order) == list(range(6))
        assert cost == pytest.approx(expected_search_cost(order, d0, D, p))
        assert cost <= best_cost * 1.01, (k, order, best)


def test_small_cases():
    assert optimize_order(np.zeros(0), np.zeros((0, 0)), np.zeros(0)) == ([], 0.0)
    assert optimize_order(np.array([3.0]), np.zeros((1, 1)), np.array([0.5])) == ([0], pytest.approx(1.5))
    assert exact_order(np.zeros(0), np.zeros((0, 0)), np.zeros(0)) == ([], 0.0)
    order, cost = optimize_order(np.array([1.0, 9.0]), np.array([[0.0, 8.0], [8.0, 0.0]]), np.array([0.1, 0.9]))
    assert order == [0, 1] and cost == pytest.approx(1 * 0.1 + 9 * 0.9)
    # No belief anywhere: every order costs 0.
    order, cost = optimize_order(*_instance(np.random.default_rng(1), 6)[:2], np.zeros(6))
    assert sorted(order) == list(range(6)) and cost == 0.0


def test_deterministic_for_a_seed_and_leaves_global_state_alone():
    d0, D, p = _instance(np.random.default_rng(7), 12)
    random.seed(1234)
    state = random.getstate()
    handler = signal.getsignal(signal.SIGINT)
    first = optimize_order(d0, D, p, seed=3)
    assert random.getstate() == state
    assert signal.getsignal(signal.SIGINT) is handler
    assert optimize_order(d0, D, p, seed=3) == first
    assert first[1] == pytest.approx(expected_search_cost(first[0], d0, D, p))


def test_warm_start_never_gets_worse_and_may_be_partial():
    d0, D, p = _instance(np.random.default_rng(8), 9)
    previous, previous_cost = optimize_order(d0, D, p, seed=0, steps=2000)
    order, cost = optimize_order(d0, D, p, seed=1, initial=previous, steps=10)
    assert cost <= previous_cost + 1e-9
    order, cost = optimize_order(d0, D, p, initial=previous[:4])
    assert sorted(order) == list(range(9))


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------

GRID = np.zeros((5, 5))
MASK = np.zeros((5, 5), dtype=bool)
OFFSETS = sector_offsets(79, 1.0, CELL)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: sector_offsets(0, 2.0, CELL), "hfov_deg"),
        (lambda: sector_offsets(400, 2.0, CELL), "hfov_deg"),
        (lambda: sector_offsets(79, 0.1, CELL), "max_range"),
        (lambda: sector_offsets(79, 2.0, -1.0), "cell_size"),
        (lambda: sector_offsets(79, 2.0, CELL, directions_deg=()), "directions_deg"),
        (lambda: sector_offsets(79, 2.0, CELL, rays=0), "rays"),
        (lambda: observation_belief(np.zeros(5), MASK, MASK, [[1, 1]], OFFSETS), "posterior"),
        (lambda: observation_belief(GRID - 1, MASK, MASK, [[1, 1]], OFFSETS), "posterior"),
        (lambda: observation_belief(GRID, MASK[:4], MASK, [[1, 1]], OFFSETS), "unknown"),
        (lambda: observation_belief(GRID, MASK, MASK[:, :4], [[1, 1]], OFFSETS), "obstacle"),
        (lambda: observation_belief(GRID, MASK, MASK, [[1, 7]], OFFSETS), "frontier_cells"),
        (lambda: observation_belief(GRID, MASK, MASK, [[1.5, 1]], OFFSETS), "frontier_cells"),
        (lambda: observation_belief(GRID, MASK, MASK, [[1, 1]], OFFSETS[0]), "offsets"),
        (lambda: observation_belief(GRID, MASK, MASK, [[1, 1]], OFFSETS, w_unobserved=-1), "w_unobserved"),
        (lambda: observation_belief(GRID, MASK, MASK, [[1, 1]], OFFSETS, unknown_voxels_per_cell=np.ones(3)), "unknown_voxels_per_cell"),
        (lambda: pairwise_distances(np.ones(5, dtype=bool), [[0, 0]], CELL), "traversable"),
        (lambda: pairwise_distances(MASK, [[0, 9]], CELL), "cells"),
        (lambda: pairwise_distances(MASK, [[0, 0]], 0.0), "cell_size"),
        (lambda: expected_search_cost([0, 1], D0, DD, P3), "order"),
        (lambda: expected_search_cost([0, 1, 1], D0, DD, P3), "order"),
        (lambda: expected_search_cost([0, 1, 2], D0[:2], DD, P3), "d0"),
        (lambda: expected_search_cost([0, 1, 2], D0, DD[:2], P3), "D"),
        (lambda: expected_search_cost([0, 1, 2], D0, -DD, P3), "D"),
        (lambda: expected_search_cost([0, 1, 2], D0, DD, -P3), "p"),
        (lambda: exact_order(np.zeros(9), np.zeros((9, 9)), np.ones(9)), "optimize_order"),
        (lambda: optimize_order(D0, DD, P3, initial=[0, 5]), "initial"),
        (lambda: optimize_order(D0, DD, P3, steps=0), "steps"),
        (lambda: optimize_order(D0, DD, P3, t_max=1.0, t_min=2.0), "t_max"),
        (lambda: optimize_order(D0, DD, P3, t_min=-1.0), "t_min"),
        (lambda: optimize_order(D0, DD, P3, seed=1.5), "seed"),
    ],
)
def test_bad_input_names_the_parameter(call, name):
    with pytest.raises(InvalidArgumentError, match=name):
        call()
