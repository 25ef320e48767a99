"""RAGNav (retrieval-augmented multi-goal navigation, ../shared/papers/ragnav.txt §3) for MultiGoalVLN.

Pieces: :mod:`.decompose` (instruction -> sub-tasks with spatial / temporal dependencies),
:mod:`.fingerprints` (what each topological node sees, as text), :mod:`.topo_map` (key-pose nodes,
edges under 2 m, Dijkstra travel costs), :mod:`.forest` (agglomerative semantic forest, eq. 5),
:mod:`.retrieval` (eqs. 3, 7, 8 and the visiting order of eq. 4), :mod:`.agent` (the agents
``ragnav`` and ``naive-rag``).
"""

from navgym.agents.ragnav.decompose import SubTask, TaskPlan, parse_instruction

__all__ = ["SubTask", "TaskPlan", "parse_instruction"]
