#!/bin/bash
# usage: continue_full.sh RUN...  -- continue PPO runs of session36/ppo_seeds.sh (140,800 steps) to the full 281,600
# steps: each run folder copied (runs/s36/ppo_frozen_f32_2ep_<NAME>_ppo<S> -> runs/s38/..._full_...), train() resumed
# with its own train_args.json, then evaluated on the 256 Near val episodes (argmax, sampled)
set -x
cd "$(dirname "$0")/../../../.." && mkdir -p runs/s38  # the repository root; run it with the venv active
export OMP_NUM_THREADS=1
for RUN in "$@"; do
  B=$(basename $RUN)                      # ppo_frozen_f32_2ep_<NAME>_ppo<S>
  P=runs/s38/${B/_f32_2ep_/_f32_2ep_full_}
  test -f $RUN/checkpoint.zip || { echo "$RUN has no checkpoint.zip" >&2; continue; }
  rm -rf $P && cp -r $RUN $P
  /usr/bin/time -v python -c "import json, sys; from navgym.training import train; a = json.load(open('$P/train_args.json')); \
a.update(out='$P', timesteps=281_600, resume=True); train(**a)" > $P.log 2>&1
  T=${B#ppo_frozen_f32_2ep_}               # <NAME>_ppo<S>
  O=ppo_e8_t1_direction_frozen_f32_2ep_full_$T
  bash docs/results/rsrnav/eval256.sh $P/checkpoint.zip $O runs/s38
done
echo FULL_DONE
