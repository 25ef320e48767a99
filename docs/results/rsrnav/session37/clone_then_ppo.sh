#!/bin/bash
# usage: clone_then_ppo.sh SEED PPO_SEED...  -- the bfloat16 recipe's clone (session35/chain.sh's first stage, unchanged)
# for one seed, then PPO with two float32 epochs per update from it (session36/ppo_seeds.sh with UPDATES=f32_2ep) under
# each PPO seed, each evaluated on the 256 Near val episodes; last, the clone itself (argmax)
set -x
S=$1; shift
cd "$(dirname "$0")/../../../.." && mkdir -p runs/s37  # the repository root; run it with the venv active
export OMP_NUM_THREADS=1
R=runs/s37/pipeg8p_bf16_direction_s$S
/usr/bin/time -v navgym train --head direction --model-option cue_norm=true --model-option precision=bfloat16 --env ImageNav-ProcHouseNear-v0 --timesteps 0 --seed $S \
  --pretrain bc --bc-teacher view --bc-epochs 8 --bc-freeze encoder --pose-episodes 6000 --pose-env-option num_scenes=240 --pose-val-episodes 256 \
  --pose-group 8 --pose-epochs 8 --pose-max-minutes 90 --env-option num_scenes=80 --env-option sim_options='{"render_backend": "raster"}' \
  --eval-env-option num_scenes=40 --model-option n_lstm_layers=1 --demo-workers 1 --threads 1 --update-threads 1 --eval-episodes 0 --no-progress --out $R > $R.log 2>&1
test -f $R/pretrain.zip || exit 1
python -c "from navgym.agents.rsrnav.model import export_policy; export_policy('$R/pretrain.zip', '$R/policy.zip')"
UPDATES=f32_2ep bash docs/results/rsrnav/session36/ppo_seeds.sh $R/policy.zip bf16s$S "$@"
E=docs/results/rsrnav/eval256
O=pipeg8p_bf16_direction_s${S}_rebuilt
navgym evaluate --env ImageNav-ProcHouseNear-v0 --agent rsrnav --checkpoint $R/policy.zip --episodes 256 --env-option num_scenes=40 --no-maps --no-video --threads 1 --seed 0 --out $E/${O}_agent > runs/s37/eval_${O}_agent.log 2>&1
echo CLONE_PPO_DONE
