import { Command } from 'commander';
import { MAX_SEARCH_TOP } from '../../services/face-search.js';
import { integerOption, print, withFaceLimits, type CliContext } from '../context.js';
import { formatSearch } from '../search-report.js';

export interface SearchFlags {
  unnamed?: boolean;
  top?: number;
  json?: boolean;
  maxFaces?: number;
  minFaceSize?: number;
}

/** `--unnamed` and `--top`, shared with `facedb client search`. */
export function withSearchOptions(command: Command): Command {
  return withFaceLimits(
    command
      .option('--unnamed', 'only faces nobody named yet (default: named and unnamed faces)')
      .option('--top <n>', `nearest stored faces per face, 1..${MAX_SEARCH_TOP} (default 10)`, integerOption('--top')),
  );
}

export function searchCommand(ctx: CliContext): Command {
  const command = new Command('search')
    .description('search by face: for every face in the photo, the nearest stored faces (named and unnamed) with person or cluster, source and distance')
    .argument('<photo>', 'image file')
    .option('--json', 'print the result as JSON');
  return withSearchOptions(command).action(async (photo: string, flags: SearchFlags) => {
    const service = await ctx.open('existing');
    try {
      const result = await service.searchByFace({ path: photo }, flags);
      print(flags.json ? JSON.stringify({ file: photo, ...result }) : formatSearch(photo, result));
    } finally {
      await service.close();
    }
  });
}
