/**
 * The plain-script baseline of the many-agents benchmark: one process that appends one message to a communication
 * log under proper-lockfile and writes it with write-file-atomic, what an agent's own script would do per call.
 *   node plainSend.js <communication-log.json> <from> <to> <subject>
 */
import * as fs from 'fs';
import * as lockfile from 'proper-lockfile';
import writeFileAtomic from 'write-file-atomic';

async function main(): Promise<void> {
  const [file, from, to, subject] = process.argv.slice(2);
  const release = await lockfile.lock(file, { realpath: false, retries: { retries: 100_000, minTimeout: 1, maxTimeout: 20, factor: 1.5 } });
  try {
    const log = JSON.parse(fs.readFileSync(file, 'utf8'));
    log.messages.push({
      message_id: `msg_${String(log.messages.length + 1).padStart(3, '0')}`,
      from,
      to,
      type: 'info',
      timestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      subject,
      message: 'x',
      priority: 'medium',
      requires_response: false,
      context: { related_task: null, related_files: [] },
      status: 'sent',
    });
    await writeFileAtomic(file, JSON.stringify(log, null, 2) + '\n');
  } finally {
    await release();
  }
}

main().catch((e) => {
  process.stderr.write(String(e?.stack ?? e) + '\n');
  process.exitCode = 1;
});
