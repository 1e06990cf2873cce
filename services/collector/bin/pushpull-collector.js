#!/usr/bin/env node
// The `pushpull-collector` command npm links into node_modules/.bin: the collector's bundle (see run-bundle.js).
import { runBundle } from '@pushpull/common/run-bundle';

await runBundle('pushpull-collector', 'services/collector', import.meta.url);
