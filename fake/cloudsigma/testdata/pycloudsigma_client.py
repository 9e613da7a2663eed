"""Drive the fake CloudSigma with CloudSigma's own Python client.

Run by TestPycloudsigmaReferenceClient with CLOUDSIGMA_CONFIG pointing at
a config file (api_endpoint, ws_endpoint, username, password) and the
pycloudsigma sources on PYTHONPATH. Prints one JSON object: every
operation with ok or its error, and the facts the Go test checks.
"""
import json
import sys
import time
import traceback

import iso8601

import cloudsigma.resource as cr
from cloudsigma import errors

results = []
facts = {}


def op(name, fn):
    try:
        value = fn()
        results.append({'op': name, 'ok': True})
        return value
    except Exception as e:  # noqa: broad on purpose: report, go on
        results.append({'op': name, 'ok': False, 'error': repr(e),
                        'trace': traceback.format_exc(limit=3)})
        return None


def poll(client, uuid, status, timeout=30):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = client.get(uuid)['status']
        if last == status:
            return last
        time.sleep(0.01)
    raise Exception('%s stayed %s, never %s' % (uuid, last, status))


def refused(fn, cls):
    try:
        fn()
    except cls as e:
        if not e.request_id:
            raise Exception('error without request_id: %r' % (e,))
        return e.status_code
    raise Exception('not refused')


dv, sv, jb = cr.Drive(), cr.Server(), cr.Jobs()
ws = op('websocket', lambda: cr.Websocket(timeout=30))

op('drives.list', lambda: dv.list())
op('drives.list_detail', lambda: dv.list_detail())
op('drives.get_schema', lambda: dv.get_schema()['fields']['size'])
op('servers.get_schema', lambda: sv.get_schema()['fields']['vnc_password'])
op('jobs.get_schema', lambda: jb.get_schema()['filtering']['state'])

disk = op('drives.create', lambda: dv.create(
    {'name': 'py_disk', 'size': '1024000000', 'media': 'disk'}))
cdrom = op('drives.create cdrom', lambda: dv.create(
    {'name': 'py_cdrom', 'size': 1024000000, 'media': 'cdrom'}))
op('websocket.wait_for_status drive unmounted', lambda: ws.wait_for_status(
    disk['resource_uri'], cr.Drive, 'unmounted'))
op('drives.get unmounted', lambda: poll(dv, cdrom['uuid'], 'unmounted'))
facts['resize_status'] = op('drives.update size', lambda: dv.update(
    disk['uuid'], {'name': 'py_disk', 'size': '2048000000', 'media': 'disk'})['status'])
op('drives.get after resize', lambda: poll(dv, disk['uuid'], 'unmounted'))
full = op('drives.get', lambda: dv.get(disk['uuid']))
if full:
    full['size'] = 3 * 1024 ** 3
facts['resize_action_status'] = op('drives.resize', lambda: dv.resize(
    disk['uuid'], full)['status'])
op('drives.get after resize action', lambda: poll(dv, disk['uuid'], 'unmounted'))

server = op('servers.create', lambda: sv.create({
    'name': 'py_server', 'cpu': 1000, 'mem': 512 * 1024 ** 2,
    'vnc_password': 'testserver', 'meta': {'role': 'py'},
    'drives': [
        {'device': 'virtio', 'dev_channel': '0:0', 'drive': disk['uuid'], 'boot_order': 1},
        {'device': 'ide', 'dev_channel': '0:1', 'drive': cdrom['uuid'], 'boot_order': 2},
    ],
    'nics': [{'ip_v4_conf': {'ip': None, 'conf': 'dhcp'}, 'model': 'virtio'}],
}))
facts['attached_drive_status'] = op('drives.get mounted', lambda: poll(dv, disk['uuid'], 'mounted'))
op('servers.update', lambda: sv.update(server['uuid'], {
    'name': 'py_server_2', 'cpu': 2000, 'mem': 512 * 1024 ** 2, 'vnc_password': 'testserver',
    'drives': server['drives'], 'nics': server['nics'], 'meta': {'role': 'py2'}}))
