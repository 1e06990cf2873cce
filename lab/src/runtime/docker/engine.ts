import type Docker from 'dockerode';
import { engineUnreachable, withTimeout } from '../engine.ts';
import { type ComposeFile, composeService, STACK_SERVICES } from './compose.ts';

// What the docker runtime needs before it starts anything: an engine that answers and the stack's images.

/** Resolves when the engine answers; otherwise a clear LAB_ERR_DOCKER_UNREACHABLE. */
export async function pingEngine(docker: Docker): Promise<void> {
  try {
    await withTimeout(docker.ping(), 5000, 'docker ping');
  } catch (e) {
    throw engineUnreachable(e, '; start it with `sudo bash scripts/setup.sh` or use --runtime process');
  }
}

/** Names of the compose images that are not present locally (the lab never pulls). */
export async function missingImages(docker: Docker, compose: ComposeFile): Promise<string[]> {
  const wanted = STACK_SERVICES.map((s) => composeService(compose, s).image);
  const missing: string[] = [];
  for (const image of wanted) {
    try {
      await docker.getImage(image).inspect();
    } catch {
      missing.push(image);
    }
  }
  return missing;
}
