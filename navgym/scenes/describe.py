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
