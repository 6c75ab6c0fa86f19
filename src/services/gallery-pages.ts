import type { Page, PageOf } from '../store/store.js';

/** Rows read per page when a service walks a whole list of the gallery (export, reembed). */
export const GALLERY_PAGE = 500;

/**
 * Every item of a paged gallery list (people, a person's faces, unnamed faces, clusters), a page at a time, so a
 * walk over the whole gallery never holds more than one page of it.
 */
export async function* eachPage<T>(read: (page: Page) => Promise<PageOf<T>>, size = GALLERY_PAGE): AsyncGenerator<T[]> {
  for (let offset = 0; ; offset += size) {
    const page = await read({ limit: size, offset });
    if (page.items.length > 0) yield page.items;
    if (offset + size >= page.total || page.items.length === 0) return;
  }
}
