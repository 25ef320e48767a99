#!/bin/bash
# usage: eval256.sh CHECKPOINT NAME LOGDIR [argmax]  -- evaluate CHECKPOINT on the 256 Near val episodes (40 houses, seed 0)
# into eval256/NAME_agent, and with sampled actions into eval256/NAME_agent_sampled unless "argmax" is given; logs in
# LOGDIR. Run from the repository root with the venv active (the session scripts call it).
C=$1; N=$2; L=$3
E=docs/results/rsrnav/eval256
A="--env ImageNav-ProcHouseNear-v0 --agent rsrnav --checkpoint $C --episodes 256 --env-option num_scenes=40 --no-maps --no-video --threads 1 --seed 0"
navgym evaluate $A --out $E/${N}_agent > $L/eval_${N}_agent.log 2>&1
[ "${4:-}" = argmax ] || navgym evaluate $A --agent-option deterministic=false --out $E/${N}_agent_sampled > $L/eval_${N}_agent_sampled.log 2>&1
