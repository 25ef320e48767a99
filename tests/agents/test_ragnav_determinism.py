"""RAGNav's retrieval must not depend on the process it runs in.

Regression: the semantic forest's parent summaries (:func:`navgym.agents.ragnav.forest.summarize`)
were built by iterating ``set(categories)``, whose order for strings changes with the process's
hash seed (``PYTHONHASHSEED``, random per process by default). ``Counter.most_common`` breaks ties
by insertion order, so which categories made the top 6, and their order, changed from one process
to the next; the summary's embedding then changed the forest stage's room weights
(``exp((s_cluster - s_best) / 0.1)``) and, on MultiGoalVLN val episodes 86 and 87, the retrieved
instance of an "in the <room>" sub-goal (docs/results/ragnav_runs: the retrieval benchmark and
the navigation run disagreed there).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from navgym.agents.ragnav.forest import summarize

#: Leaves whose categories tie in count (each seen from one leaf), more than ``top`` of them.
LEAVES = [["sofa", "tv monitor", "plant", "lamp", "picture", "cushion", "vase", "book"], ["sofa", "plant", "bowl", "chair"]]

SUMMARY_SCRIPT = """
import json, sys
from navgym.agents.ragnav.forest import summarize
print(json.dumps(summarize(json.loads(sys.argv[1]))))
"""

#: The agent's forest + retrieval path (RAGNavAgent.retrieve) on a synthetic two-room memory whose
#: nodes see tied categories, with the embedded MiniLM; prints the summaries and ranked candidates.
RETRIEVAL_SCRIPT = """
import json
import numpy as np
import torch
torch.set_num_threads(1)
from navgym.agents.reasoning import make_reasoner
from navgym.agents.ragnav.decompose import parse_instruction
from navgym.agents.ragnav.fingerprints import InstanceMemory
from navgym.agents.ragnav.forest import Cluster, build_forest
from navgym.agents.ragnav.retrieval import RetrievalOptions, Retriever
from navgym.agents.ragnav.topo_map import TopologicalMap

rooms = {  # x of the room's nodes -> instances seen there (id -> category)
    0.5: {1: "sofa", 2: "tv monitor", 3: "plant", 4: "lamp", 5: "picture", 6: "cushion", 7: "vase", 8: "book"},
    2.5: {9: "plant", 10: "sofa", 11: "chair", 12: "bowl", 13: "picture", 14: "lamp", 15: "vase"},
    20.5: {16: "stove", 17: "sink", 18: "plant", 19: "refrigerator", 20: "counter", 21: "cabinet", 22: "bowl"},
    22.5: {23: "plant", 24: "towel", 25: "toilet", 26: "mirror", 27: "shower", 28: "cabinet", 29: "sink"},
}
category = {i: c for seen in rooms.values() for i, c in seen.items()}
text = lambda i: "the " + category[i]
topo, memory = TopologicalMap(), InstanceMemory()
for x, seen in rooms.items():
    node = topo.node_at(np.array([x, 0.5]))
    for k, i in enumerate(seen):
        node.seen[i] = [3.0, 1.0]
        memory.add(i, np.array([[x + 0.1 * k, 1.0]]))
reasoner = make_reasoner("embedded")
nodes = [n for n in topo.nodes if n.seen]
for n in nodes:
    n.text = "From here one sees " + ", ".join(text(i) for i in n.seen) + "."
local = build_forest(np.array([n.position for n in nodes]), reasoner.embed([n.text for n in nodes]),
                     [[category[i] for i in n.seen] for n in nodes])
clusters = [Cluster(c.id, [nodes[k].id for k in c.leaves], c.summary) for c in local]
plan = parse_instruction("First go to the plant in the living room, then to the plant in the kitchen.")
results = Retriever(reasoner.embed, text, RetrievalOptions()).retrieve(plan, topo, memory, clusters)
print(json.dumps({"summaries": [c.summary for c in clusters],
                  "results": [[r.instance, [(i, n, float(s).hex()) for i, n, s in r.candidates]] for r in results]}))
"""


def _run(script: str, args: list[str], hash_seed: int) -> str:
    env = {**os.environ, "PYTHONHASHSEED": str(hash_seed), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-c", script, *args], env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip().splitlines()[-1]


def test_summary_is_canonical():
    assert summarize(LEAVES) == "An area with plant, sofa, book, bowl, chair, cushion."
    assert summarize([leaf[::-1] for leaf in LEAVES[::-1]]) == summarize(LEAVES)
    assert summarize([["bed", "bed", "lamp"], ["lamp"]]) == "An area with lamp, bed."  # once per leaf
    assert summarize([[], []]) == "An empty area."


def test_summary_does_not_depend_on_the_hash_seed():
    outputs = {_run(SUMMARY_SCRIPT, [json.dumps(LEAVES)], seed) for seed in range(4)}
    assert outputs == {json.dumps(summarize(LEAVES))}


@pytest.mark.slow
def test_forest_retrieval_is_identical_across_processes():
    pytest.importorskip("torch")
    a, b = (json.loads(_run(RETRIEVAL_SCRIPT, [], seed)) for seed in (0, 2))
    assert a["summaries"] == b["summaries"]
    assert a["results"] == b["results"]
    assert len(a["summaries"]) == 2 and all(r[0] is not None for r in a["results"])  # two rooms; the forest stage ran
