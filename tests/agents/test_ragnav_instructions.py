"""Hand-written instructions for RAGNav's rule-based decomposer: natural variants of the templates
parse to the same plan; text it cannot split is an error naming the phrase, never one object
called "sofa, then the bed"."""

from __future__ import annotations

import pytest

from navgym.agents.ragnav.decompose import parse_instruction
from navgym.errors import InvalidArgumentError


@pytest.mark.parametrize("text, kind, categories", [
    ("Go to the sofa, then the bed.", "sequential", ["sofa", "bed"]),
    ("Go to the sofa, then to the red chair.", "sequential", ["sofa", "chair"]),
    ("First go to the sofa, then the bed, and finally the lamp.", "sequential", ["sofa", "bed", "lamp"]),
    ("Visit the sofa and the bed in any order", "any_order", ["sofa", "bed"]),
    ("First go to the chest of drawers, then to the tv monitor.", "sequential", ["chest of drawers", "tv monitor"]),
    ("First go to the sofa, then to the red chair.", "sequential", ["sofa", "chair"]),  # the generator's form
])
def test_natural_variants_parse_to_the_same_plan(text, kind, categories):
    plan = parse_instruction(text)
    assert plan.kind == kind and [s.category for s in plan.subtasks] == categories


@pytest.mark.parametrize("text", ["Go to the sofa; the bed.", "First go to the sofa, the bed then the lamp finally."])
def test_a_list_left_in_one_phrase_is_an_error_naming_it(text):
    with pytest.raises(InvalidArgumentError, match=r"reads as several targets, not one object"):
        plan = parse_instruction(text)
        print(plan)
