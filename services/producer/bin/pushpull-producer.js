#!/usr/bin/env node
// The `pushpull-producer` command npm links into node_modules/.bin: the producer's bundle (see run-bundle.js).
import { runBundle } from '@pushpull/common/run-bundle';

await runBundle('pushpull-producer', 'services/producer', import.meta.url);
