#!/bin/bash
# usage: [UPDATES=f32_2ep] ppo_seeds.sh CLONE_ZIP NAME SEED...  -- PPO (the bfloat16 recipe's PPO stage: encoder frozen,
# 140,800 steps; one bfloat16 epoch per update, or with UPDATES=f32_2ep two float32 epochs, the model's default, as in the
# grouped recipe's first PPO runs) from one fixed clone with several PPO seeds, each evaluated on the 256 Near val episodes
# (argmax, sampled)
set -x
C=$1; N=$2; shift 2
case "${UPDATES:-bf16_1ep}" in
  bf16_1ep) U="--model-option precision=bfloat16 --model-option n_epochs=1"; T=frozen_bf16_1ep ;;
  f32_2ep) U=""; T=frozen_f32_2ep ;;
  *) echo "UPDATES=$UPDATES: give bf16_1ep or f32_2ep" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/../../../.." && mkdir -p runs/s36  # the repository root; run it with the venv active
export OMP_NUM_THREADS=1
for S in "$@"; do
  P=runs/s36/ppo_${T}_${N}_ppo$S
  /usr/bin/time -v navgym train --head direction --env ImageNav-ProcHouseNear-v0 --timesteps 140800 --n-envs 8 --threads 1 --update-threads 1 \
    --ppo-freeze encoder --init-from $C \
    --model-option n_lstm_layers=1 --model-option cue_norm=true --model-option ent_coef=0 --model-option n_steps=128 \
    --model-option batch_size=512 $U \
    --ppo-critic-warmup 8192 --ppo-actor-warmup 16384 --env-option num_scenes=80 --env-option sim_options='{"render_backend": "raster"}' \
    --eval-episodes 0 --checkpoint-every 16384 --seed $S --no-progress --env-threads 1 --max-minutes 60 --out $P > $P.log 2>&1
  test -f $P/checkpoint.zip || continue
  O=ppo_e8_t1_direction_${T}_half_${N}_ppo$S
  bash docs/results/rsrnav/eval256.sh $P/checkpoint.zip $O runs/s36
done
echo SEEDS_DONE
