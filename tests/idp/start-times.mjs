// Measures how long the bundled identity server takes from spawn to its `ready` line, N times in a
// row, with the server's own stage timings (its `started in` log line) and the machine's load.
// Usage: node tests/idp/start-times.mjs [N]   (docs/testing.md, "The identity server's start-up")
import { spawn } from 'node:child_process';
import { loadavg, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';

const server = fileURLToPath(new URL('./server.mjs', import.meta.url));
const runs = Number(process.argv[2] ?? 10);
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');

function startOnce() {
  return new Promise((resolve, reject) => {
    const began = performance.now();
    const child = spawn(process.execPath, [server], {
      env: { ...process.env, IDP_PORT: '0', IDP_ADMIN_TOKEN: 'start-times' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stages = '';
    child.stderr.on('data', (chunk) => {
      const line = String(chunk).split('\n').find((l) => l.includes('started in'));
      if (line) stages = line.replace('[idp] ', '');
    });
    const failed = (code) => reject(new Error(`the server exited (${code}) before ready; is \`npm ci --prefix tests/idp\` done?`));
    child.once('exit', failed);
    child.stdout.once('data', () => {
      const ms = performance.now() - began;
      child.off('exit', failed);
      child.once('exit', () => resolve({ ms, stages }));
      child.kill();
    });
    child.once('error', reject);
  });
}

console.log(`# ${runs} starts of tests/idp/server.mjs, ${new Date().toISOString()}, ${cpus().length} cores, load before ${load()}`);
const times = [];
for (let i = 1; i <= runs; i += 1) {
  const { ms, stages } = await startOnce();
  times.push(ms);
  console.log(`${i}\t${Math.round(ms)} ms to ready\t${stages}`);
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)];
console.log(`# min ${Math.round(times[0])} ms, median ${Math.round(median)} ms, max ${Math.round(times.at(-1))} ms; load after ${load()}`);
