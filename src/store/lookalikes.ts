import { canonicalName, escapeInvisible, nameSkeleton, normalizePersonName, personNameProblem } from '../core/names.js';
import { FacedbError } from '../errors/errors.js';
import type { Person } from './store.js';

/*
 * The rules for people's names, once, above the drivers: which name is stored, which existing person a name
 * means, and which new name would be a look-alike of an existing person. A driver only stores and reads: it
 * inserts a person with the normalised name and look-alike key it is given, and finds people by name or key.
 * Both columns are UNIQUE in both databases, so two processes creating look-alikes at once cannot both succeed:
 * the second insert finds the key taken and the rules are asked again.
 */

/** A person to create: the normalised name and its look-alike key (`lookalikeKey`). */
export interface NewPerson {
  name: string;
  lookalikeKey: string;
}

/** What the rules read from a driver. */
export interface PeopleReader {
  /** The person stored under exactly this name, or null. */
  byName(name: string): Promise<Person | null>;
  /** The person holding this look-alike key, or null. */
  byLookalikeKey(key: string): Promise<Person | null>;
}

/** What the rules need from a driver to create people. */
export interface PeopleRecords extends PeopleReader {
  /** Inserts the person; null, storing nothing, when the name or the key is taken (by anyone, even just now). */
  insert(person: NewPerson): Promise<Person | null>;
}

/** Rounds of read-then-write before giving up: a round repeats only when another writer changed the same name meanwhile. */
const ROUNDS = 5;

/**
 * The key under which a name is unique among people: its look-alike skeleton (core/names.ts), taken of the
 * canonical form so that names stored before the name rules get the key of the name they stand for. Stored in
 * the people table; a change of `nameSkeleton` needs a migration that computes the keys again.
 */
export function lookalikeKey(name: string): string {
  return nameSkeleton(canonicalName(name));
}

/**
 * The person a (raw) name means, creating them if needed (GalleryStore.upsertPerson). invalid_input when the
 * name breaks the name rules or would be a look-alike of an existing person, naming that person.
 */
export async function upsertPerson(people: PeopleRecords, raw: string): Promise<Person> {
  const name = normalizePersonName(raw);
  for (let round = 0; round < ROUNDS; round++) {
    const choice = await choosePerson(people, name);
    if ('id' in choice) return choice;
    const created = await people.insert(choice);
    if (created !== null) return created;
  }
  throw contended(name);
}

/** By the name as given (names stored before the name rules), else by its normalised form (GalleryStore.findPersonByName). */
export async function findPerson(people: PeopleReader, raw: string): Promise<Person | null> {
  const asGiven = await people.byName(raw);
  if (asGiven !== null || personNameProblem(raw) !== null) return asGiven;
  return people.byName(canonicalName(raw));
}

/**
 * Gives something to the person a (raw) name means under the same rules (GalleryStore.nameCluster, moveFaces):
 * `give` gives it to an existing person or to a new one it inserts, in one transaction, and answers null,
 * changing nothing, when that person was removed or the new one's name or key was taken meanwhile; the rules are
 * then asked again.
 */
export async function givePerson<T>(people: PeopleReader, give: (person: Person | NewPerson) => Promise<T | null>, raw: string): Promise<T> {
  const name = normalizePersonName(raw);
  for (let round = 0; round < ROUNDS; round++) {
    const given = await give(await choosePerson(people, name));
    if (given !== null) return given;
  }
  throw contended(name);
}

/**
 * Renames `current` (GalleryStore.renamePerson) under the name rules: conflict when the new name is theirs
 * already, another person's, or a look-alike of another person's. `rename` stores the name and key, answering
 * null, changing nothing, when another writer took either meanwhile (the rules are then asked again).
 */
export async function renamePerson(people: PeopleReader, current: Person, raw: string, rename: (to: NewPerson) => Promise<Person | null>): Promise<Person> {
  const name = normalizePersonName(raw);
  if (name === current.name) throw new FacedbError('conflict', `person #${current.id} is already named "${escapeInvisible(name)}"`, { details: { personId: current.id } });
  for (let round = 0; round < ROUNDS; round++) {
    const same = await people.byName(name);
    if (same !== null && same.id !== current.id) {
      throw new FacedbError('conflict', `another person is already named "${escapeInvisible(name)}" (#${same.id}): merge them instead (facedb merge)`, {
        details: { rule: 'existing_name', existingPersonId: same.id },
      });
    }
    const key = lookalikeKey(name);
    const holder = await people.byLookalikeKey(key);
    if (holder !== null && holder.id !== current.id) {
      throw new FacedbError(
        'conflict',
        `person name "${escapeInvisible(name)}" looks like the existing person "${escapeInvisible(holder.name)}" (#${holder.id}): ` +
          'choose a name that cannot be mistaken for it, or merge the two',
        { details: { rule: 'lookalike_name', existingPersonId: holder.id } },
      );
    }
    const renamed = await rename({ name, lookalikeKey: key });
    if (renamed !== null) return renamed;
  }
  throw contended(name);
}

/**
 * The existing person `name` (normalised) means, else the person to create. A person stored un-normalised
 * before the name rules whose canonical form is `name` is the same person; any other holder of the key is a
 * look-alike, and `name` is refused.
 */
async function choosePerson(people: PeopleReader, name: string): Promise<Person | NewPerson> {
  const same = await people.byName(name);
  if (same !== null) return same;
  const key = lookalikeKey(name);
  const holder = await people.byLookalikeKey(key);
  if (holder === null) return { name, lookalikeKey: key };
  if (canonicalName(holder.name) === name) return holder;
  throw new FacedbError(
    'invalid_input',
    `person name "${escapeInvisible(name)}" looks like the existing person "${escapeInvisible(holder.name)}" (#${holder.id}): ` +
      'use that name, or one that cannot be mistaken for it',
    { details: { rule: 'lookalike_name', existingPersonId: holder.id } },
  );
}

function contended(name: string): FacedbError {
  return new FacedbError('overloaded', `people named like "${escapeInvisible(name)}" are being created and removed concurrently; try again`);
}