op('servers.start', lambda: sv.start(server['uuid']))
op('websocket.wait_for_status server running', lambda: ws.wait_for_status(
    server['resource_uri'], cr.Server, 'running'))
facts['runtime_interface'] = op('servers.runtime', lambda: sv.runtime(
    server['uuid'])['nics'][0]['interface_type'])
op('servers.get runtime', lambda: sv.get(server['uuid'])['runtime']['nics'][0]['ip_v4']['uuid'])
facts['vnc_url'] = op('servers.open_vnc', lambda: sv.open_vnc(server['uuid'])['vnc_url'])
op('servers.close_vnc', lambda: sv.close_vnc(server['uuid']))
facts['console_url'] = op('servers.open_console', lambda: sv.open_console(server['uuid'])['console_url'])
op('servers.close_console', lambda: sv.close_console(server['uuid']))
facts['start_running'] = op('servers.start refused', lambda: refused(
    lambda: sv.start(server['uuid']), errors.PermissionError))
facts['delete_mounted'] = op('drives.delete mounted refused', lambda: refused(
    lambda: dv.delete(disk['uuid']), errors.PermissionError))
op('servers.stop', lambda: sv.stop(server['uuid']))
op('servers.get stopped', lambda: poll(sv, server['uuid'], 'stopped'))

clone = op('servers.clone', lambda: sv.clone(
    server['uuid'], {'name': 'py_clone', 'random_vnc_password': True}))
job_uri = clone and clone['jobs'][0]['resource_uri']


def job_done():
    ws.wait_obj_wrapper(ws.wait_obj_uri, (job_uri, cr.Jobs),
                        extra_filter=lambda j: j['state'] == 'success')
    return jb.get(clone['jobs'][0]['uuid'])['data']['progress']


facts['clone_progress'] = op('websocket wait clone job', job_done)
op('clone drives mounted', lambda: [poll(dv, m['drive']['uuid'], 'mounted') for m in clone['drives']])
op('jobs.list', lambda: jb.list())
op('servers.start clone', lambda: sv.start(clone['uuid']))
op('servers.get clone running', lambda: poll(sv, clone['uuid'], 'running'))
op('servers.shutdown', lambda: sv.shutdown(clone['uuid']))
op('servers.get clone stopped', lambda: poll(sv, clone['uuid'], 'stopped'))
op('servers.delete_with_all_drives', lambda: sv.delete_with_all_drives(server['uuid']))
op('servers.delete_with_disks', lambda: sv.delete_with_disks(clone['uuid']))
facts['deleted_drive'] = op('drives.get deleted', lambda: refused(
    lambda: dv.get(disk['uuid']), errors.ClientError))
bulk = op('drives.create bulk', lambda: dv.create([
    {'name': 'py_bulk_%d' % i, 'size': '1073741824', 'media': 'disk'} for i in range(3)]))
op('drives.delete', lambda: [poll(dv, d['uuid'], 'unmounted') and dv.delete(d['uuid']) for d in bulk])
# pycloudsigma's own websocket acceptance tests (testing/acceptance/
# test_websocket.py): a server and a drive named "", waited for by their
# frames; attaching the drive sends the server's frame; after the
# deletes the next frame's GET is a 404.
anon_srv = op('servers.create name ""', lambda: sv.create(
    {'cpu': 1000, 'name': '', 'mem': 256 * 1024 ** 2, 'vnc_password': 'foo'}))
op('websocket wait server stopped', lambda: ws.wait_obj_wrapper(
    ws.wait_obj_uri, (anon_srv['resource_uri'], cr.Server), timeout=30,
    extra_filter=lambda x: x['status'] == 'stopped'))
anon = op('drives.create name ""', lambda: dv.create(
    {'size': 1000 ** 3, 'name': '', 'media': 'disk'}))
