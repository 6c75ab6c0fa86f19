import type pg from 'pg';
import type { NewPerson, PeopleRecords } from '../lookalikes.js';
import * as sharedRows from '../rows.js';
import { notFound } from '../rows.js';
import type { Page, PageOf, Person } from '../store.js';
import { CHANGE_LOG_KEPT } from '../store.js';
import { checkPage } from '../validation.js';
import { count, PRUNE_CHANGES, READ_SNAPSHOT, transaction, type Queryable } from './connection.js';
import type { Erasure } from './erasure.js';

type PersonRow = sharedRows.PersonRow<Date>;

const PERSON_COLUMNS = `p.id, p.name, p.created_at,
  (SELECT COUNT(*)::int FROM faces f WHERE f.person_id = p.id) AS face_count`;

/** The PostgreSQL store's people: stored and read, never judged (the name rules are in ../lookalikes.ts). */
export class PostgresPeople {
  readonly #pool: pg.Pool;
  readonly #erasure: Erasure;

  constructor(pool: pg.Pool, erasure: Erasure) {
    this.#pool = pool;
    this.#erasure = erasure;
  }

  /** The driver's side of the name rules, as ../lookalikes.ts asks for it. */
  get records(): PeopleRecords {
    return {
      // PostgreSQL text cannot hold NUL, and such a name cannot exist: asking would only raise an error.
      byName: async (name) => (name.includes('\0') ? null : this.#one(this.#pool, 'p.name = $1', name)),
      byLookalikeKey: async (key) => (key.includes('\0') ? null : this.#one(this.#pool, 'p.name_key = $1', key)),
      insert: (person) => transaction(this.#pool, 'BEGIN', (client) => this.insert(client, person)),
    };
  }

  byId(db: Queryable, id: number): Promise<Person | null> {
    return this.#one(db, 'p.id = $1', id);
  }

  /** Inserts the person, or nothing (null) when their name or look-alike key is taken, even by an uncommitted insert. */
  async insert(client: pg.PoolClient, person: NewPerson): Promise<Person | null> {
    const { rows } = await client.query<{ id: number }>('INSERT INTO people (name, name_key) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING id', [
      person.name,
      person.lookalikeKey,
    ]);
    return rows[0] === undefined ? null : this.byId(client, rows[0].id);
  }

  list(page: Page): Promise<PageOf<Person>> {
    checkPage(page);
    return transaction(this.#pool, READ_SNAPSHOT, async (client) => {
      const { rows } = await client.query<PersonRow>(`SELECT ${PERSON_COLUMNS} FROM people p ORDER BY p.id LIMIT $1 OFFSET $2`, [
        page.limit,
        page.offset,
      ]);
      return { items: rows.map(toPerson), total: await count(client, 'SELECT COUNT(*)::int AS n FROM people') };
    });
  }

  /** Deletes a person with all their faces; returns how many faces went. Throws not_found. */
  remove(id: number): Promise<number> {
    return this.#erasure.erase(async (client) => {
      // Locking the person first keeps a concurrent addFaces from slipping faces past the count.
      const { rowCount } = await client.query('SELECT 1 FROM people WHERE id = $1 FOR UPDATE', [id]);
      if (rowCount === 0) throw notFound('person', id);
      const faces = await count(client, 'SELECT COUNT(*)::int AS n FROM faces WHERE person_id = $1', [id]);
      await client.query('DELETE FROM people WHERE id = $1', [id]);
      await client.query(PRUNE_CHANGES, [CHANGE_LOG_KEPT]);
      return faces;
    });
  }

  async #one(db: Queryable, where: string, value: unknown): Promise<Person | null> {
    const { rows } = await db.query<PersonRow>(`SELECT ${PERSON_COLUMNS} FROM people p WHERE ${where}`, [value]);
    return rows[0] === undefined ? null : toPerson(rows[0]);
  }
}

const toPerson = (row: PersonRow): Person => sharedRows.toPerson(row, (time) => time.toISOString());
