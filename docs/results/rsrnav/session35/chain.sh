#!/bin/bash
# usage: [RUNS=runs/s35] [CLONE_ONLY=1] chain.sh SEED  -- the bfloat16 8-pass direction recipe (clone, PPO, evals) for one
# seed; CLONE_ONLY=1 stops after the clone and its policy-only export (RUNS: the run folder, runs/s35 by default)
set -x
S=$1
D=${RUNS:-runs/s35}
cd "$(dirname "$0")/../../../.." && mkdir -p $D  # the repository root; run it with the venv active
export OMP_NUM_THREADS=1
R=$D/pipeg8p_bf16_direction_s$S
P=$D/frozen_bf16pose_s$S
/usr/bin/time -v navgym train --head direction --model-option cue_norm=true --model-option precision=bfloat16 --env ImageNav-ProcHouseNear-v0 --timesteps 0 --seed $S \
  --pretrain bc --bc-teacher view --bc-epochs 8 --bc-freeze encoder --pose-episodes 6000 --pose-env-option num_scenes=240 --pose-val-episodes 256 \
  --pose-group 8 --pose-epochs 8 --pose-max-minutes 90 --env-option num_scenes=80 --env-option sim_options='{"render_backend": "raster"}' \
  --eval-env-option num_scenes=40 --model-option n_lstm_layers=1 --demo-workers 1 --threads 1 --update-threads 1 --eval-episodes 0 --no-progress --out $R > $R.log 2>&1
test -f $R/pretrain.zip || exit 1
python -c "from navgym.agents.rsrnav.model import export_policy; export_policy('$R/pretrain.zip', '$R/policy.zip')"
[ -n "${CLONE_ONLY:-}" ] && exit 0
/usr/bin/time -v navgym train --head direction --env ImageNav-ProcHouseNear-v0 --timesteps 140800 --n-envs 8 --threads 1 --update-threads 1 \
  --ppo-freeze encoder --init-from $R/policy.zip \
  --model-option n_lstm_layers=1 --model-option cue_norm=true --model-option ent_coef=0 --model-option n_steps=128 \
  --model-option batch_size=512 --model-option precision=bfloat16 --model-option n_epochs=1 \
  --ppo-critic-warmup 8192 --ppo-actor-warmup 16384 --env-option num_scenes=80 --env-option sim_options='{"render_backend": "raster"}' \
  --eval-episodes 0 --checkpoint-every 16384 --seed $S --no-progress --env-threads 1 --max-minutes 60 --out $P > $P.log 2>&1
for spec in "$P/checkpoint.zip ppo_e8_t1_direction_bf16pose_half_s$S" "$R/policy.zip pipeg8p_bf16_direction_s$S"; do
  set -- $spec
  bash docs/results/rsrnav/eval256.sh $1 $2 $D
done
echo CHAIN_DONE