facts['anon_drive_name'] = anon and anon['name']
op('websocket wait drive unmounted', lambda: ws.wait_obj_wrapper(
    ws.wait_obj_uri, (anon['resource_uri'], cr.Drive), timeout=30,
    extra_filter=lambda x: x['status'] == 'unmounted'))
op('servers.update attach', lambda: sv.update(anon_srv['uuid'], {
    'cpu': 1000, 'name': '', 'mem': 256 * 1024 ** 2, 'vnc_password': 'foo',
    'drives': [{'dev_channel': '0:0', 'device': 'virtio', 'drive': anon['uuid']}]}))
op('websocket wait server frame', lambda: ws.wait_obj_uri(anon_srv['resource_uri'], cr.Server))
op('drives.delete attached to a stopped server', lambda: dv.delete(anon['uuid']))
facts['detached'] = op('servers.get detached', lambda: len(sv.get(anon_srv['uuid'])['drives']))
op('servers.delete', lambda: sv.delete(anon_srv['uuid']))
facts['deleted_server'] = op('servers.get deleted', lambda: refused(
    lambda: sv.get(anon_srv['uuid']), errors.ClientError))
# Cookie authentication: GenericClient(login_method='session') logs in
# with POST /accounts/action/?do=login and sends the sessionid cookie and
# the X-CSRFToken header instead of HTTP Basic.


def auth_refused(fn):
    try:
        fn()
    except errors.AuthError as e:
        return e.status_code
    raise Exception('not refused')


sdv = op('session login', lambda: cr.Drive(login_method='session'))
facts['session_cookie'] = op('session cookies', lambda: sorted(sdv.c._session.cookies.keys()))
sess = op('session drives.create', lambda: sdv.create({'name': 'py_session', 'size': 1024 ** 3, 'media': 'disk'}))
op('session drives.list_detail', lambda: [d['uuid'] for d in sdv.list_detail() if d['uuid'] == sess['uuid']][0])
op('session drives.get unmounted', lambda: poll(sdv, sess['uuid'], 'unmounted'))
op('session drives.delete', lambda: sdv.delete(sess['uuid']))


def no_csrf():
    token = sdv.c._session.headers.pop('X-CSRFToken')
    try:
        return auth_refused(lambda: sdv.create({'name': 'py_nocsrf', 'size': 1024 ** 3, 'media': 'disk'}))
    finally:
        sdv.c._session.headers['X-CSRFToken'] = token


facts['session_no_csrf'] = op('session create without X-CSRFToken refused', no_csrf)
op('session logout', lambda: sdv.c.post('/accounts/action/', {}, query_params={'do': 'logout'}))
facts['session_after_logout'] = op('session list after logout refused', lambda: auth_refused(sdv.list))


def bad_login():
    try:
        cr.Drive(login_method='session', password='wrong')
    except errors.AuthError as e:
        return e.status_code
    raise Exception('not refused')


facts['session_bad_login'] = op('session login with a wrong password refused', bad_login)
# The drives library, as pycloudsigma's LibraryDriveTest and its
# persistent-image helper (testing/acceptance/common.py) use it.
lib = cr.LibDrive()
op('libdrives.get_schema', lambda: lib.get_schema()['filtering']['os'])
libs = op('libdrives.list limit 5', lambda: lib.list(query_params={'limit': 5}))
op('libdrives.list_detail', lambda: lib.list_detail())
lib_disk = libs and [d for d in libs if d['media'] == 'disk'][0]
lib_cdrom = libs and [d for d in libs if d['media'] == 'cdrom'][0]
op('libdrives.get', lambda: lib.get(lib_disk['uuid'])['name'] == lib_disk['name'] or 1 / 0)
facts['libdrive_owner_through_drives'] = op('drives.get of a library drive', lambda: dv.get(lib_disk['uuid'])['owner'])
op('library drive not in drives.list', lambda: lib_disk['uuid'] not in [d['uuid'] for d in dv.list()] or 1 / 0)
lib_srv_def = {'name': 'py_lib', 'cpu': 1000, 'mem': 512 * 1024 ** 2, 'vnc_password': 'testserver',
               'drives': [{'device': 'virtio', 'dev_channel': '0:0', 'drive': None, 'boot_order': 1}]}
