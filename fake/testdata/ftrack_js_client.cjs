const path = require('path');
const { Session } = require(path.join(process.env.FTRACK_JS_DIR, 'node_modules', '@ftrack', 'api'));
async function main() {
  const [url, user, key] = process.argv.slice(2);
  const session = new Session(url, user, key, { autoConnectEventHub: false, strictApi: true });
  await session.initializing;
  const out = {};
  out.version = session.serverVersion;
  const users = await session.query(`select id, username from User where username is "${user}"`);
  const userId = users.data[0].id;
  const created = await session.create('Job', { user_id: userId, status: 'running', data: JSON.stringify({ description: 'from js 10%' }) });
  const id = created.data.id;
  out.created = { status: created.data.status, type: created.data.type, created_at: created.data.created_at };
  await session.update('Job', [id], { status: 'done', finished_at: new Date('2026-01-02T03:04:05Z') });
  const q = await session.query(`select id, status, data, finished_at from Job where id is "${id}"`);
  out.queried = q.data[0];
  out.next = q.metadata.next;
  out.url = session.getComponentUrl('abc').replace(key, 'KEY');
  try { await session.query('select id from Job where status matches "x"'); } catch (e) { out.error = { name: e.name, message: e.message }; }
  await session.delete('Job', [id]);
  const gone = await session.query(`select id from Job where id is "${id}"`);
  out.remaining = gone.data.length;
  console.log(JSON.stringify(out));
}
main().catch((e) => { console.error('FAILED', e && e.name, e && e.message); process.exit(1); });
