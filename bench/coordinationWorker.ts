/**
 * One competing agent for the coordination benchmark: appends `count` messages to communication-log.json.
 *   node coordinationWorker.js store <file> <tag> <count>   through the store (lock, re-read, atomic write)
 *   node coordinationWorker.js naive <file> <tag> <count>   read, parse, push, write back, no lock
 */
import * as fs from 'fs';
import { JsonFileSpec, updateJsonFile } from '../src/core/store';
import { CommunicationLog, CommunicationLogSchema } from '../src/core/coordination/schemas';

function message(tag: string, i: number) {
  return {
    message_id: `${tag}_${i}`,
    from: tag,
    to: 'all',
    type: 'info',
    timestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    subject: `status ${i}`,
    message: 'all good',
    status: 'sent',
  };
}

async function main(): Promise<void> {
  const [mode, file, tag, count] = process.argv.slice(2);
  const spec: JsonFileSpec<CommunicationLog> = { file, schema: CommunicationLogSchema };
  for (let i = 0; i < Number(count); i++) {
    if (mode === 'store') {
      await updateJsonFile(spec, (log) => {
        log.messages.push(message(tag, i));
      });
    } else {
      const log = JSON.parse(fs.readFileSync(file, 'utf8')) as CommunicationLog;
      log.messages.push(message(tag, i));
      fs.writeFileSync(file, JSON.stringify(log, null, 2) + '\n');
    }
  }
}

main().catch((e) => {
  process.stderr.write(String(e) + '\n');
  process.exitCode = 1;
});