lib_srv_def['drives'][0]['drive'] = lib_cdrom and lib_cdrom['uuid']
lib_srv = op('servers.create with a library cdrom', lambda: sv.create(lib_srv_def))
op('servers.delete_with_all_drives keeps the library cdrom', lambda: sv.delete_with_all_drives(lib_srv['uuid']))
op('libdrives.get after', lambda: lib.get(lib_cdrom['uuid']))
lib_srv_def['drives'][0]['drive'] = lib_disk and lib_disk['uuid']
facts['attach_preinstalled'] = op('servers.create with a library disk refused', lambda: refused(
    lambda: sv.create(lib_srv_def), errors.PermissionError))
lib_clone = op('drives.clone of a library drive', lambda: dv.clone(lib_disk['uuid'], {'name': 'py_lib_clone'}))
op('library clone unmounted', lambda: poll(dv, lib_clone['uuid'], 'unmounted'))
facts['lib_clone_owner'] = op('library clone owned', lambda: dv.get(lib_clone['uuid'])['owner'] is not None)
op('library clone delete', lambda: dv.delete(lib_clone['uuid']))
lib_clone2 = op('libdrives clone action', lambda: lib._action(lib_disk['uuid'], 'clone', {'name': 'py_lib_clone2'}))
op('libdrives clone unmounted', lambda: poll(dv, lib_clone2['uuid'], 'unmounted'))
op('libdrives clone delete', lambda: dv.delete(lib_clone2['uuid']))
facts['lib_delete'] = op('drives.delete of a library drive refused', lambda: refused(
    lambda: dv.delete(lib_disk['uuid']), errors.PermissionError))
# Snapshots, as pycloudsigma's samples/snapshot.py and snapshot_purge.py
# and its test_snapshots.py use them.
sn = cr.Snapshot()
op('snapshots.get_schema', lambda: sn.get_schema()['fields']['drive'])
sdisk = op('drives.create for snapshots', lambda: dv.create({'name': 'py_snap_src', 'size': 1024000000, 'media': 'disk'}))
op('drives.get unmounted for snapshots', lambda: poll(dv, sdisk['uuid'], 'unmounted'))
facts['no_snapshots'] = op('drive without snapshots', lambda: dv.get(sdisk['uuid'])['snapshots'])
snap = op('snapshots.create', lambda: sn.create({'drive': sdisk['uuid'], 'name': 'py_snap', 'meta': {'key': 'val'}}))
facts['snapshot_status'] = snap and snap['status']
op('snapshots.get available', lambda: poll(sn, snap['uuid'], 'available'))
snap2 = op('snapshots.create without a name', lambda: sn.create({'drive': sdisk['uuid']}))
op('snapshot default name', lambda: snap2['name'].startswith(sdisk['uuid'] + '__') or 1 / 0)
op('snapshots.update', lambda: sn.update(snap2['uuid'], {'drive': sdisk['uuid'], 'name': 'py_snap_2', 'meta': {'k': 'v'}}))
op('snapshots.get renamed', lambda: sn.get(snap2['uuid'])['name'] == 'py_snap_2' or 1 / 0)
facts['drive_snapshots'] = op('drive snapshots field', lambda: len(dv.get(sdisk['uuid'])['snapshots']))
facts['snapshots_for_drive'] = op('snapshots.list_detail drive filter', lambda: len(
    sn.list_detail(query_params={'drive': sdisk['uuid']})))
op('snapshots.list timestamps (snapshot_purge.py)', lambda: [
    iso8601.parse_date(s['timestamp']) for s in sn.list() if s['drive']['uuid'] == sdisk['uuid']])
