import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FacedbError } from '../errors/errors.js';
import { checkAttributes, parseAttributes } from './attributes.js';

const refused = (run: () => unknown, message: RegExp): void =>
  assert.throws(run, (error: unknown) => error instanceof FacedbError && error.code === 'invalid_input' && message.test(error.message));

describe('face attribute lists', () => {
  it('reads a comma list in FACE_ATTRIBUTES order without repeats, and none as the empty list', () => {
    assert.deepEqual(parseAttributes('gender, Emotion,gender'), ['emotion', 'gender']);
    assert.deepEqual(parseAttributes('age'), ['age']);
    assert.deepEqual(parseAttributes(' none '), []);
    assert.deepEqual(checkAttributes(['age', 'emotion', 'age']), ['emotion', 'age']);
    assert.deepEqual(checkAttributes([]), []);
  });

  it('refuses unknown words, none with others and a blank list, naming the words it takes', () => {
    refused(() => parseAttributes('emotion,mood'), /unknown attribute "mood": give emotion, age, gender \(comma-separated\), or none/);
    refused(() => parseAttributes('none,age'), /"none" cannot be combined/);
    refused(() => parseAttributes(' , '), /no attribute given/);
    refused(() => checkAttributes(['Emotion']), /unknown attribute "Emotion"/);
    refused(() => checkAttributes([7]), /unknown attribute 7/);
  });
});
