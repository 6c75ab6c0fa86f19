import type { Command } from 'commander';
import * as searchWire from '../../server/search-wire.js';
import { print } from '../context.js';
import { call, form, remote, type RemoteFlags } from '../remote.js';
import { formatSearch } from '../search-report.js';
import { withSearchOptions, type SearchFlags } from './search.js';

/** `facedb client` twins of search by face, export and import. */

export function clientSearch(): Command {
  const command = remote('search', 'search by face on the server: for every face in the photo, the nearest stored faces (named and unnamed)').argument(
    '<photo>',
    'image file',
  );
  return withSearchOptions(command).action(async (photo: string, flags: RemoteFlags & SearchFlags) => {
    const fields = { unnamed: flags.unnamed, top: flags.top, max_faces: flags.maxFaces, min_face_size: flags.minFaceSize };
    const result = searchWire.searchFromWire(await call(flags, '/v1/search', await form({ image: photo }, fields), searchWire.searchResponse));
    print(flags.json ? JSON.stringify({ file: photo, ...result }) : formatSearch(photo, result));
  });
}
