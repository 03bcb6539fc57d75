// A small in-memory stand-in for the falconet management API, used only to
// develop the dashboard while the daemon's endpoints are being written.
// The browser tests (suite.mjs) run against the real daemon.
//
//   node tests/browser/mock-server.mjs [PORT] [WEB_DIR]
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';

const PORT = Number(process.argv[2] || 8099);
const WEB = path.resolve(process.argv[3] || path.join(path.dirname(new URL(import.meta.url).pathname), '../../web'));
const now = () => Math.floor(Date.now() / 1000);
const rnd = () => crypto.randomBytes(16).toString('hex');

const setupToken = rnd();
const users = new Map();
const sessions = new Map(); // sid -> {username, csrf}
const tokens = [];
const audit = [];
const devices = new Map();
const software = [];
const rollouts = [];
const actions = [];
const listeners = new Map(); // controller_id -> Set(res)
let nextId = {sw: 1, ro: 1, act: 1, tok: 1, audit: 1, entry: 1};

console.log(`setup: open http://127.0.0.1:${PORT}/ui/#/setup?token=${setupToken}`);

function send(res, code, obj, headers = {}) {
	const body = obj === null ? '' : JSON.stringify(obj);
	res.writeHead(code, {'Content-Type': 'application/json', ...headers});
	res.end(body);
}
const err = (res, code, e, detail) => send(res, code, {error: e, detail});

function perms(u) {
	return u.permissions;
}
function grantMatches(g, p) {
	const a = g.split('.');
	const b = p.split('.');
	if (a.length > b.length) return false;
	return a.every((x, i) => x === '*' || x === b[i]);
}
function allowed(grants, p) {
	let ok = false;
	for (const g of grants) {
		if (g.startsWith('!')) {
			if (grantMatches(g.slice(1), p)) return false;
		} else if (grantMatches(g, p)) ok = true;
	}
	return ok;
}

function readBody(req) {
	return new Promise((resolve) => {
		const chunks = [];
		req.on('data', (c) => chunks.push(c));
		req.on('end', () => resolve(Buffer.concat(chunks)));
	});
}

function cookie(req, name) {
	const m = (req.headers.cookie || '').match(new RegExp('(?:^|;\\s*)' + name + '=([^;]+)'));
	return m ? m[1] : null;
}

function auth(req) {
	const sid = cookie(req, 'falconet_session');
	if (sid && sessions.has(sid)) {
		const s = sessions.get(sid);
		const u = users.get(s.username);
		if (u && u.enabled) return {user: u, session: s, sid};
	}
	const b = (req.headers.authorization || '').match(/^Bearer (.+)$/);
	if (b) {
		const t = tokens.find((x) => x.token === b[1]);
		if (t) return {user: {...users.get(t.username), permissions: t.permissions || users.get(t.username).permissions}, token: true};
	}
	return null;
}

function deviceState(d) {
	const a = openAction(d);
	if (a) return a.status === 'scheduled' ? 'pending' : a.status === 'canceling' ? 'canceling' : 'updating';
	const last = actions.filter((x) => x.device === d.controller_id).sort((x, y) => y.id - x.id)[0];
	if (last) return last.status === 'succeeded' ? 'in_sync' : last.status;
	return Object.keys(d.attributes).length ? 'idle' : 'registered';
}
function openAction(d) {
	return actions.find((a) => a.device === d.controller_id && ['scheduled', 'running', 'canceling'].includes(a.status));
}
// An action as the list shows it: no history or log, their counts.
function summary(a) {
	const {log, history, device, ...s} = a;
	const msgs = history.filter((e) => e.message);
	return {...s, history_count: history.length, history_dropped: 0, history_dropped_after: null,
		log_count: log.length, log_dropped: 0, log_dropped_after: null,
		last_message: msgs.length ? msgs[msgs.length - 1].message : null, last_line: log.length ? log[log.length - 1].line : null};
}
// A history entry or log line, with its id.
function entry(fields) {
	return {id: nextId.entry++, at: now(), last_at: now(), repeats: 1, ...fields};
}
// ?limit=&before= of an action's history or log: the newest entries below
// before, oldest first.
function page(list, kind, sp) {
	const limit = Number(sp.get('limit') || 100);
	const before = Number(sp.get('before') || 0);
	const older = list.filter((e) => !before || e.id < before);
	const items = older.slice(-limit);
	return {[kind]: items, count: list.length, dropped: 0, dropped_after: null, limit,
		next_before: older.length > items.length ? items[0].id : null};
}
function devJson(d) {
	const a = openAction(d);
	return {
		controller_id: d.controller_id, name: d.name, mode: d.mode, feed: d.feed, assigned_software_id: d.assigned_software_id,
		force: d.force, allow_downgrade: d.allow_downgrade, has_token: !!d.token, hw_model: d.attributes.hw_boardname || null,
		hw_revision: d.attributes.hw_revision || null, installed_version: d.installed_version, target_version: a ? a.version : null,
		attributes: d.attributes, created_at: d.created_at, last_seen: d.last_seen, last_address: d.last_address,
		online: !!d.last_seen && now() - d.last_seen < 60, poll_interval: 30, state: deviceState(d), action: a ? summary(a) : null,
	};
}
function emit(cid, event, data) {
	for (const res of listeners.get(cid) || []) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}