op('snapshots.get available 2', lambda: poll(sn, snap2['uuid'], 'available'))
sclone = op('snapshots.clone', lambda: sn.clone(snap['uuid'], avoid=sdisk['uuid']))
facts['snapshot_clone'] = sclone and [sclone['name'], sclone['size'], sclone['status']]
op('snapshot clone unmounted', lambda: poll(dv, sclone['uuid'], 'unmounted'))
op('snapshot clone delete', lambda: dv.delete(sclone['uuid']))
op('snapshots.delete', lambda: sn.delete(snap['uuid']))
facts['deleted_snapshot'] = op('snapshots.get deleted', lambda: refused(lambda: sn.get(snap['uuid']), errors.ClientError))
op('drives.delete with a snapshot', lambda: dv.delete(sdisk['uuid']))
facts['snapshot_of_deleted_drive'] = op('snapshot of a deleted drive', lambda: refused(
    lambda: sn.get(snap2['uuid']), errors.ClientError))
# Tags, as pycloudsigma's test_tags.py uses them (without its IP and VLAN,
# which the fake does not serve).
tg = cr.Tags()
op('tags.get_schema', lambda: tg.get_schema()['fields']['resources'])
ts1 = op('servers.create for tags 1', lambda: sv.create({'name': 'py_tag1', 'cpu': 1000, 'mem': 512 * 1024 ** 2, 'vnc_password': 'pass'}))
ts2 = op('servers.create for tags 2', lambda: sv.create({'name': 'py_tag2', 'cpu': 1000, 'mem': 512 * 1024 ** 2, 'vnc_password': 'pass'}))
tdr = op('drives.create for tags', lambda: dv.create({'name': 'py_tag_drive', 'size': 1000 ** 3, 'media': 'disk'}))
tag1 = op('tags.create', lambda: tg.create({'name': 'MyGroupOfThings'}))
tag2 = op('tags.create with resources', lambda: tg.create(
    {'name': 'TagCreatedWithResource', 'resources': [ts1['uuid'], ts2['uuid'], tdr['uuid']]}))
facts['tag_resources'] = op('tags.create resources', lambda: sorted(r['res_type'] for r in tag2['resources']))
op('tags.list', lambda: len(tg.list()) >= 2 or 1 / 0)
op('tags.get', lambda: tg.get(tag2['uuid']))
op('tags.update resources', lambda: tg.update(tag2['uuid'], {'name': 'TagCreatedWithResource', 'resources': [ts1['uuid'], tdr['uuid']]}))
facts['tag_on_drive'] = op('drive tags', lambda: [t['uuid'] == tag2['uuid'] for t in dv.get(tdr['uuid'])['tags']])
facts['server2_untagged'] = op('server tags after the update', lambda: sv.get(ts2['uuid'])['tags'])


def tag_from_resource():
    s2 = sv.get(ts2['uuid'])
    s2['tags'] = [tag1['uuid'], tag2['uuid']]
    return sv.update(ts2['uuid'], s2)


op('servers.update tags', tag_from_resource)
facts['tag1_servers'] = op('tags.servers', lambda: [x['uuid'] == ts2['uuid'] for x in tg.servers(tag1['uuid'])])
facts['tag2_drives'] = op('tags.drives', lambda: len(tg.drives(tag2['uuid'])))
facts['tag2_after_resource_put'] = op('tags.get after the server PUT', lambda: len(tg.get(tag2['uuid'])['resources']))
op('drives.delete tagged', lambda: dv.delete(tdr['uuid']))
op('servers.delete tagged 1', lambda: sv.delete(ts1['uuid']))
op('servers.delete tagged 2', lambda: sv.delete(ts2['uuid']))
op('tags.delete', lambda: tg.delete(tag1['uuid']))
facts['tag2_left'] = op('tags.get after the deletes', lambda: tg.get(tag2['uuid'])['resources'])
op('tags.delete 2', lambda: tg.delete(tag2['uuid']))
facts['left'] = op('drives.list left', lambda: sorted(
    d['name'] for d in dv.list_detail() if d['name'].startswith('py_')))

json.dump({'results': results, 'facts': facts}, sys.stdout)
sys.exit(0 if all(r['ok'] for r in results) else 1)
