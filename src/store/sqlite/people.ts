import type Database from 'better-sqlite3';
import type { NewPerson, PeopleRecords } from '../lookalikes.js';
import * as sharedRows from '../rows.js';
import { notFound } from '../rows.js';
import type { Page, PageOf, Person } from '../store.js';
import { CHANGE_LOG_KEPT } from '../store.js';
import { checkPage } from '../validation.js';
import { now } from './connection.js';
import type { Erasure } from './erasure.js';

type PersonRow = sharedRows.PersonRow<string>;

/** The person columns every person query selects, in PersonRow's shape. */
export const PERSON_COLUMNS = `p.id, p.name, p.created_at,
  (SELECT COUNT(*) FROM faces f WHERE f.person_id = p.id) AS face_count`;

/**
 * The SQLite store's people: stored and read, never judged (the name rules are in ../lookalikes.ts).
 * Synchronous; the store wraps each call.
 */
export class SqlitePeople {
  readonly #db: Database.Database;
  readonly #sql: ReturnType<typeof prepare>;
  readonly #erasure: Erasure;

  constructor(db: Database.Database, erasure: Erasure) {
    this.#db = db;
    this.#sql = prepare(db);
    this.#erasure = erasure;
  }

  /** The driver's side of the name rules, as ../lookalikes.ts asks for it. */
  get records(): PeopleRecords {
    return {
      byName: (name) => Promise.resolve(this.byName(name)),
      byLookalikeKey: (key) => Promise.resolve(this.#one(this.#sql.byKey.get(key))),
      insert: (person) => Promise.resolve(this.insert(person)),
    };
  }

  byId(id: number): Person | null {
    return this.#one(this.#sql.byId.get(id));
  }

  byName(name: string): Person | null {
    return this.#one(this.#sql.byName.get(name));
  }

  /** Inserts the person, or nothing (null) when their name or look-alike key is taken. */
  insert(person: NewPerson): Person | null {
    const { changes, lastInsertRowid } = this.#sql.insert.run(person.name, person.lookalikeKey, now());
    return changes === 0 ? null : this.byId(Number(lastInsertRowid));
  }

  list(page: Page): PageOf<Person> {
    checkPage(page);
    return this.#db.transaction(() => ({
      items: (this.#sql.list.all(page.limit, page.offset) as PersonRow[]).map(toPerson),
      total: this.#sql.count.get() as number,
    }))();
  }

  /** Deletes a person with all their faces; returns how many faces went. Throws not_found. */
  remove(id: number): number {
    return this.#erasure.erase(() => {
      const faces = this.#sql.countFaces.get(id) as number;
      if (this.#sql.delete.run(id).changes === 0) throw notFound('person', id);
      this.#sql.pruneChanges.run(CHANGE_LOG_KEPT);
      return faces;
    });
  }

  #one(row: unknown): Person | null {
    return row === undefined ? null : toPerson(row as PersonRow);
  }
}

export const toPerson = (row: PersonRow): Person => sharedRows.toPerson(row, (time) => time);

function prepare(db: Database.Database) {
  return {
    // Any UNIQUE column taken (name or look-alike key): nothing is inserted.
    insert: db.prepare('INSERT INTO people (name, name_key, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING'),
    byId: db.prepare(`SELECT ${PERSON_COLUMNS} FROM people p WHERE p.id = ?`),
    byName: db.prepare(`SELECT ${PERSON_COLUMNS} FROM people p WHERE p.name = ?`),
    byKey: db.prepare(`SELECT ${PERSON_COLUMNS} FROM people p WHERE p.name_key = ?`),
    list: db.prepare(`SELECT ${PERSON_COLUMNS} FROM people p ORDER BY p.id LIMIT ? OFFSET ?`),
    count: db.prepare('SELECT COUNT(*) FROM people').pluck(),
    countFaces: db.prepare('SELECT COUNT(*) FROM faces WHERE person_id = ?').pluck(),
    delete: db.prepare('DELETE FROM people WHERE id = ?'),
    pruneChanges: db.prepare('DELETE FROM face_changes WHERE seq <= (SELECT MAX(seq) FROM face_changes) - ?'),
  };
}
