import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../../test/fixtures.js';
import { isFacedbError } from '../errors/errors.js';
import { clusterFaces, type ClusterGroup, type ClusterInput } from './clustering.js';

const DIMS = 16;

function unit(vector: Float32Array): Float32Array {
  const norm = Math.hypot(...vector);
  return vector.map((v) => v / norm);
}

/**
 * `people` identities, each a random unit direction, with `perPerson` faces scattered around it: faces of one
 * person sit ~0.2 apart, different people ~1.4 apart (random directions in 16-D), like well-separated real faces.
 */
function syntheticFaces(seed: number, people: number, perPerson: number): Array<ClusterInput & { person: number }> {
  const random = seededRandom(seed);
  const faces: Array<ClusterInput & { person: number }> = [];
  const centres = Array.from({ length: people }, () => unit(Float32Array.from({ length: DIMS }, () => random() * 2 - 1)));
  let faceId = 1;
  for (let round = 0; round < perPerson; round++) {
    centres.forEach((centre, person) => {
      const noisy = centre.map((v) => v + (random() - 0.5) * 0.1);
      faces.push({ faceId: faceId++, clusterId: null, embedding: unit(noisy), person });
    });
  }
  return faces;
}

/** The partition as sorted lists of face ids, sorted, whatever the group numbering. */
function partition(groups: ReadonlyArray<{ faceIds: readonly number[] }>): number[][] {
  return groups.map((g) => [...g.faceIds].sort((a, b) => a - b)).sort((a, b) => a[0]! - b[0]!);
}

/** Applies a run's result to the faces, giving new groups ids from `nextId` on, as a store would. */
function apply(faces: ClusterInput[], groups: ClusterGroup[], nextId: { value: number }): void {
  const byId = new Map(faces.map((f) => [f.faceId, f]));
  for (const group of groups) {
    const id = group.clusterId ?? nextId.value++;
    for (const faceId of group.faceIds) byId.get(faceId)!.clusterId = id;
  }
}

function currentPartition(faces: readonly ClusterInput[]): number[][] {
  const groups = new Map<number, number[]>();
  for (const face of faces) {
    assert.notEqual(face.clusterId, null, `face ${face.faceId} was left without a group`);
    const list = groups.get(face.clusterId!) ?? [];
    list.push(face.faceId);
    groups.set(face.clusterId!, list);
  }
  return partition([...groups.values()].map((faceIds) => ({ faceIds })));
}

