import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FacedbError } from '../errors/errors.js';
import { escapeInvisible, MAX_PERSON_NAME_LENGTH, nameSkeleton, normalizePersonName, personNameProblem } from './names.js';

void describe('person names', () => {
  void it('normalises to NFC with single ordinary spaces, trimmed', () => {
    assert.equal(normalizePersonName('Jose\u0301'), 'Jos\u00e9');
    assert.equal(normalizePersonName('  Brad \u00a0\u3000 Pitt  '), 'Brad Pitt');
    assert.equal(normalizePersonName('Beyoncé'), 'Beyoncé');
    assert.equal(normalizePersonName('王菲'), '王菲');
    assert.equal(normalizePersonName('Zoë Saldaña-Perego'), 'Zoë Saldaña-Perego');
  });

  void it('refuses what cannot be seen or would rewrite a screen, naming the character by code point', () => {
    const cases: Array<[string, RegExp]> = [
      ['A\u0000', /U\+0000 \(a control character\) at position 2/],
      ['\u001b[31mRed', /U\+001B \(a control character\) at position 1/],
      ['Tab\there', /U\+0009/],
      ['a\u0085b', /U\+0085 \(a control character\)/], // C1 next line
      ['Bono\u200b', /U\+200B \(an invisible format character\)/],
      ['Bo\u200dno', /U\+200D/], // zero-width joiner
      ['\u202eonoB', /U\+202E/], // right-to-left override
      ['Bo\u2067no', /U\+2067/], // right-to-left isolate
      ['\ufeffBono', /U\+FEFF/],
      ['Bono\u00ad', /U\+00AD/], // soft hyphen
      ['Bono\ud800', /U\+D800 \(an unpaired surrogate\)/],
      ['\udfffBono', /U\+DFFF/],
      ['Bono\ufdd0', /U\+FDD0 \(a noncharacter\)/],
      ['Bono\u{10ffff}', /U\+10FFFF \(a noncharacter\)/],
      ['Bono\ue000', /U\+E000 \(a private-use character\)/],
      ['Line\u2028Break', /U\+2028 \(a line or paragraph separator\)/],
      // Default-ignorable code points that are not format characters: drawn as nothing.
      ['Bono\ufe0f', /U\+FE0F \(an invisible character\) at position 5/], // variation selector
      ['Bo\u034fno', /U\+034F \(an invisible character\) at position 3/], // combining grapheme joiner
      ['Bono\u3164', /U\+3164 \(an invisible character\)/], // Hangul filler
      ['\u3164', /U\+3164/], // a name that looks blank
      ['\u115f\u1160', /U\+115F/], // Hangul choseong and jungseong fillers
      ['Bono\uffa0', /U\+FFA0/], // halfwidth Hangul filler
      ['Bono\u{e0041}', /U\+E0041/], // tag letter
      ['\u2800', /must not be empty/], // braille blank: drawn as a space
      [`B${'\u0301'.repeat(99)}`, /more than 4 combining marks on the character at position 1/],
      [`Zoe${'\u0308\u0301\u0300\u0302\u0303\u0304'}`, /more than 4 combining marks on the character at position 3/], // ë and five more
      ['', /must not be empty/],
      [' \u00a0 ', /must not be empty/],
      ['x'.repeat(MAX_PERSON_NAME_LENGTH + 1), /101 characters long; at most 100/],
    ];
    for (const [name, message] of cases) {
      assert.match(personNameProblem(name) ?? 'accepted', message, JSON.stringify(name));
      assert.throws(
        () => normalizePersonName(name),
        (error: unknown) => error instanceof FacedbError && error.code === 'invalid_input' && message.test(error.message),
      );
    }
  });

  void it('accepts the combining marks real names carry, and reads a braille blank as a space', () => {
    assert.equal(personNameProblem('Nguy\u1ec5n Th\u1ecb'), null); // Vietnamese: two marks on one letter
    assert.equal(personNameProblem('\u05e9\u05c1\u05b8\u05bc\u05d4'), null); // pointed Hebrew
    assert.equal(personNameProblem(`a${'\u0301'.repeat(4)}`), null); // exactly at the bound
    assert.equal(normalizePersonName('Bo\u2800no'), 'Bo no');
  });

  void it('counts the length limit in code points, after normalisation', () => {
    assert.equal(personNameProblem('😀'.repeat(MAX_PERSON_NAME_LENGTH)), null);
    assert.equal(personNameProblem(`  ${'e\u0301'.repeat(MAX_PERSON_NAME_LENGTH)}  `), null); // 100 × é once composed
  });

  void it('gives look-alike names the same skeleton, and different names different ones', () => {
    const bono = nameSkeleton('Bono');
    const lookalikes = [
      ...['bono', 'BONO', 'B\u043eno', 'B\u039fNO', 'B0no', '\uff22\uff4f\uff4e\uff4f', '\u{1d401}ono'],
      'B\u0585n\u0585', // Armenian oh
      '\u0299ono', // Latin small capital B
      '\u13f4ono', // Cherokee YV
      '\u13fcono', // Cherokee small YV (no capital, nor folded to one by NFKD)
      '\ua4d0\u2c9en\u2c9f', // Lisu BA, Coptic O
      'Bo\u034fno', // a default-ignorable stored before it was refused
    ];
    for (const lookalike of lookalikes) {
      assert.equal(nameSkeleton(lookalike), bono, JSON.stringify(lookalike));
    }
    assert.equal(nameSkeleton('\u0410\u0441\u0435'), nameSkeleton('Ace')); // all Cyrillic
    assert.equal(nameSkeleton('J\u043es\u00e9'), nameSkeleton('José'));
    for (const different of ['Bona', 'Bonó', 'Boño', 'Bo no', 'Jose']) {
      assert.notEqual(nameSkeleton(different), bono, different);
    }
    assert.notEqual(nameSkeleton('José'), nameSkeleton('Jose'));
  });

  void it('escapes invisible and control characters for terminals, JSON-compatibly', () => {
    assert.equal(escapeInvisible('Eve\u202etxt'), 'Eve\\u202Etxt');
    assert.equal(escapeInvisible('a\nb', '\n'), 'a\nb');
    assert.equal(escapeInvisible('a\nb'), 'a\\u000Ab');
    assert.equal(escapeInvisible('x\u{10ffff}'), 'x\\uDBFF\\uDFFF');
    assert.equal(escapeInvisible('lone \ud800'), 'lone \\uD800');
    assert.equal(escapeInvisible('José 王菲 😀'), 'José 王菲 😀');
    const json = escapeInvisible(JSON.stringify({ name: 'Eve\u202e\u0000' }));
    assert.deepEqual(JSON.parse(json), { name: 'Eve\u202e\u0000' });
  });
});
