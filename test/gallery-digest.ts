import { createHash } from 'node:crypto';
import type { GalleryStore } from '../src/store/store.js';

/**
 * A digest of everything a gallery holds that a person could see change: people (names), every face (its person,
 * cluster, source, box), clusters, the curation constraints, the embeddings snapshot, the calibration. Tests of
 * refused changes compare it before and after: equal digests mean nothing stored changed. Read through the
 * GalleryStore interface only, so it works on every driver.
 */
export async function galleryDigest(store: GalleryStore): Promise<string> {
  const hash = createHash('sha256');
  const add = (part: unknown): void => {
    hash.update(JSON.stringify(part));
    hash.update('\n');
  };
  add(await store.getModel());
  for (let offset = 0; ; offset += 1000) {
    const page = await store.listPeople({ limit: 1000, offset });
    add(page.items);
    if (offset + page.items.length >= page.total) break;
  }
  for (let afterId = 0; ; ) {
    const page = await store.listStoredFaces({}, { limit: 1000, afterId });
    add(page.items);
    if (page.nextAfterId === null) break;
    afterId = page.nextAfterId;
  }
  add((await store.listClusters({ limit: 1000, offset: 0 }, 0)).items.map(({ id, size, createdAt }) => ({ id, size, createdAt })));
  add(await store.listConstraints());
  const snapshot = await store.loadEmbeddings();
  add([...snapshot.faceIds]);
  add([...snapshot.personIds]);
  hash.update(new Uint8Array(snapshot.vectors.buffer, snapshot.vectors.byteOffset, snapshot.vectors.byteLength));
  add(await store.getCalibration());
  return hash.digest('hex');
}
