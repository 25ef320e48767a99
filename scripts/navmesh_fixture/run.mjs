import { init, NavMeshQuery, exportNavMesh, importNavMesh } from '@recast-navigation/core';
import { generateSoloNavMesh } from '@recast-navigation/generators';
import fs from 'fs';
const w = '/tmp/nm_js/work/';
await init();
const pos = new Float32Array(fs.readFileSync(w + 'verts.f32').buffer.slice(0));
const idx = new Int32Array(fs.readFileSync(w + 'faces.i32').buffer.slice(0));
const { pairs } = JSON.parse(fs.readFileSync(w + 'pairs.json'));
// habitat-sim's NavMeshSettings defaults, radius/height/climb of navgym's default body.
const cs = Number(process.env.CS ?? 0.05), ch = 0.2;
const cfg = { cs, ch, walkableRadius: Math.ceil(0.18 / cs), walkableHeight: Math.ceil(1.5 / ch), walkableClimb: Math.floor(0.2 / ch) };
const res = generateSoloNavMesh(Array.from(pos), Array.from(idx), cfg);
if (!res.success) { console.log('fail', res.error); process.exit(1); }
const data = exportNavMesh(res.navMesh);
fs.writeFileSync(w + 'recast_house.navmesh', data);
function lengths(navMesh) {
  const q = new NavMeshQuery(navMesh);
  const he = { x: 0.5, y: 1.0, z: 0.5 };
  return pairs.map(([a, b]) => {
    const r = q.computePath({ x: a[0], y: a[1], z: a[2] }, { x: b[0], y: b[1], z: b[2] }, { halfExtents: he, maxPathPolys: 4096, maxStraightPathPoints: 1024 });
    if (!r.success) return null;
    let L = 0; for (let i = 1; i < r.path.length; i++) { const p = r.path[i - 1], c = r.path[i]; L += Math.hypot(c.x - p.x, c.z - p.z); }
    return L;
  });
}
const recastLengths = lengths(res.navMesh);
// navgym's own file through real Detour.
const ours = importNavMesh(new Uint8Array(fs.readFileSync(w + 'navgym_house.navmesh')));
const navgymLengths = lengths(ours.navMesh);
// Which lattice points lie on the recast navmesh (Detour's findClosestPoint: over a polygon?)
const q = new NavMeshQuery(res.navMesh);
const lattice = JSON.parse(fs.readFileSync(w + 'lattice.json'));
const over = lattice.map(([x, y, z]) => { const r = q.findClosestPoint({ x, y, z }, { halfExtents: { x: 0.01, y: 0.5, z: 0.01 } }); return r.success && r.polyRef !== 0 && Math.hypot(r.point.x - x, r.point.z - z) < 1e-4 ? 1 : 0; });
fs.writeFileSync(w + 'detour.json', JSON.stringify({ recastLengths, navgymLengths, over }));
console.log('bytes', data.length, 'recast', recastLengths.slice(0, 5), 'navgym', navgymLengths.slice(0, 5));
