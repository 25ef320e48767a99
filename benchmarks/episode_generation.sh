#!/bin/bash
# Time ProcHouse episode generation of one checkout (the scenes are copied from the user cache, so
# only the episodes are generated). Compare two versions of the code with farm-bench, e.g.
#   git worktree add /tmp/before <old commit>
#   farm-bench -n 3 --warmup 0 --timeout 600 --vs "benchmarks/episode_generation.sh /tmp/before" -- benchmarks/episode_generation.sh .
# Usage: benchmarks/episode_generation.sh CODE_DIR [ENV_ID] [NUM_SCENES]  (python: $PYTHON or python)
set -euo pipefail
code=$(cd "$1" && pwd); env_id=${2:-ImageNav-ProcHouseNear-v0}; scenes=${3:-4}
cache=$(mktemp -d); trap 'rm -rf "$cache"' EXIT
users=$(${PYTHON:-python} -c "from navgym.core.paths import cache_dir; print(cache_dir())")
[ -d "$users/scenes" ] && cp -r "$users/scenes" "$cache/"
cd "$code" && NAVGYM_CACHE=$cache ${PYTHON:-python} -c "
import gymnasium as gym, navgym
assert navgym.__file__.startswith('$code'), navgym.__file__
gym.make('$env_id', split='train', num_scenes=$scenes).close()"