function getDevice(cid) {
	if (!devices.has(cid)) {
		devices.set(cid, {controller_id: cid, name: '', mode: 'rollout', feed: 'default', assigned_software_id: null, force: false,
			allow_downgrade: false, token: null, attributes: {}, installed_version: null, created_at: now(), last_seen: null, last_address: null});
	}
	return devices.get(cid);
}
function rolloutCounts(r) {
	const c = {targeted: 0, pending: 0, running: 0, succeeded: 0, failed: 0, stale: 0};
	for (const d of devices.values()) {
		if (d.feed !== r.feed || d.mode !== 'rollout') continue;
		c.targeted++;
		const a = actions.filter((x) => x.device === d.controller_id && x.rollout_id === r.id).sort((x, y) => y.id - x.id)[0];
		if (!a) c.pending++;
		else if (a.status === 'scheduled') c.pending++;
		else if (a.status === 'running') c.running++;
		else if (a.status === 'succeeded') c.succeeded++;
		else if (a.status === 'failed') c.failed++;
	}
	return c;
}
function roJson(r) {
	const sw = software.find((s) => s.id === r.software_id);
	return {...r, version: sw ? sw.version : null, counts: rolloutCounts(r)};
}
function maybeSchedule(d) {
	if (openAction(d)) return;
	let sw = null;
	let ro = null;
	if (d.mode === 'rollout') {
		ro = rollouts.filter((r) => r.feed === d.feed && !r.paused).sort((a, b) => b.id - a.id)[0];
		if (ro) sw = software.find((s) => s.id === ro.software_id);
	} else if (d.mode === 'assigned') sw = software.find((s) => s.id === d.assigned_software_id);
	if (!sw || sw.version === d.installed_version) return;
	const prev = actions.find((a) => a.device === d.controller_id && a.software_id === sw.id && a.status === 'failed');
	if (prev && !d.force) return;
	const a = {id: nextId.act++, device: d.controller_id, status: 'scheduled', software_id: sw.id, version: sw.version, filename: sw.filename,
		rollout_id: ro ? ro.id : null, forced: d.force, progress: 0, result_code: null, created_at: now(), updated_at: now(), closed_at: null,
		history: [entry({status: 'scheduled', message: 'offered'})], log: []};
	actions.push(a);
	emit(d.controller_id, 'action', summary(a));
}

function serveStatic(req, res, p) {
	let rel = p.replace(/^\/ui\/?/, '') || 'index.html';
	const file = path.join(WEB, path.normalize(rel));
	if (!file.startsWith(WEB)) return err(res, 404, 'not_found', 'no');
	fs.readFile(file, (e, data) => {
		if (e) return err(res, 404, 'not_found', 'no such file');
		const types = {'.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png', '.json': 'application/json'};
		res.writeHead(200, {'Content-Type': types[path.extname(file)] || 'application/octet-stream',
			'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'",
			'Cache-Control': 'no-cache'});
		res.end(data);
	});
}

