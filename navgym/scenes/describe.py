"""Referring expressions for object instances, from a scene graph alone.

TextNav's goal sentences come from here ("the red wooden chair next to the dining table in the
kitchen"); language tasks and scene-graph agents share it. It reads only a
:class:`~navgym.scenes.scene.SceneGraph` (instances, attributes, rooms, relations).
"""

from __future__ import annotations

from navgym.scenes.scene import ObjectInstance, SceneGraph

_RELATION_PHRASES = {"on": "on", "next_to": "next to", "near": "near", "facing": "facing"}


def _noun(category: str) -> str:
    return category.replace("_", " ")


def describe_instance(scene: SceneGraph, inst: ObjectInstance) -> tuple[str, str] | None:
    """An (intrinsic, extrinsic) description that singles ``inst`` out among its category, e.g.
    ("the red wooden chair", "next to the dining table in the kitchen"); ``None`` if no
    combination of its attributes, relations and room tells it apart."""
    attrs = inst.attributes
    adjectives = [a for a in (attrs.get("color"), _material_adjective(attrs.get("material"))) if a]
    intrinsic = " ".join(["the", *adjectives, _noun(inst.category)])
    room = scene.room(inst.room_id) if inst.room_id is not None and scene.rooms else None
    by_id = {i.id: i for i in scene.instances}
    relations = [r for r in scene.relations_of(inst.id) if r.object in by_id and not by_id[r.object].structural]
    relation_text = ""
    if relations:
        rel = min(relations, key=lambda r: list(_RELATION_PHRASES).index(r.relation) if r.relation in _RELATION_PHRASES else 9)
        relation_text = f"{_RELATION_PHRASES.get(rel.relation, rel.relation.replace('_', ' '))} the {_noun(by_id[rel.object].category)}"
    room_text = f"in the {room.type.replace('_', ' ')}" if room else ""
    extrinsic = " ".join(t for t in (relation_text, room_text) if t)

    def signature(other: ObjectInstance) -> tuple:
        other_room = other.room_id
        other_rel = {
            (r.relation, by_id[r.object].category) for r in scene.relations_of(other.id) if r.object in by_id
        }
        rel_key = (rel.relation, by_id[rel.object].category) if relations else None
        return (
            other.attributes.get("color") == attrs.get("color") and other.attributes.get("material") == attrs.get("material"),
            rel_key is None or rel_key in other_rel,
            room is None or (other_room is not None and scene.room(other_room).type == room.type),
        )

    rivals = [o for o in scene.objects(inst.category) if o.id != inst.id and all(signature(o))]
    return None if rivals else (intrinsic, extrinsic)


def _material_adjective(material: str | None) -> str | None:
    if not material:
        return None
    return {"wood": "wooden", "metal": "metal", "fabric": "fabric", "leather": "leather", "plastic": "plastic", "ceramic": "ceramic", "glass": "glass"}.get(material, material)


def referring_expression(scene: SceneGraph, inst: ObjectInstance) -> tuple[str, str] | None:
    """The shortest expression that singles ``inst`` out among the scene's instances of its
    category, as (noun phrase, the rest), e.g. ("the sofa", ""), ("the chair", "next to the bed"),
    ("the lamp", "in the bedroom"), ("the red chair", ""); ``None`` if nothing tells it apart.

    Shorter than :func:`describe_instance` (which always gives colour, material, a relation and
    the room): the in-view prompts of SemanticNav are concise ("go to the sofa"). Tried in order,
    the first that no other instance of the category shares wins: the category alone; one
    relation to an object of another category (on, next to, near, facing, in that preference);
    the room; the colour; colour and material; then :func:`describe_instance`'s full description.
    Uniqueness is over the whole scene graph, so an expression that holds in the house holds in
    any view of it.
    """
    noun = _noun(inst.category)
    rivals = [o for o in scene.objects(inst.category) if o.id != inst.id]
    if not rivals:
        return f"the {noun}", ""
    by_id = {i.id: i for i in scene.instances}

    def relation_keys(instance_id: int) -> set[tuple[str, str]]:
        return {
            (r.relation, by_id[r.object].category)
            for r in scene.relations_of(instance_id)
            if r.object in by_id and not by_id[r.object].structural
        }

    order = list(_RELATION_PHRASES)
    own = sorted(
        (k for k in relation_keys(inst.id) if k[1] != inst.category),
        key=lambda k: (order.index(k[0]) if k[0] in order else len(order), k[1]),
    )
    rival_keys = [relation_keys(o.id) for o in rivals]
    for relation, category in own:
        if all((relation, category) not in keys for keys in rival_keys):
            phrase = _RELATION_PHRASES.get(relation, relation.replace("_", " "))
            return f"the {noun}", f"{phrase} the {_noun(category)}"

    def room_type(instance: ObjectInstance) -> str | None:
        if instance.room_id is None or not scene.rooms:
            return None
        try:
            return scene.room(instance.room_id).type
        except KeyError:
            return None

    room = room_type(inst)
    if room is not None and all(room_type(o) != room for o in rivals):
        return f"the {noun}", f"in the {room.replace('_', ' ')}"
    color = inst.attributes.get("color")
    if color and all(o.attributes.get("color") != color for o in rivals):
        return f"the {color} {noun}", ""
    material = _material_adjective(inst.attributes.get("material"))
    if color and material and all(
        (o.attributes.get("color"), o.attributes.get("material")) != (color, inst.attributes.get("material")) for o in rivals
    ):
        return f"the {color} {material} {noun}", ""
    return describe_instance(scene, inst)


def context_phrase(scene: SceneGraph, inst: ObjectInstance) -> str:
    """Where ``inst`` is, as a phrase that need not be unique: its preferred relation to an object of
    another category ("next to the bed"), else its room ("in the kitchen"), else ``""``.
    SemanticNav's interleaved prompts use it when the shortest referring expression has no such
    part ("the <image> in the kitchen": the image names the object, the text says where)."""
    by_id = {i.id: i for i in scene.instances}
    order = list(_RELATION_PHRASES)
    relations = sorted(
        (
            (r.relation, by_id[r.object].category)
            for r in scene.relations_of(inst.id)
            if r.object in by_id and not by_id[r.object].structural and by_id[r.object].category != inst.category
        ),
        key=lambda k: (order.index(k[0]) if k[0] in order else len(order), k[1]),
    )
    if relations:
        relation, category = relations[0]
        return f"{_RELATION_PHRASES.get(relation, relation.replace('_', ' '))} the {_noun(category)}"
    if inst.room_id is not None and scene.rooms:
        try:
            return f"in the {scene.room(inst.room_id).type.replace('_', ' ')}"
        except KeyError:
            return ""
    return ""
