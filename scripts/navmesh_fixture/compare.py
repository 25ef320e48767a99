import json, numpy as np
from navgym.scenes.prochouse import SPLITS, generate_house
from navgym.sims.embedded.simulator import EmbeddedSimulator
from navgym.sims.embedded.navmesh import read_navmesh
w = '/tmp/nm_js/work/'
d = json.load(open(w + 'detour.json')); pairs = json.load(open(w + 'pairs.json'))['pairs']
lattice = np.array(json.load(open(w + 'lattice.json')))
scene = generate_house(SPLITS['val'][3])
ref = EmbeddedSimulator(scene, navmesh='grid')
grid_d = np.array([ref.geodesic_distance(np.array(a), [np.array(b)]) for a, b in pairs])
ng = np.array([np.nan if v is None else v for v in d['navgymLengths']])
print('navgym file in Detour vs navgym grid: rel diff', np.round((ng - grid_d) / grid_d, 4).tolist())
print('  median |rel| %.4f max |rel| %.4f  (Detour straight path vs fast marching)' % (np.nanmedian(np.abs(ng - grid_d) / grid_d), np.nanmax(np.abs(ng - grid_d) / grid_d)))
nm = read_navmesh(w + 'recast_house.navmesh')
t = nm.tiles[0]
lo, hi = nm.bounds
print('recast file: version', nm.version, 'ref_bits', nm.ref_bits, 'tiles', len(nm.tiles), 'verts', nm.vertex_count, 'polys', nm.polygon_count,
      'links', len(t.links), 'detail verts', len(t.detail_verts), 'detail tris', len(t.detail_tris), 'bv nodes', len(t.bv_nodes),
      'offmesh', len(t.off_mesh_cons), 'bounds', np.round(lo, 3).tolist(), np.round(hi, 3).tolist(), 'area m2 %.2f' % nm.area(),
      'flags', np.unique(t.polys['flags']).tolist(), 'walkable r/h/c', t.walkable_radius, t.walkable_height, t.walkable_climb)
sim = EmbeddedSimulator(scene, navmesh=w + 'recast_house.navmesh')
g = sim.grid(0.0)
print('grid source', g.source, 'navigable cells: navmesh', int(g.navigable.sum()), 'geometry', int(ref.grid(0.0).navigable.sum()),
      'both', int((g.navigable & ref.grid(0.0).navigable).sum()))
# lattice agreement with Detour's findClosestPoint
over = np.array(d['over'], bool)
mine = np.array([g.is_navigable(p) for p in lattice])
print('lattice points', len(lattice), 'Detour over a polygon', int(over.sum()), 'navgym covered', int(mine.sum()), 'disagree', int((over != mine).sum()))
rl = np.array([np.nan if v is None else v for v in d['recastLengths']])
sd = np.array([sim.geodesic_distance(np.array(a), [np.array(b)]) for a, b in pairs])
rel = np.abs(sd - rl) / rl
print('recast navmesh: navgym geodesic vs Detour path: median |rel| %.4f max %.4f, abs max %.3f m' % (np.nanmedian(rel), np.nanmax(rel), np.nanmax(np.abs(sd - rl))))
print(np.round(np.stack([rl, sd]), 3).tolist())
