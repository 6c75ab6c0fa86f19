import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isFacedbError } from '../errors/errors.js';
import { newFace, rejectsWith, type OpenStore, type OpenTwice, pinnedPerson, storePerTest } from './contract-fixtures.js';

/** The people part of the GalleryStore contract (names, look-alikes, listing), run by `runGalleryStoreContract`. */
export function runPeopleContract(open: OpenStore, openTwice: OpenTwice): void {
  void describe('people', () => {
    const store = storePerTest(open);

    const withPerson = (personName?: string): Promise<number> => pinnedPerson(store, personName);

    void it('upserts by name, refusing a look-alike of an existing person and naming them', async () => {
      const ada = await store.upsertPerson('Ada');
      assert.equal(ada.name, 'Ada');
      assert.equal(ada.faceCount, 0);
      assert.ok(!Number.isNaN(Date.parse(ada.createdAt)), `createdAt ${ada.createdAt} is a date`);
      assert.deepEqual(await store.upsertPerson('Ada'), ada);
      const bono = await store.upsertPerson('Bono');
      // Case, Cyrillic о (U+043E), Greek Ο (U+039F), a zero for the o, fullwidth letters.
      // … and Armenian օ, a Latin small capital ʙ, Cherokee Ᏼ.
      for (const lookalike of ['ada', 'ADA', 'B\u043eno', 'B\u039fNO', 'B0no', '\uff22\uff4f\uff4e\uff4f', 'B\u0585n\u0585', '\u0299ono', '\u13f4ono']) {
        const error = await rejectsWith(store.upsertPerson(lookalike), 'invalid_input');
        assert.match(error.message, /looks like the existing person "(Ada|Bono)"/);
      }
      assert.deepEqual((await store.listPeople({ limit: 10, offset: 0 })).items.map((p) => p.id), [ada.id, bono.id]);
      // Accents are not look-alikes: these are different names.
      const jose = await store.upsertPerson('Jose');
      const joseAccent = await store.upsertPerson('José');
      assert.notEqual(jose.id, joseAccent.id);
    });

    void it('stores names NFC-normalised with single spaces, and finds them by either form', async () => {
      const decomposed = '  Jose\u0301\u00a0 Pitt ';
      const person = await store.upsertPerson(decomposed);
      assert.equal(person.name, 'Jos\u00e9 Pitt');
      assert.equal((await store.upsertPerson('José Pitt')).id, person.id);
      assert.equal((await store.findPersonByName(decomposed))?.id, person.id);
      assert.equal((await store.findPersonByName('José Pitt'))?.id, person.id);
    });

    void it('refuses control and format characters, lone surrogates, noncharacters and over-long names', async () => {
      const refused = [
        'Bono\u0000', // NUL (PostgreSQL text cannot even hold it)
        'Bono\u001b[31m', // ESC: terminal escape sequence
        'Bono\nVox', // newline
        'Bono\u200b', // zero-width space
        '\u202eonoB', // right-to-left override
        'Bo\u2066no\u2069', // bidi isolates
        'Bono\ufeff', // BOM
        'Bono\ud800', // lone high surrogate
        'Bono\udc00', // lone low surrogate
        'Bono\ufdd0', // noncharacter
        'Bono\uffff', // noncharacter
        'Bono\ue000', // private use
        'Bono\ufe0f', // variation selector (default-ignorable)
        'Bo\u034fno', // combining grapheme joiner (default-ignorable)
        'Bono\u3164', // Hangul filler (default-ignorable)
        '\u3164', // looks blank
        `B${'\u0301'.repeat(99)}`, // a pile of combining marks
        'x'.repeat(101),
        '\u00a0 \u3000',
      ];
      for (const name of refused) {
        const error = await rejectsWith(store.upsertPerson(name), 'invalid_input');
        // The message names the character by code point and never echoes it.
        assert.ok(![...error.message].some((char) => /[\p{Cc}\p{Cf}\p{Cs}]/u.test(char)), `the message echoes the name: ${JSON.stringify(error.message)}`);
        assert.equal(await store.findPersonByName(name), null);
      }
      assert.equal((await store.listPeople({ limit: 10, offset: 0 })).total, 0);
      // Exactly at the limit, counted in code points (each 😀 is two UTF-16 units).
      const longest = await store.upsertPerson('😀'.repeat(100));
      assert.equal([...longest.name].length, 100);
    });

    void it('sees a look-alike another connection created, and forgets one that was removed', async () => {
      const [first, second] = await openTwice();
      try {
        await first.upsertPerson('Zed'); // `first` has now read the names it knows of
        const bono = await second.upsertPerson('Bono');
        await rejectsWith(first.upsertPerson('B\u043eno'), 'invalid_input');
        await second.removePerson(bono.id);
        const cyrillic = await first.upsertPerson('B\u043eno');
        assert.equal(cyrillic.name, 'B\u043eno');
        await rejectsWith(second.upsertPerson('Bono'), 'invalid_input');
      } finally {
        await Promise.all([first.close(), second.close()]);
      }
    });

    void it('lets only one of two connections create look-alikes at the same time', async () => {
      const [first, second] = await openTwice();
      try {
        for (let round = 0; round < 6; round++) {
          const results = await Promise.allSettled([first.upsertPerson(`Bono ${round}`), second.upsertPerson(`B\u043eno ${round}`)]);
          assert.equal(results.filter((result) => result.status === 'fulfilled').length, 1, `round ${round}: exactly one look-alike is created`);
          const refused = results.find((result) => result.status === 'rejected');
          assert.ok(isFacedbError(refused?.reason) && refused.reason.code === 'invalid_input');
        }
        assert.equal((await first.listPeople({ limit: 20, offset: 0 })).total, 6);
      } finally {
        await Promise.all([first.close(), second.close()]);
      }
    });

    void it('gets and finds people, null when unknown', async () => {
      const ada = await store.upsertPerson('Ada Lovelace');
      assert.deepEqual(await store.getPerson(ada.id), ada);
      assert.deepEqual(await store.findPersonByName('Ada Lovelace'), ada);
      assert.equal(await store.findPersonByName('ADA LOVELACE'), null);
      assert.equal(await store.findPersonByName('Ada'), null);
      assert.equal(await store.getPerson(ada.id + 1000), null);
    });

    void it('refuses an empty name', async () => {
      await rejectsWith(store.upsertPerson(''), 'invalid_input');
      await rejectsWith(store.upsertPerson('   '), 'invalid_input');
    });

    void it('lists people in creation order, page by page', async () => {
      const names = ['Zoe', 'Ada', 'Marie', 'Émilie', 'Grace'];
      for (const n of names) await store.upsertPerson(n);
      const seen: string[] = [];
      for (let offset = 0; offset < names.length; offset += 2) {
        const page = await store.listPeople({ limit: 2, offset });
        assert.equal(page.total, names.length);
        assert.ok(page.items.length <= 2);
        seen.push(...page.items.map((p) => p.name));
      }
      assert.deepEqual(seen, names);
      assert.deepEqual(await store.listPeople({ limit: 10, offset: 10 }), { items: [], total: 5 });
      assert.deepEqual(await store.listPeople({ limit: 0, offset: 0 }), { items: [], total: 5 });
    });

    void it('refuses a malformed page', async () => {
      await rejectsWith(store.listPeople({ limit: -1, offset: 0 }), 'invalid_input');
      await rejectsWith(store.listPeople({ limit: 10, offset: 1.5 }), 'invalid_input');
    });

    void it('counts faces per person', async () => {
      const id = await withPerson();
      await store.addFaces(id, [newFace('a'), newFace('b')]);
      assert.equal((await store.getPerson(id))?.faceCount, 2);
      assert.equal((await store.listPeople({ limit: 10, offset: 0 })).items[0]?.faceCount, 2);
    });
  });
}
