#!/bin/bash
# usage: clone_then_ppo.sh SEED PPO_SEED...  -- the bfloat16 recipe's clone (session35/chain.sh's first stage, unchanged,
# into runs/s37) for one seed, then PPO with two float32 epochs per update from it (session36/ppo_seeds.sh with
# UPDATES=f32_2ep) under each PPO seed, each evaluated on the 256 Near val episodes; last, the clone itself (argmax)
set -x
S=$1; shift
cd "$(dirname "$0")/../../../.." && mkdir -p runs/s37  # the repository root; run it with the venv active
R=runs/s37/pipeg8p_bf16_direction_s$S
RUNS=runs/s37 CLONE_ONLY=1 bash docs/results/rsrnav/session35/chain.sh $S
test -f $R/policy.zip || exit 1
export OMP_NUM_THREADS=1
UPDATES=f32_2ep bash docs/results/rsrnav/session36/ppo_seeds.sh $R/policy.zip bf16s$S "$@"
O=pipeg8p_bf16_direction_s${S}_rebuilt
bash docs/results/rsrnav/eval256.sh $R/policy.zip $O runs/s37 argmax
echo CLONE_PPO_DONE