function log(who, req, action, target, status) {
	audit.unshift({id: nextId.audit++, at: now(), user: who, address: '127.0.0.1', action, target, status});
}

const server = http.createServer(async (req, res) => {
	const url = new URL(req.url, 'http://x');
	const p = url.pathname;
	const m = req.method;
	if (p === '/') {
		res.writeHead(302, {Location: '/ui/'});
		return res.end();
	}
	if (p.startsWith('/ui')) return serveStatic(req, res, p);
	const raw = m === 'POST' && p === '/api/v1/software' ? null : await readBody(req);
	let body = {};
	if (raw && raw.length) {
		try {
			body = JSON.parse(raw.toString());
		} catch {
			body = {};
		}
	}
	// DDI
	let dm = p.match(/^\/DEFAULT\/controller\/v1\/([^/]+)(\/.*)?$/i);
	if (dm) {
		const cid = decodeURIComponent(dm[1]);
		const d = getDevice(cid);
		d.last_seen = now();
		d.last_address = '127.0.0.1';
		const sub = dm[2] || '';
		const base = `http://${req.headers.host}/DEFAULT/controller/v1/${dm[1]}`;
		if (!sub && m === 'GET') {
			maybeSchedule(d);
			const a = openAction(d);
			const links = {configData: {href: base + '/configData'}};
			if (a) links.deploymentBase = {href: `${base}/deploymentBase/${a.id}?c=1`};
			return send(res, 200, {config: {polling: {sleep: '00:00:30'}}, _links: links});
		}
		if (sub === '/configData') {
			Object.assign(d.attributes, body.data || {});
			return send(res, 200, null);
		}
		let am = sub.match(/^\/deploymentBase\/(\d+)(\/feedback)?/);
		if (am) {
			const a = actions.find((x) => x.id === Number(am[1]));
			if (!a) return send(res, 404, {});
			if (!am[2]) {
				if (a.status === 'scheduled') {
					a.status = 'running';
					a.history.push(entry({status: 'retrieved', message: 'device fetched the deployment'}));
					emit(cid, 'action', summary(a));
				}
				return send(res, 200, {id: String(a.id), deployment: {download: 'forced', update: 'forced', chunks: []}});
			}
			const st = body.status || {};
			for (const line of st.details || []) {
				const e = entry({line});
				a.log.push(e);
				emit(cid, 'log', {id: e.id, action_id: a.id, at: e.at, line});
				const pm = String(line).match(/(\d+)%/);
				if (pm) a.progress = Number(pm[1]);
			}
			if (st.execution === 'closed') {
				const ok = st.result && st.result.finished === 'success';
				a.status = ok ? 'succeeded' : 'failed';
				a.closed_at = now();
				a.progress = ok ? 100 : a.progress;
				if (ok) d.installed_version = a.version;
				d.force = false;
			} else a.status = 'running';
			a.updated_at = now();
			a.history.push(entry({status: st.execution, message: (st.details || []).join(' ')}));
			emit(cid, 'action', summary(a));
			return send(res, 200, null);
		}
		return send(res, 404, {});
	}
	if (p === '/healthz') return send(res, 200, {status: 'ok'});
	// Setup / login
	if (p === '/api/v1/setup' && m === 'GET') return send(res, 200, {needed: users.size === 0});
	const newSession = (username) => {
		const sid = rnd();
		const csrf = rnd();
		sessions.set(sid, {username, csrf});
		return {sid, csrf, cookie: `falconet_session=${sid}; Path=/; HttpOnly; SameSite=Strict`};
	};
	if (p === '/api/v1/setup' && m === 'POST') {
		if (users.size || body.token !== setupToken) return err(res, 403, 'forbidden', 'wrong token or already set up');
		if (!body.password || body.password.length < 10) return err(res, 400, 'weak_password', 'at least 10 characters');
		users.set(body.username, {username: body.username, password: body.password, permissions: ['*'], enabled: true, created_at: now(), last_login_at: now()});
		const s = newSession(body.username);
		return send(res, 201, {username: body.username, permissions: ['*'], csrf_token: s.csrf}, {'Set-Cookie': s.cookie});
	}
	if (p === '/api/v1/login' && m === 'POST') {
		const u = users.get(body.username);
		if (!u || u.password !== body.password || !u.enabled) return err(res, 401, 'unauthorized', 'wrong username or password');
		u.last_login_at = now();
		const s = newSession(u.username);
		log(u.username, req, 'login', u.username, 200);
		return send(res, 200, {username: u.username, permissions: u.permissions, csrf_token: s.csrf}, {'Set-Cookie': s.cookie});
	}
	const a = auth(req);
	if (!a) return err(res, 401, 'unauthorized', 'log in');
	if (a.session && !['GET', 'HEAD'].includes(m) && req.headers['x-csrf-token'] !== a.session.csrf) return err(res, 403, 'csrf', 'missing or wrong X-CSRF-Token');
	const need = (perm) => {
		if (allowed(perms(a.user), perm)) return true;
		err(res, 403, 'forbidden', `permission ${perm} required`);
		return false;
	};
	const ok = (action, target) => log(a.user.username, req, action, target, 200);
	if (p === '/api/v1/logout') {
		sessions.delete(a.sid);
		return send(res, 204, null, {'Set-Cookie': 'falconet_session=; Path=/; Max-Age=0'});
	}
	if (p === '/api/v1/me') return send(res, 200, {username: a.user.username, permissions: a.user.permissions, csrf_token: a.session ? a.session.csrf : null});
	if (p === '/api/v1/me/password') {
		if (body.current !== a.user.password) return err(res, 403, 'forbidden', 'wrong current password');
		a.user.password = body.new;
		for (const [k, s] of sessions) if (s.username === a.user.username) sessions.delete(k);
		return send(res, 204, null);
	}
	if (p === '/api/v1/stats') {
		const list = [...devices.values()].map(devJson);
		const days = [];
		for (let i = 13; i >= 0; i--) {
			const d = new Date(Date.now() - i * 86400000).toISOString().slice(0, 10);
			const ok2 = actions.filter((x) => x.status === 'succeeded' && new Date(x.closed_at * 1000).toISOString().slice(0, 10) === d).length;
			const bad = actions.filter((x) => x.status === 'failed' && new Date(x.closed_at * 1000).toISOString().slice(0, 10) === d).length;
			days.push({day: d, succeeded: ok2 + (i % 3 === 0 ? i : 0), failed: bad + (i === 4 ? 2 : 0)});
		}
		return send(res, 200, {devices: {total: list.length, online: list.filter((d) => d.online).length, updating: list.filter((d) => d.state === 'updating').length, failed: list.filter((d) => d.state === 'failed').length}, updates: days});
	}
	if (p === '/api/v1/settings') {
		if (!need('settings.read')) return;
		return send(res, 200, {settings: {'listen.address': '127.0.0.1', 'listen.port': PORT, 'data_dir': '/tmp/x', 'poll.interval': '00:05:00', 'device_auth.mode': 'open', 'device_auth.gateway_token': '********', 'log.level': 'info', 'upload.max_size': '4G', 'proxy.trusted': []}});
	}
	if (p === '/api/v1/audit') {
		if (!need('audit.read')) return;
		const lim = Number(url.searchParams.get('limit') || 50);
		const off = Number(url.searchParams.get('offset') || 0);
		return send(res, 200, {entries: audit.slice(off, off + lim), total: audit.length});
	}
	if (p === '/api/v1/users') {
		if (m === 'GET') {
			if (!need('users.read')) return;
			return send(res, 200, {users: [...users.values()].map(({password, ...u}) => u)});
		}
		if (!need('users.write')) return;
		if (users.has(body.username)) return err(res, 409, 'exists', 'user exists');
		users.set(body.username, {username: body.username, password: body.password, permissions: body.permissions, enabled: true, created_at: now(), last_login_at: null});
		ok('user.create', body.username);
		return send(res, 201, {username: body.username});
	}
	let um = p.match(/^\/api\/v1\/users\/(.+)$/);
	if (um) {
		if (!need('users.write')) return;
		const u = users.get(decodeURIComponent(um[1]));
		if (!u) return err(res, 404, 'not_found', 'no such user');
		if (m === 'DELETE') {
			users.delete(u.username);
			return send(res, 204, null);
		}
		Object.assign(u, body);
		return send(res, 200, u);
	}
	if (p === '/api/v1/tokens') {
		if (m === 'GET') return send(res, 200, {tokens: tokens.filter((t) => t.username === a.user.username).map(({token, ...t}) => t)});
		const t = {id: nextId.tok++, name: body.name, permissions: body.permissions || null, username: a.user.username, token: rnd(), created_at: now(), last_used_at: null};
		tokens.push(t);
		return send(res, 201, t);
	}
	let tm = p.match(/^\/api\/v1\/tokens\/(\d+)$/);
	if (tm) {
		const i = tokens.findIndex((t) => t.id === Number(tm[1]));
		if (i >= 0) tokens.splice(i, 1);
		return send(res, 204, null);
	}
	// devices
	if (p === '/api/v1/devices' && m === 'GET') {
		if (!need('device.read')) return;
		const sp = url.searchParams;
		let list = [...devices.values()].map(devJson);
		const q = (sp.get('q') || '').toLowerCase();
		if (q) list = list.filter((d) => [d.controller_id, d.name, d.hw_model, d.installed_version].some((x) => String(x || '').toLowerCase().includes(q)));
		for (const f of ['state', 'feed', 'mode']) if (sp.get(f)) list = list.filter((d) => d[f] === sp.get(f));
		if (sp.get('rollout')) {
			const r = rollouts.find((x) => x.id === Number(sp.get('rollout')));
			list = r ? list.filter((d) => d.feed === r.feed && d.mode === 'rollout') : [];
		}
		const sort = sp.get('sort') || 'controller_id';
		const dir = sp.get('order') === 'desc' ? -1 : 1;
		list.sort((x, y) => dir * String(x[sort] ?? '').localeCompare(String(y[sort] ?? ''), undefined, {numeric: true}));
		const lim = Number(sp.get('limit') || 50);
		const off = Number(sp.get('offset') || 0);
		return send(res, 200, {devices: list.slice(off, off + lim), total: list.length, limit: lim, offset: off});
	}
	if (p === '/api/v1/devices' && m === 'POST') {
		if (!need('device.write')) return;
		if (devices.has(body.controller_id)) return err(res, 409, 'exists', 'device exists');
		const d = getDevice(body.controller_id);
		Object.assign(d, body);
		return send(res, 201, devJson(d));
	}
	if (p === '/api/v1/devices/bulk') {
		if (!need(body.delete ? 'device.delete' : 'device.write')) return;
		let n = 0;
		for (const id of body.ids || []) {
			if (!devices.has(id)) continue;
			n++;
			if (body.delete) devices.delete(id);
			else Object.assign(devices.get(id), body.patch);
		}
		ok('device.bulk', (body.ids || []).join(','));
		return send(res, 200, body.delete ? {deleted: n} : {updated: n});
	}
	let dv = p.match(/^\/api\/v1\/devices\/([^/]+)(\/actions|\/events)?$/);
	if (dv) {
		const cid = decodeURIComponent(dv[1]);
		const d = devices.get(cid);
		if (!d) return err(res, 404, 'not_found', 'no such device');
		if (dv[2] === '/actions') return send(res, 200, {actions: actions.filter((x) => x.device === cid).sort((x, y) => y.id - x.id).map((x) => ({device: cid, ...summary(x)}))});
		if (dv[2] === '/events') {
			res.writeHead(200, {'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache'});
			res.write(': hello\n\n');
			if (!listeners.has(cid)) listeners.set(cid, new Set());
			listeners.get(cid).add(res);
			req.on('close', () => listeners.get(cid).delete(res));
			return;
		}
		if (m === 'GET') return send(res, 200, devJson(d));
		if (m === 'DELETE') {
			if (!need('device.delete')) return;
			devices.delete(cid);
			return send(res, 204, null);
		}
		if (!need('device.write')) return;
		for (const [k, v] of Object.entries(body)) d[k] = v;
		ok('device.update', cid);
		return send(res, 200, devJson(d));
	}
	let al = p.match(/^\/api\/v1\/actions\/(\d+)\/(history|log)$/);
	if (al) {
		if (!need('device.read')) return;
		const x = actions.find((y) => y.id === Number(al[1]));
		if (!x) return err(res, 404, 'not_found', 'no such action');
		return send(res, 200, page(x[al[2]], al[2], url.searchParams));
	}
	let ac = p.match(/^\/api\/v1\/actions\/(\d+)\/cancel$/);
	if (ac) {
		if (!need('device.write')) return;
		const x = actions.find((y) => y.id === Number(ac[1]));
		x.status = 'canceled';
		x.closed_at = now();
		return send(res, 200, summary(x));
	}
	// software
	if (p === '/api/v1/software' && m === 'GET') {
		if (!need('software.read')) return;
		return send(res, 200, {software: software.map((s) => ({...s, rollouts: rollouts.filter((r) => r.software_id === s.id).map((r) => r.id)})), total: software.length});
	}
	if (p === '/api/v1/software' && m === 'POST') {
		if (!allowed(perms(a.user), 'software.write')) {
			req.resume();
			return err(res, 403, 'forbidden', 'software.write');
		}
		const hash = crypto.createHash('sha256');
		const md5 = crypto.createHash('md5');
		const sha1 = crypto.createHash('sha1');
		let size = 0;
		let head = '';
		req.on('data', (c) => {
			size += c.length;
			hash.update(c);
			md5.update(c);
			sha1.update(c);
			if (head.length < 65536) head += c.toString('latin1');
		});
		req.on('end', () => {
			const vm = head.match(/version\s*=\s*"([^"]+)"/);
			const s = {id: nextId.sw++, filename: url.searchParams.get('filename') || 'image.swu', version: vm ? vm[1] : '0.0.' + nextId.sw,
				description: '', size, hashes: {md5: md5.digest('hex'), sha1: sha1.digest('hex'), sha256: hash.digest('hex')}, signed: /sw-description\.sig/.test(head),
				compatibility: [{board: '', revision: '1.0', regex: false}], created_at: now(), deleted: false};
			software.push(s);
			ok('software.upload', s.filename);
			send(res, 201, s);
		});
		return;
	}
	let sm = p.match(/^\/api\/v1\/software\/(\d+)$/);
	if (sm && m === 'DELETE') {
		if (!need('software.delete')) return;
		const id = Number(sm[1]);
		if (rollouts.some((r) => r.software_id === id)) return err(res, 409, 'in_use', 'The software is used by a rollout.');
		software.splice(software.findIndex((s) => s.id === id), 1);
		return send(res, 204, null);
	}
	// rollouts
	if (p === '/api/v1/rollouts') {
		if (m === 'GET') {
			if (!need('rollout.read')) return;
			return send(res, 200, {rollouts: rollouts.map(roJson), total: rollouts.length});
		}
		if (!need('rollout.write')) return;
		const r = {id: nextId.ro++, name: body.name || '', feed: body.feed || 'default', software_id: body.software_id, paused: !!body.paused, pause_reason: null,
			max_running: body.max_running || 0, failure_threshold_count: body.failure_threshold_count || 0, failure_threshold_percent: body.failure_threshold_percent || 0, created_at: now()};
		rollouts.push(r);
		ok('rollout.create', String(r.id));
		return send(res, 201, roJson(r));
	}
	let rm = p.match(/^\/api\/v1\/rollouts\/(\d+)$/);
	if (rm) {
		const r = rollouts.find((x) => x.id === Number(rm[1]));
		if (!r) return err(res, 404, 'not_found', 'no such rollout');
		if (m === 'DELETE') {
			if (!need('rollout.delete')) return;
			rollouts.splice(rollouts.indexOf(r), 1);
			return send(res, 204, null);
		}
		if (!need('rollout.write')) return;
		Object.assign(r, body);
		if ('paused' in body) r.pause_reason = body.paused ? 'paused by ' + a.user.username : null;
		return send(res, 200, roJson(r));
	}
	err(res, 404, 'not_found', 'no route');
});
server.listen(PORT, '127.0.0.1', () => console.log(`listening on 127.0.0.1:${PORT}`));
