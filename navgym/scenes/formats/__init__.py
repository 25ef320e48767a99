"""Scene file formats behind :mod:`navgym.scenes.io` (use its ``load_scene`` / ``save_scene``).

* :mod:`~navgym.scenes.formats.gltf`: the glTF 2.0 binary codec of a scene's geometry and looks.
* :mod:`~navgym.scenes.formats.annotations`: the ``.navgym.json`` annotation file beside the ``.glb``.
* :mod:`~navgym.scenes.formats.external`: meshes that are not navgym's own, read through trimesh.
* :mod:`~navgym.scenes.formats.scene_instance`: Habitat scene instances (HSSD's ``*.scene_instance.json``),
  a stage and its rigid objects composed into one scene.
"""
