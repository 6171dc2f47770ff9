import * as fs from 'fs';
import * as path from 'path';
import { createFileOnce } from '../store/atomic';
import { renderFresh } from '../store/render';
import { COORDINATION_FILES } from '../workspace';
import { isoTime } from './time';

/** The four coordination files of seed 004 with valid empty contents. */

export function emptyCoordinationFiles(now: Date): Record<string, unknown> {
  return {
    [COORDINATION_FILES.registry]: {
      instances: {},
      coordination_protocol_version: '1.0',
      last_registry_update: isoTime(now),
    },
    [COORDINATION_FILES.tasks]: { active_tasks: [], pending_tasks: [], completed_tasks: [] },
    [COORDINATION_FILES.messages]: { messages: [], response_queue: [] },
    [COORDINATION_FILES.decisions]: { decisions: [], pending_decisions: [] },
  };
}

export interface InitResult {
  dir: string;
  created: string[];
  existing: string[];
}

/** Creates the coordination folder and any missing file. An existing file is never overwritten. */
export async function initCoordination(dir: string, now: Date = new Date()): Promise<InitResult> {
  await fs.promises.mkdir(dir, { recursive: true });
  const result: InitResult = { dir, created: [], existing: [] };
  for (const [name, content] of Object.entries(emptyCoordinationFiles(now))) {
    const file = path.join(dir, name);
    // A file that exists, or that someone else creates meanwhile, is kept.
    if (createFileOnce(file, renderFresh(content))) result.created.push(name);
    else result.existing.push(name);
  }
  return result;
}
