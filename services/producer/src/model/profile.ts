import { readFileSync } from 'node:fs';
import { LabError, type LatencySpec, PROFILE_SCHEMA, type Profile, validateProfile } from '@pushpull/common';
import marketOpen from '../../profiles/market-open.json' with { type: 'json' };
import steady from '../../profiles/steady.json' with { type: 'json' };

// Profiles come from the built-in JSON files, from a --profile FILE.json, or in a POST /control/schedule
// body; all three go through validateProfile (@pushpull/common: the profile is a wire contract shared with
// the lab, with its JSON Schema for the HTTP framework), which names the offending field.

export { type LatencySpec, PROFILE_SCHEMA, type Profile, validateProfile };

export const BUILTIN_PROFILES: Readonly<Record<string, Readonly<Profile>>> = Object.freeze({
  'market-open': validateProfile(marketOpen, 'profiles/market-open.json'),
  steady: validateProfile(steady, 'profiles/steady.json'),
});

/** `market-open`, `steady`, or a path to a JSON file. Errors are LAB_ERR_PROFILE naming the file and field. */
export function loadProfile(nameOrPath: string): Readonly<Profile> {
  const builtin = BUILTIN_PROFILES[nameOrPath];
  if (builtin) return builtin;
  if (!nameOrPath.endsWith('.json'))
    throw new LabError(
      'LAB_ERR_PROFILE',
      `--profile: "${nameOrPath}" is neither a built-in profile (${Object.keys(BUILTIN_PROFILES).join(', ')}) nor a .json file`,
      { field: 'profile' },
    );
  let text: string;
  try {
    text = readFileSync(nameOrPath, 'utf8');
  } catch (e) {
    throw new LabError('LAB_ERR_PROFILE', `--profile: cannot read "${nameOrPath}": ${(e as Error).message}`, {
      field: 'profile',
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new LabError('LAB_ERR_PROFILE', `--profile: "${nameOrPath}" is not JSON: ${(e as Error).message}`, {
      field: 'profile',
    });
  }
  return validateProfile(parsed, nameOrPath);
}
