import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { Command } from 'commander';
import { FacedbError } from '../../errors/errors.js';
import * as searchWire from '../../server/search-wire.js';
import * as transferWire from '../../server/transfer-wire.js';
import { GALLERY_FILE_TYPE } from '../../server/transfer-wire.js';
import { print } from '../context.js';
import { call, form, remote, request, type RemoteFlags } from '../remote.js';
import { formatSearch } from '../search-report.js';
import { withSearchOptions, type SearchFlags } from './search.js';
import { formatExported, formatImported, writeExport } from './transfer.js';

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

export function clientExport(): Command {
  return remote('export', "write the server's whole gallery to one portable JSON-lines file (needs an admin key)")
    .argument('<file>', 'the file to write')
    .option('--photos', 'also the photo bytes the server keeps (of uploads)')
    .action(async (file: string, flags: RemoteFlags & { photos?: boolean }) => {
      const { response } = await request(flags, '/v1/export', { photos: flags.photos === true }, { method: 'GET' });
      if (response.body === null) throw new FacedbError('unreachable', 'the server answered without a file');
      const { trailer, bytes } = await writeExport(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>), file);
      print(flags.json ? JSON.stringify({ file, bytes, ...(JSON.parse(trailer) as object) }) : formatExported(file, trailer, bytes));
    });
}

export function clientImport(): Command {
  return remote('import', 'load a file written by facedb export into the server\'s gallery; importing twice adds nothing (needs an admin key)')
    .argument('<file>', 'the file to send')
    .action(async (file: string, flags: RemoteFlags) => {
      const size = (await stat(file).catch((error: unknown) => {
        throw new FacedbError('not_found', `cannot read ${file}`, { cause: error });
      })).size;
      const body = Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>;
      const init = { method: 'POST', headers: { 'content-type': GALLERY_FILE_TYPE, 'content-length': String(size) }, body, duplex: 'half' } as RequestInit;
      const { response, url } = await request(flags, '/v1/import', {}, init);
      const parsed = transferWire.importResponse.safeParse(await response.json().catch(() => null));
      if (!parsed.success) throw new FacedbError('internal', `unexpected answer from ${url.origin}/v1/import`);
      const summary = transferWire.importFromWire(parsed.data);
      print(flags.json ? JSON.stringify({ file, ...summary }) : formatImported(file, summary));
    });
}
