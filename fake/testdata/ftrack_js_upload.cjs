// Uploads a file as a job attachment with ftrack's own JavaScript client
// (@ftrack/api: Session.createComponent, its Uploader), then reads it back.
// The uploader is written for browsers: this script gives Node the two
// browser pieces it touches, `window` (online, no-op listeners) and an
// XMLHttpRequest over fetch. Everything else (part sizes, parallel parts,
// ETags, complete_multipart_upload, the ComponentLocation) is the client's.
const path = require('path');
const fs = require('fs');
const crypto = require('crypto');
const { Session } = require(path.join(process.env.FTRACK_JS_DIR, 'node_modules', '@ftrack', 'api'));

globalThis.window = { navigator: { onLine: true }, addEventListener() {}, removeEventListener() {} };

let maxInFlight = 0;
let inFlight = 0;
let puts = 0;

class NodeXMLHttpRequest extends EventTarget {
  constructor() {
    super();
    this.upload = new EventTarget();
    this.readyState = 0;
    this.status = 0;
    this.timeout = 0;
    this.response = null;
    this.headers = {};
    this.controller = new AbortController();
  }
  open(method, url) { this.method = method; this.url = url; this.readyState = 1; }
  setRequestHeader(k, v) { this.headers[k] = v; }
  getResponseHeader(k) { return this.responseHeaders ? this.responseHeaders.get(k) : null; }
  abort() {
    this.controller.abort();
    const ev = new Event('abort');
    this.dispatchEvent(ev);
    if (this.onabort) this.onabort(ev);
  }
  async send(body) {
    puts++;
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      const resp = await fetch(this.url, { method: this.method, headers: this.headers, body, signal: this.controller.signal, duplex: 'half' });
      this.response = await resp.text();
      this.status = resp.status;
      this.responseHeaders = resp.headers;
      this.readyState = 4;
      const progress = new Event('progress');
      progress.loaded = body ? body.size : 0;
      progress.lengthComputable = true;
      progress.total = progress.loaded;
      this.upload.dispatchEvent(progress);
      if (this.onreadystatechange) this.onreadystatechange();
      if (this.onload) this.onload();
      this.dispatchEvent(new Event('loadend'));
    } catch (e) {
      if (this.controller.signal.aborted) return;
      this.readyState = 4;
      const ev = new Event('error');
      this.dispatchEvent(ev);
      if (this.onerror) this.onerror(ev);
    } finally {
      inFlight--;
    }
  }
}
globalThis.XMLHttpRequest = NodeXMLHttpRequest;

async function main() {
  const [url, user, key, file] = process.argv.slice(2);
  const session = new Session(url, user, key, { autoConnectEventHub: false, strictApi: true });
  await session.initializing;
  const users = await session.query(`select id from User where username is "${user}"`);
  const job = await session.create('Job', { user_id: users.data[0].id, status: 'running', data: JSON.stringify({ description: 'uploading from js' }) });
  const bytes = fs.readFileSync(file);
  const blob = new Blob([bytes]);
  const [created, location, metadata] = await session.createComponent(blob, { name: path.basename(file) });
  const componentId = created.data.id;
  await session.create('JobComponent', { job_id: job.data.id, component_id: componentId });
  const attached = await session.query(`select component_id, component.name, component.file_type, component.size from JobComponent where job_id is "${job.data.id}"`);
  const resp = await fetch(session.getComponentUrl(componentId));
  const back = Buffer.from(await resp.arrayBuffer());
  console.log(JSON.stringify({
    componentId,
    jobId: job.data.id,
    multipart: 'urls' in metadata,
    uploadId: metadata.upload_id || '',
    puts,
    maxInFlight,
    locationEntity: location.data.__entity_type__,
    attached: attached.data.map((jc) => ({ id: jc.component_id, name: jc.component.name, type: jc.component.file_type, size: jc.component.size })),
    status: resp.status,
    size: back.length,
    sha256: crypto.createHash('sha256').update(back).digest('hex'),
  }));
}
main().catch((e) => { console.error('FAILED', e && e.name, e && e.message, e && e.stack); process.exit(1); });
