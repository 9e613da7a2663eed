// Drive the standalone longrun fake from node:test (Node 18+, no packages).
//
//   LONGRUN_FAKE_BIN=/path/to/longrun-fake node --test fake_control.test.mjs
//
// Without LONGRUN_FAKE_BIN it builds ./cmd/longrun-fake with `go build`
// when Go is installed, and skips otherwise. The fake runs with -speed 0,
// so its clock moves only through the control API: no wall-clock waits.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
let tmp;
let binary = process.env.LONGRUN_FAKE_BIN;
let skip = false;
if (!binary) {
  try {
    tmp = mkdtempSync(join(tmpdir(), 'longrun-fake-'));
    binary = join(tmp, 'longrun-fake');
    execFileSync('go', ['build', '-o', binary, './cmd/longrun-fake'], { cwd: root, stdio: 'inherit' });
  } catch {
    skip = 'set LONGRUN_FAKE_BIN or install Go to build longrun-fake';
  }
}

const fake = { users: [] };

function startFake() {
  return new Promise((resolve, reject) => {
    const proc = spawn(binary, ['-addr', '127.0.0.1:0', '-speed', '0', '-log-level', 'warn'],
      { stdio: ['ignore', 'pipe', 'inherit'] });
    fake.proc = proc;
    proc.on('error', reject);
    proc.on('exit', (code) => reject(new Error(`longrun-fake exited (${code}) before it was ready`)));
    const lines = createInterface({ input: proc.stdout });
    lines.on('line', (line) => {
      line = line.trim();
      if (line.startsWith('longrun fake listening on ')) fake.url = line.split(/\s+/)[4];
      else if (line.startsWith('control token: ')) fake.token = line.slice('control token: '.length);
      else if (line.startsWith('name=')) {
        fake.users.push(Object.fromEntries(line.split(/\s+/).map((kv) => kv.split(/=(.*)/s, 2))));
      } else if (line === 'ready') resolve();
    });
  });
}

async function request(method, path, body, headers = {}) {
  const init = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['Content-Type'] = 'application/json';
  }
  const resp = await fetch(fake.url + path, init);
  const text = await resp.text();
  let json;
  try { json = text ? JSON.parse(text) : null; } catch { json = text; }
  return { status: resp.status, body: json };
}

const control = (method, route, body) =>
  request(method, '/_fake/' + route, body, { Authorization: 'Bearer ' + fake.token });

function cloudsigma(method, path, body) {
  const { email, password } = fake.users[0];
  const basic = Buffer.from(`${email}:${password}`).toString('base64');
  return request(method, '/api/2.0/' + path, body, { Authorization: 'Basic ' + basic });
}

before(async () => { if (!skip) await startFake(); });

after(async () => {
  if (fake.proc && fake.proc.exitCode === null) {
    fake.proc.removeAllListeners('exit');
    const exited = new Promise((resolve) => fake.proc.on('exit', resolve));
    fake.proc.kill('SIGTERM');
    assert.equal(await exited, 0, 'longrun-fake exits 0 on SIGTERM');
  }
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test('clone, step the clock, a 503 burst, reset', { skip }, async () => {
  const health = await request('GET', '/_fake/health');
  assert.equal(health.status, 200);
  assert.equal(health.body.status, 'ok');

  const servers = await cloudsigma('GET', 'servers/');
  assert.equal(servers.status, 200);
  const web1 = servers.body.objects.find((s) => s.name === 'web-1');
  const clone = await cloudsigma('POST', `servers/${web1.uuid}/action/?do=clone`, {});
  assert.equal(clone.status, 202);
  const job = clone.body.jobs[0].uuid;
  let doc = await cloudsigma('GET', `jobs/${job}/`);
  assert.equal(doc.body.state, 'started');
  assert.ok(doc.body.data.progress < 100);

  let out = await control('POST', 'clock', { action: 'advance', by: '30s' });
  assert.equal(out.status, 200);
  assert.ok(out.body.clock.running_jobs.cloudsigma > 0);
  out = await control('POST', 'clock', { action: 'run', limit: '24h' });
  assert.equal(out.status, 200);
  assert.equal(out.body.done, true);
  doc = await cloudsigma('GET', `jobs/${job}/`);
  assert.equal(doc.body.state, 'success');
  assert.equal(doc.body.data.progress, 100);

  out = await control('POST', 'faults', {
    dialect: 'cloudsigma', method: 'GET', path: `/api/2.0/jobs/${job}/`, times: 3,
    status: 503, body: '{"detail": "maintenance"}', headers: { 'Retry-After': '1' },
  });
  assert.equal(out.status, 201);
  const seen = [];
  for (let i = 0; i < 4; i++) seen.push((await cloudsigma('GET', `jobs/${job}/`)).status);
  assert.deepEqual(seen, [503, 503, 503, 200]);
  const log = await control('GET', 'requests?dialect=cloudsigma');
  assert.deepEqual(log.body.requests.slice(-4).map((r) => r.status), [503, 503, 503, 200]);

  out = await control('POST', 'reset');
  assert.equal(out.status, 200);
  assert.equal((await cloudsigma('GET', `jobs/${job}/`)).status, 404);
  const afterReset = await cloudsigma('GET', 'servers/');
  assert.deepEqual(afterReset.body.objects.map((s) => s.name), ['web-1']);
});

test('the control API needs its token', { skip }, async () => {
  const r = await request('GET', '/_fake/clock');
  assert.equal(r.status, 401);
  assert.match(r.body.error, /Bearer/);
});