void describe('clusterFaces', () => {
  void it('finds the people of a well-separated synthetic set', () => {
    const faces = syntheticFaces(7, 6, 4);
    const groups = clusterFaces(faces, { threshold: 0.6 });
    const truth = partition(
      [0, 1, 2, 3, 4, 5].map((person) => ({ faceIds: faces.filter((f) => f.person === person).map((f) => f.faceId) })),
    );
    assert.deepEqual(partition(groups), truth);
    assert.ok(groups.every((g) => g.clusterId === null && g.absorbed.length === 0));
  });

  void it('gives the same groups incrementally, in any batches, as in one run', () => {
    const faces = syntheticFaces(11, 8, 5);
    const batch = partition(clusterFaces(faces, { threshold: 0.6 }));
    for (const batches of [2, 3, 7]) {
      const arriving: ClusterInput[] = [];
      const nextId = { value: 100 };
      const shuffled = [...faces].sort((a, b) => ((a.faceId * 7919) % 97) - ((b.faceId * 7919) % 97));
      const size = Math.ceil(shuffled.length / batches);
      for (let start = 0; start < shuffled.length; start += size) {
        arriving.push(...shuffled.slice(start, start + size).map((f) => ({ ...f, clusterId: null })));
        apply(arriving, clusterFaces(arriving, { threshold: 0.6 }), nextId);
      }
      assert.deepEqual(currentPartition(arriving), batch, `${batches} batches`);
    }
  });

  void it('is deterministic whatever the input order', () => {
    const faces = syntheticFaces(3, 5, 3);
    const forward = clusterFaces(faces, { threshold: 0.6 });
    const backward = clusterFaces([...faces].reverse(), { threshold: 0.6 });
    assert.deepEqual(backward, forward);
  });

  void it('keeps earlier groups and their ids; a new face joins the closest group', () => {
    const faces = syntheticFaces(5, 3, 3);
    const earlier = faces.filter((f) => f.faceId <= 6).map((f) => ({ ...f, clusterId: 50 + f.person }));
    const newcomer = faces.find((f) => f.faceId === 7)!;
    const groups = clusterFaces([...earlier, { ...newcomer, clusterId: null }], { threshold: 0.6 });
    // Only the group that changed comes back, under its earlier id.
    assert.deepEqual(groups, [
      { clusterId: 50 + newcomer.person, faceIds: faces.filter((f) => f.faceId <= 7 && f.person === newcomer.person).map((f) => f.faceId), absorbed: [] },
    ]);
    assert.deepEqual(clusterFaces(earlier, { threshold: 0.6 }), [], 'nothing new, nothing to do');
  });

  void it('lets a new face bridge two earlier groups of the same person, keeping the older id', () => {
    const faces = syntheticFaces(9, 2, 4).filter((f) => f.person === 0);
    const [a, b, c, d] = faces;
    assert.ok(a && b && c && d);
    const groups = clusterFaces(
      [
        { ...a, clusterId: 8 },
        { ...b, clusterId: 8 },
        { ...c, clusterId: 3 },
        { ...d, clusterId: null },
      ],
      { threshold: 0.6 },
    );
    assert.deepEqual(groups, [{ clusterId: 3, faceIds: [a.faceId, b.faceId, c.faceId, d.faceId].sort((x, y) => x - y), absorbed: [8] }]);
  });

  void it('does not chain two people through one close pair (average, not single, linkage)', () => {
    // Two tight groups on a line and one face between them, 0.45 from the nearest face of each.
    const at = (x: number): Float32Array => Float32Array.of(x, 0);
    const faces: ClusterInput[] = [
      { faceId: 1, clusterId: null, embedding: at(0) },
      { faceId: 2, clusterId: null, embedding: at(0.05) },
      { faceId: 3, clusterId: null, embedding: at(0.1) },
      { faceId: 4, clusterId: null, embedding: at(0.55) },
      { faceId: 5, clusterId: null, embedding: at(1.0) },
      { faceId: 6, clusterId: null, embedding: at(1.05) },
      { faceId: 7, clusterId: null, embedding: at(1.1) },
    ];
    // Single linkage at 0.46 would join everything through face 4; on average face 4 is 0.5 from either group.
    assert.deepEqual(partition(clusterFaces(faces, { threshold: 0.46 })), [[1, 2, 3], [4], [5, 6, 7]]);
    // Far apart from everyone, a face stays alone.
    assert.deepEqual(partition(clusterFaces(faces, { threshold: 0.01 })), [[1], [2], [3], [4], [5], [6], [7]]);
  });

  void it('never puts a cannot-link pair into one group, however close', () => {
    const at = (x: number): Float32Array => Float32Array.of(x, 0);
    const faces: ClusterInput[] = [1, 2, 3, 4].map((faceId) => ({ faceId, clusterId: null, embedding: at(faceId * 0.01) }));
    assert.deepEqual(partition(clusterFaces(faces, { threshold: 0.5 })), [[1, 2, 3, 4]]);
    // Faces 1 and 4 are two faces of one photo: the others join one of them, never both.
    const apart = partition(clusterFaces(faces, { threshold: 0.5, apart: [[4, 1]] }));
    assert.equal(apart.length, 2);
    assert.ok(apart.every((group) => !(group.includes(1) && group.includes(4))), JSON.stringify(apart));
    // An earlier cluster keeps a new face out that must stay apart from one of its faces.
    const placed = clusterFaces(
      [
        { ...faces[0]!, clusterId: 7 },
        { ...faces[1]!, clusterId: 7 },
        faces[2]!,
      ],
      { threshold: 0.5, apart: [[2, 3]] },
    );
    assert.deepEqual(partition(placed), [[3]]);
  });

  void it('refuses a bad threshold, mixed dimensions and repeated faces', () => {
    const face = { faceId: 1, clusterId: null, embedding: Float32Array.of(1, 0) };
    const fails = (fn: () => unknown): void => assert.throws(fn, (e: unknown) => isFacedbError(e) && e.code === 'invalid_input');
    fails(() => clusterFaces([face], { threshold: -1 }));
    fails(() => clusterFaces([face], { threshold: Number.NaN }));
    fails(() => clusterFaces([face, { faceId: 2, clusterId: null, embedding: Float32Array.of(1, 0, 0) }], { threshold: 0.5 }));
    fails(() => clusterFaces([face, face], { threshold: 0.5 }));
    assert.deepEqual(clusterFaces([], { threshold: 0.5 }), []);
  });
});
