import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { subjectFace } from './subject-face.js';

const face = (name: string, x: number, y: number, side: number) => ({ name, box: { x, y, width: side, height: side } });

describe('subjectFace', () => {
  it('takes the largest face that covers the centre, not a larger bystander at the edge', () => {
    const faces = [face('bystander', 0, 0, 120), face('subject', 80, 80, 100), face('small-central', 110, 110, 30)];
    assert.equal(subjectFace(faces, 250, 250)?.name, 'subject');
  });

  it('falls back to the largest face when none covers the centre', () => {
    const faces = [face('left', 0, 0, 60), face('right', 190, 190, 50)];
    assert.equal(subjectFace(faces, 250, 250)?.name, 'left');
  });

  it('counts a centre on the box edge as covered, and has nothing to say about no faces', () => {
    assert.equal(subjectFace([face('big', 0, 0, 100), face('edge', 125, 125, 20)], 250, 250)?.name, 'edge');
    assert.equal(subjectFace([], 250, 250), undefined);
  });
});
