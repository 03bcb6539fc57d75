// Browser tests of the Falconet dashboard: Playwright (playwright-core)
// drives Debian's chromium, headless, against a running daemon.
//
//   BASE=http://127.0.0.1:PORT SERVER_LOG=/path/server.log MKSWU=... node suite.mjs
//
// Prints "ok - ..." / "not ok - ..." per check and ends with
// "N passed, N failed".  Screenshots go to SCREENSHOTS (default
// build/test/screenshots).
import {chromium} from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';
import {execFileSync} from 'node:child_process';
import crypto from 'node:crypto';
import os from 'node:os';

const BASE = process.env.BASE;
const SERVER_LOG = process.env.SERVER_LOG;
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const SHOTS = process.env.SCREENSHOTS || path.join(ROOT, 'build/test/screenshots');
const MKSWU = process.env.MKSWU || path.join(ROOT, 'build/test/tools/mkswu');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'falconet-browser-'));
const XSS = '<img src=x onerror=alert(1)>';
const ADMIN_PW = 'correct-horse-battery';
const VIEWER_PW = 'viewer-password-42';
const TENANT = process.env.TENANT || 'DEFAULT';
const MULTI_NOTE = 'rauc-hawkbit-updater and the Python rauc client take only one chunk with one artifact; SWUpdate takes several, each with a .swu artifact (it fails the update on a module without one), and the hawkBit SDK takes any';

let passed = 0;
let failed = 0;
const t0 = Date.now();

function ok(name) {
	passed++;
	console.log(`ok - ${name}`);
}
function notOk(name, why) {
	failed++;
	console.log(`not ok - ${name}${why ? ' (' + String(why).split('\n')[0].slice(0, 300) + ')' : ''}`);
}
// check(name, async fn): fn throws (or returns false) to fail.  After a
// failure, afterFailure() (set by main: closes any open dialog) keeps one
// failure from failing every check after it.
let afterFailure = null;
async function check(name, fn) {
	try {
		const r = await fn();
		if (r === false) notOk(name, 'returned false');
		else ok(name);
		return true;
	} catch (e) {
		notOk(name, e && e.message ? e.message : e);
		if (afterFailure) await afterFailure().catch(() => {});
		return false;
	}
}
function assert(cond, msg) {
	if (!cond) throw new Error(msg || 'assertion failed');
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(fn, ms = 10000, what = 'condition') {
	const end = Date.now() + ms;
	let last;
	while (Date.now() < end) {
		try {
			last = await fn();
			if (last) return last;
		} catch (e) {
			last = e;
		}
		await sleep(100);
	}
	throw new Error(`timed out after ${ms} ms waiting for ${what}${last instanceof Error ? ': ' + last.message : ''}`);
}

// ---- the simulated device, over DDI with fetch ----------------------------

const ddiUrl = (cid, sub = '') => `${BASE}/${TENANT}/controller/v1/${encodeURIComponent(cid)}${sub}`;
async function ddi(method, cid, sub, body) {
	const init = {method, headers: {Accept: 'application/hal+json'}};
	if (body !== undefined) {
		init.headers['Content-Type'] = 'application/json';
		init.body = JSON.stringify(body);
	}
	const r = await fetch(sub && sub.startsWith('http') ? sub : ddiUrl(cid, sub || ''), init);
	const text = await r.text();
	let json = null;
	try {
		json = text ? JSON.parse(text) : null;
	} catch {
		json = null;
	}
	return {status: r.status, json, text};
}
async function poll(cid) {
	return ddi('GET', cid);
}
async function configData(cid, data) {
	return ddi('PUT', cid, '/configData', {mode: 'merge', data});
}
async function feedback(cid, actionId, execution, finished, details) {
	return ddi('POST', cid, `/deploymentBase/${actionId}/feedback`, {
		id: String(actionId), status: {execution, result: {finished}, details},
	});
}

// ---- the browser ------------------------------------------------------------

fs.mkdirSync(SHOTS, {recursive: true});
let shotN = 0;
const textSlips = [];
async function shot(page, name, opts = {}) {
	const file = path.join(SHOTS, `${String(++shotN).padStart(2, '0')}-${name}.png`);
	// Text that betrays a rendering slip ("null", "undefined", "NaN").
	const slips = await page.evaluate(() => {
		const out = [];
		const w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
		for (let n = w.nextNode(); n; n = w.nextNode()) {
			const s = n.textContent.trim();
			if (/^(null|undefined|NaN|\[object Object\])$/.test(s) || /\b(undefined|NaN)\b|\[object Object\]/.test(s)) out.push(s.slice(0, 60));
		}
		return out;
	}).catch(() => []);
	for (const s of slips) textSlips.push(`${name}: ${s}`);
	try {
		// Toasts of earlier steps would cover the page.
		await page.evaluate(() => document.querySelectorAll('.toast').forEach((t) => t.remove())).catch(() => {});
		await page.screenshot({path: file, fullPage: !!opts.fullPage});
	} catch (e) {
		console.log(`# screenshot ${name} failed: ${e.message}`);
	}
	return file;
}

// A page of a new browser context, logged in as the admin, its script
// errors and dialogs gathered into the suite's (checked at the end).
// opts: {viewport, colorScheme, hash}.
let sharedErrors = null;
async function adminPage(browser, opts = {}) {
	const context = await browser.newContext({viewport: opts.viewport || {width: 1366, height: 900},
		colorScheme: opts.colorScheme || 'light'});
	const page = await context.newPage();
	page.setDefaultTimeout(10000);
	if (sharedErrors) {
		page.on('pageerror', (e) => sharedErrors.pageErrors.push(e.message));
		page.on('dialog', async (d) => {
			sharedErrors.dialogs.push(d.message());
			await d.dismiss().catch(() => {});
		});
	}
	await page.goto(`${BASE}/ui/#/login`);
	await page.waitForSelector('#login-form');
	await page.fill('#login-username', 'admin');
	await page.fill('#login-password', ADMIN_PW);
	await page.click('#login-submit');
	await page.waitForSelector('#logout');
	if (opts.hash) await page.goto(`${BASE}/ui/${opts.hash}`);
	return {context, page};
}

function setupToken() {
	let log = '';
	for (const f of String(SERVER_LOG).split(':')) {
		try {
			log += fs.readFileSync(f, 'utf8');
		} catch {
			// not there (yet)
		}
	}
	const m = log.match(/\/ui\/#\/setup\?token=([A-Za-z0-9_\-.%]+)/);
	return m ? m[1] : null;
}

async function main() {
	if (!BASE) throw new Error('set BASE');
	const browser = await chromium.launch({
		executablePath: CHROMIUM,
		args: ['--no-sandbox', '--disable-gpu', '--headless=new', '--disable-background-networking',
			'--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
	});
	const context = await browser.newContext({viewport: {width: 1366, height: 900}, colorScheme: 'light'});
	const page = await context.newPage();
	page.setDefaultTimeout(10000);
	const dialogs = [];
	const pageErrors = [];
	const cspErrors = [];
	page.on('dialog', async (d) => {
		dialogs.push(d.message());
		await d.dismiss().catch(() => {});
	});
	page.on('pageerror', (e) => pageErrors.push(e.message));
	sharedErrors = {pageErrors, dialogs};
	page.on('console', (m) => {
		if (m.type() === 'error' && /Content Security Policy|Refused to/.test(m.text())) cspErrors.push(m.text());
		if (process.env.VERBOSE) console.log(`# console.${m.type()}: ${m.text()}`);
	});

	const go = async (hash) => {
		await page.goto(`${BASE}/ui/${hash}`);
	};
	const apiFromPage = (method, p, body) => page.evaluate(async ([method, p, body]) => {
		const me = await (await fetch('/api/v1/me')).json().catch(() => ({}));
		const init = {method, headers: {'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token || ''}};
		if (body !== undefined) init.body = JSON.stringify(body);
		const r = await fetch(p, init);
		let j = null;
		try {
			j = await r.json();
		} catch {
			j = null;
		}
		return {status: r.status, body: j};
	}, [method, p, body]);

	afterFailure = () => page.evaluate(() => document.querySelectorAll('dialog').forEach((d) => d.remove()));

	// Open a set's or a module's details (the row's expand button), unless
	// they are open already.
	const expand = async (row) => {
		const sel = `${row} [data-action="expand"]`;
		await page.waitForSelector(sel);
		if (await page.getAttribute(sel, 'aria-expanded') !== 'true') await page.click(sel);
		await until(async () => (await page.getAttribute(sel, 'aria-expanded')) === 'true', 3000, 'details open');
	};

	// ---- 1. first-run setup ------------------------------------------------
	let token = null;
	await check('the server prints a one-time setup URL', async () => {
		token = await until(() => setupToken(), 10000, 'setup URL in the server log');
	});
	await check('GET / redirects to the dashboard, served by falconet with a CSP', async () => {
		const r = await fetch(BASE + '/', {redirect: 'manual'});
		assert([301, 302, 303, 307, 308].includes(r.status), `status ${r.status}`);
		assert(/\/ui\/?$/.test(r.headers.get('location') || ''), `location ${r.headers.get('location')}`);
		const ui = await fetch(BASE + '/ui/');
		assert(ui.status === 200, `GET /ui/ ${ui.status}`);
		const csp = ui.headers.get('content-security-policy') || '';
		assert(/script-src 'self'/.test(csp), `CSP: ${csp || 'none'}`);
		const js = await fetch(BASE + '/ui/js/pages/devices.js');
		assert(js.status === 200 && /javascript/.test(js.headers.get('content-type') || ''), `devices.js: ${js.status} ${js.headers.get('content-type')}`);
	});
	await check('without a user, the dashboard sends you to the setup page', async () => {
		await go('#/devices');
		await page.waitForSelector('#setup-form');
		assert(/#\/setup/.test(page.url()), page.url());
	});
	await check('first-run setup from the setup URL creates the admin and logs in', async () => {
		await go(`#/setup?token=${token}`);
		await page.waitForSelector('#setup-form');
		await page.fill('#setup-username', 'admin');
		await page.fill('#setup-password', 'short');
		await page.fill('#setup-password2', 'short');
		await page.click('#setup-submit');
		await page.waitForSelector('#setup-form .form-error:not([hidden])');
		await page.fill('#setup-password', ADMIN_PW);
		await page.fill('#setup-password2', ADMIN_PW);
		await shot(page, 'setup');
		await page.click('#setup-submit');
		await page.waitForSelector('#devices-table', {timeout: 15000});
		const r = await (await fetch(BASE + '/api/v1/setup')).json();
		assert(r.needed === false, 'setup still needed');
		assert((await page.textContent('.whoami')).includes('admin'), 'user name not shown');
	});
	await check('setup cannot be repeated once a user exists', async () => {
		const r = await fetch(BASE + '/api/v1/setup', {method: 'POST', headers: {'Content-Type': 'application/json'},
			body: JSON.stringify({token, username: 'evil', password: 'evil-password-123'})});
		assert(r.status === 403, `status ${r.status}`);
	});

	// ---- 2. logout / login -------------------------------------------------
	await check('logout ends the session and shows the login page', async () => {
		await page.click('#logout');
		await page.waitForSelector('#login-form');
		const r = await page.evaluate(async () => (await fetch('/api/v1/me')).status);
		assert(r === 401, `/me after logout: ${r}`);
		await go('#/software');
		await page.waitForSelector('#login-form');
		await shot(page, 'login');
	});
	await check('a wrong password is refused with a message', async () => {
		await page.fill('#login-username', 'admin');
		await page.fill('#login-password', 'not-the-password');
		await page.click('#login-submit');
		await page.waitForSelector('#login-form .form-error:not([hidden])');
	});
	await check('login brings you back to the page you asked for', async () => {
		await page.fill('#login-password', ADMIN_PW);
		await page.click('#login-submit');
		await page.waitForSelector('#dropzone');
		assert(/#\/software/.test(page.url()), page.url());
	});
	await check('a state-changing request without the CSRF header is refused', async () => {
		const st = await page.evaluate(async () => (await fetch('/api/v1/rollouts', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: '{"software_id":1}'})).status);
		assert(st === 403, `status ${st}`);
	});

	// ---- 3. upload with progress ---------------------------------------------
	const img = path.join(TMP, 'image-1.0.0.swu');
	execFileSync(MKSWU, ['-o', img, '-v', '1.0.0', '-r', '1.0', '-s', '20M', '-U'], {stdio: ['ignore', 'ignore', 'inherit']});
	let swId = null;
	await check('upload of a 20 MB .swu shows a progress bar that reaches 100 % and the image is listed', async () => {
		// Slow the upload down (20 MB/s) so that the bar has time to move.
		const cdp = await context.newCDPSession(page);
		await cdp.send('Network.enable');
		await cdp.send('Network.emulateNetworkConditions', {offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 20 * 1024 * 1024});
		await page.evaluate(() => {
			window.__progress = [];
			new MutationObserver(() => {
				const pb = document.querySelector('#uploads [role=progressbar]');
				if (pb) window.__progress.push(Number(pb.getAttribute('aria-valuenow')));
			}).observe(document.getElementById('uploads'), {subtree: true, attributes: true, childList: true});
		});
		await page.setInputFiles('#upload-input', img);
		await page.waitForSelector('#uploads .upload');
		await until(async () => (await page.evaluate(() => window.__progress.some((v) => v > 0 && v < 100))), 8000, 'the bar between 0 and 100 %').catch(() => {});
		await shot(page, 'software-uploading');
		await page.waitForSelector('#uploads .upload.upload-done', {timeout: 60000});
		await cdp.send('Network.emulateNetworkConditions', {offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1});
		const seen = await page.evaluate(() => window.__progress);
		assert(seen.some((v) => v > 0 && v < 100), `no intermediate progress: ${JSON.stringify(seen.slice(0, 20))}`);
		assert(seen.includes(100), 'never at 100 %');
		const row = await page.waitForSelector('#software-table tbody tr:has-text("1.0.0")');
		swId = Number(await row.getAttribute('data-id'));
		assert(swId > 0, 'no id');
		await shot(page, 'software-uploaded');
	});
	let swModuleId = null;
	await check('the uploaded .swu is a complete set of one OS module, its artifact as the reader found it', async () => {
		const row = `#software-table tr[data-id="${swId}"]`;
		const txt = await page.textContent(row);
		assert(/OS only/.test(txt), `set type not shown: ${txt}`);
		assert(/complete/.test(txt) && !/incomplete/.test(txt), 'completeness not shown');
		assert(/swupdate/.test(txt), 'version scheme not shown');
		await expand(row);
		const mod = await page.waitForSelector(`#set-${swId}-detail .module[data-type="os"]`);
		swModuleId = Number(await mod.getAttribute('data-module'));
		const m = await mod.textContent();
		assert(/image-1\.0\.0/.test(m) && /1\.0\.0/.test(m), `module name/version: ${m.slice(0, 200)}`);
		const art = `#set-${swId}-detail .artifact[data-format="swu"]`;
		const a = await page.textContent(art);
		assert(a.includes('image-1.0.0.swu'), `artifact: ${a.slice(0, 200)}`);
		assert(/SWUpdate image/.test(a) && /unsigned/.test(a), `reader info: ${a.slice(0, 300)}`);
		assert(/Entries/.test(a), 'entries not shown');
		const set = (await apiFromPage('GET', '/api/v1/software/' + swId)).body;
		assert(set.modules.length === 1 && set.modules[0].id === swModuleId, 'module id');
		assert(!(await page.$(`#set-${swId}-detail .multi-note`)), 'the multi-module note on a one-artifact set');
	});
	await check('the software list offers the image for download', async () => {
		const href = await page.getAttribute(`#software-table tr[data-id="${swId}"] a[download]`, 'href');
		const [status, len] = await page.evaluate(async (u) => {
			const c = new AbortController();
			const r = await fetch(u, {signal: c.signal});
			const l = r.headers.get('content-length');
			c.abort();
			return [r.status, Number(l)];
		}, href);
		assert(status === 200, `download ${status}`);
		assert(len === fs.statSync(img).size, `content-length ${len}, file ${fs.statSync(img).size}`);
	});
	await check('uploading the same version again shows the server\'s error', async () => {
		await page.setInputFiles('#upload-input', img);
		await page.waitForSelector('#uploads .upload.upload-failed', {timeout: 30000});
		const txt = await page.textContent('#uploads .upload.upload-failed');
		assert(/Failed/.test(txt), txt);
	});

	// ---- 3b. a RAUC bundle, modules and distribution sets made by hand --------
	const raucDir = path.join(TMP, 'rauc');
	const bundle = path.join(TMP, 'falconet-rauc-2.0.0.raucb');
	let raucId = null;
	await check('a RAUC bundle (made with rauc bundle) uploads and shows its compatible, format, images and signer', async () => {
		const dir = path.join(raucDir, 'content');
		fs.mkdirSync(dir, {recursive: true});
		const key = path.join(raucDir, 'key.pem');
		const cert = path.join(raucDir, 'cert.pem');
		execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '3650', '-subj', '/CN=falconet-test-signer',
			'-addext', 'extendedKeyUsage=codeSigning,emailProtection', '-keyout', key, '-out', cert], {stdio: ['ignore', 'ignore', 'ignore']});
		fs.writeFileSync(path.join(dir, 'rootfs.img'), crypto.randomBytes(64 * 1024));
		fs.writeFileSync(path.join(dir, 'appfs.img'), crypto.randomBytes(32 * 1024));
		fs.writeFileSync(path.join(dir, 'manifest.raucm'), [
			'[update]', 'compatible=falconet-test-board', 'version=2.0.0', 'description=browser test bundle', 'build=20261201', '',
			'[image.rootfs]', 'filename=rootfs.img', '', '[image.appfs.variant-a]', 'filename=appfs.img', ''].join('\n'));
		execFileSync('rauc', ['bundle', `--cert=${cert}`, `--key=${key}`, `--keyring=${cert}`, dir, bundle], {stdio: ['ignore', 'ignore', 'pipe']});
		const resp = page.waitForResponse((r) => r.request().method() === 'POST' && /\/api\/v1\/software\?/.test(r.url()), {timeout: 30000});
		await page.setInputFiles('#upload-input', bundle);
		const r = await resp;
		assert(r.status() === 201 || r.status() === 200, `upload ${r.status()}`);
		await page.waitForSelector(`#uploads .upload.upload-done[data-file="${path.basename(bundle)}"]`, {timeout: 30000});
		const all = (await apiFromPage('GET', '/api/v1/software')).body.software || [];
		const set = all.find((x) => (x.modules || []).some((m) => (m.artifacts || []).some((a) => a.filename === path.basename(bundle))));
		assert(set, 'the bundle\'s set is not listed by the API');
		raucId = set.id;
		assert(set.rauc_compatible === 'falconet-test-board' && set.format === 'raucb', JSON.stringify({rauc_compatible: set.rauc_compatible, format: set.format}));
		const row = `#software-table tr[data-id="${raucId}"]`;
		await page.waitForSelector(row);
		const txt = await page.textContent(row);
		assert(/semver/.test(txt), `version scheme of a RAUC set: ${txt}`);
		assert(txt.includes('falconet-test-board'), 'compatible not in the compatibility column');
		await expand(row);
		const det = `#set-${raucId}-detail`;
		await page.waitForSelector(`${det} .artifact[data-format="raucb"] .reader-rauc`);
		assert((await page.textContent(`${det} [data-field="compatible"]`)) === 'falconet-test-board', 'compatible');
		assert((await page.textContent(`${det} [data-field="bundle-format"]`)) === 'plain', 'bundle format');
		const imgs = await page.$$eval(`${det} .images-table tbody tr`, (rs) => rs.map((r) => [...r.cells].map((c) => c.textContent.trim())));
		const root = imgs.find((x) => x[0] === 'rootfs');
		const app = imgs.find((x) => x[0] === 'appfs');
		assert(root && root[2] === 'rootfs.img' && root[3] === '64.0 KiB', `rootfs image: ${JSON.stringify(imgs)}`);
		assert(app && app[1] === 'variant-a' && app[2] === 'appfs.img' && app[3] === '32.0 KiB', `appfs image: ${JSON.stringify(imgs)}`);
		assert((await page.textContent(`${det} [data-field="signer"]`)).includes('falconet-test-signer'), 'signer');
		const a = await page.textContent(`${det} .artifact[data-format="raucb"]`);
		assert(/Certificate expires\s*20\d\d-/.test(a), 'certificate expiry');
		assert(/Hooks\s*none/.test(a), 'hooks');
		// No keyring is configured: the dashboard says the check was not made.
		assert(await page.$(`${det} .artifact .sig-badge[data-sig="unchecked"]`), 'no "not checked" badge on the artifact');
		assert(await page.$(`${row} [data-sig="unchecked"]`), 'no "not checked" badge on the set');
		await shot(page, 'software-rauc');
	});

	await check('an encrypted RAUC bundle: the dashboard asks for its version and compatible, then shows its recipients', async () => {
		const dir = path.join(raucDir, 'crypt');
		fs.mkdirSync(dir, {recursive: true});
		const cert = path.join(raucDir, 'cert.pem');
		fs.writeFileSync(path.join(dir, 'rootfs.img'), crypto.randomBytes(16 * 1024));
		fs.writeFileSync(path.join(dir, 'manifest.raucm'), ['[update]', 'compatible=falconet-test-board', 'version=2.1.0', '',
			'[bundle]', 'format=crypt', '', '[image.rootfs]', 'filename=rootfs.img', ''].join('\n'));
		const plain = path.join(raucDir, 'crypt-plain.raucb');
		const enc = path.join(TMP, 'falconet-enc-2.1.0.raucb');
		execFileSync('rauc', ['bundle', `--cert=${cert}`, `--key=${path.join(raucDir, 'key.pem')}`, `--keyring=${cert}`, dir, plain], {stdio: ['ignore', 'ignore', 'pipe']});
		execFileSync('rauc', ['encrypt', `--keyring=${cert}`, `--to=${cert}`, plain, enc], {stdio: ['ignore', 'ignore', 'pipe']});
		await page.setInputFiles('#upload-input', enc);
		const failed = `#uploads .upload.upload-failed[data-file="${path.basename(enc)}"]`;
		await page.click(`${failed} [data-action="give-version"]`, {timeout: 30000});
		await page.fill('#upload-version', '2.1.0');
		await page.fill('#upload-compatible', 'falconet-test-board');
		await page.click('dialog .btn-primary');
		await page.waitForSelector(`#uploads .upload.upload-done[data-file="${path.basename(enc)}"]`, {timeout: 30000});
		const all = (await apiFromPage('GET', '/api/v1/software')).body.software || [];
		const set = all.find((x) => x.filename === path.basename(enc));
		assert(set && set.version === '2.1.0', 'not listed with version 2.1.0');
		const det = `#set-${set.id}-detail`;
		await expand(`#software-table tr[data-id="${set.id}"]`);
		assert((await page.textContent(`${det} [data-field="bundle-format"]`)) === 'crypt-encrypted', 'bundle format');
		assert(await page.$(`${det} .sig-badge[data-sig="unreadable"]`), 'no "signature unreadable" badge');
		assert((await page.textContent(`${det} .recipients`)).includes('CN = falconet-test-signer'), 'recipients');
		await page.evaluate(() => document.querySelectorAll('.toast').forEach((x) => x.remove()));
	});
	await check('a signed .swu shows signed, and that the server did not check the signature', async () => {
		const signed = path.join(TMP, 'signed-0.9.0.swu');
		execFileSync(MKSWU, ['-o', signed, '-v', '0.9.0', '-r', '9.9', '-s', '8K', '-k', path.join(TMP, 'swu-keys')], {stdio: ['ignore', 'ignore', 'inherit']});
		await page.setInputFiles('#upload-input', signed);
		await page.waitForSelector(`#uploads .upload.upload-done[data-file="signed-0.9.0.swu"]`, {timeout: 30000});
		const all = (await apiFromPage('GET', '/api/v1/software')).body.software || [];
		const set = all.find((x) => x.filename === 'signed-0.9.0.swu');
		assert(set, 'not listed');
		await expand(`#software-table tr[data-id="${set.id}"]`);
		const a = await page.textContent(`#set-${set.id}-detail .artifact[data-format="swu"]`);
		assert(/signed/.test(a) && !/unsigned/.test(a), `reader: ${a.slice(0, 200)}`);
		if (set.signature === 'unchecked') assert(await page.$(`#set-${set.id}-detail .sig-badge[data-sig="unchecked"]`), 'no "not checked" badge');
		else console.log(`# the signed .swu's signature: ${set.signature}`);
	});
	let modId = null;
	const conf = path.join(TMP, 'webui.conf');
	fs.writeFileSync(conf, 'listen=0.0.0.0:8080\n');
	await check('new module: an Application module made in the dashboard', async () => {
		await page.click('#new-module');
		await page.selectOption('#module-type', 'application');
		await page.fill('#module-name', 'webui');
		await page.fill('#module-version', '3.1.0');
		await page.fill('#module-vendor', 'ACME');
		await page.fill('#module-description', 'the operator web interface');
		await page.click('dialog [data-role="create"]');
		const row = await page.waitForSelector('#modules-table tr.module-row:has-text("webui")');
		modId = Number(await row.getAttribute('data-id'));
		assert(modId > 0, 'no module id');
		assert((await row.textContent()).includes('ACME'), 'vendor');
		assert((await row.textContent()).includes('in no set'), 'sets column');
		await expand(`#modules-table tr[data-id="${modId}"]`);
		await page.waitForSelector(`#module-${modId}-detail .no-artifacts`);
	});
	await check('module: add a plain file artifact (upload)', async () => {
		await page.click(`#module-${modId}-detail [data-action="add-file"]`);
		await page.setInputFiles('#artifact-file', conf);
		await page.click('dialog [data-role="upload"]');
		const a = await page.waitForSelector(`#module-${modId}-detail .artifact[data-format="file"]:has-text("webui.conf")`);
		const t = await a.textContent();
		assert(/file/.test(t) && /B/.test(t), t);
		const m = (await apiFromPage('GET', '/api/v1/modules/' + modId)).body;
		const art = (m.artifacts || []).find((x) => x.filename === 'webui.conf');
		assert(art && art.stored && art.size === fs.statSync(conf).size, `artifact: ${JSON.stringify(art)}`);
		const href = await a.$eval('a[download]', (x) => x.getAttribute('href'));
		const body = await page.evaluate(async (u) => (await fetch(u)).text(), href);
		assert(body === fs.readFileSync(conf, 'utf8'), 'download');
	});
	await check('module: add an external URL artifact (fetched once to check it)', async () => {
		const fav = fs.readFileSync(path.join(ROOT, 'web/favicon.svg'));
		await page.click(`#module-${modId}-detail [data-action="add-url"]`);
		await page.fill('#ext-url', `${BASE}/ui/favicon.svg`);
		await page.fill('#ext-size', String(fav.length));
		await page.fill('#ext-sha1', 'zz');
		await page.click('dialog [data-role="add"]');
		await page.waitForSelector('dialog .form-error:not([hidden])');
		await page.fill('#ext-sha1', crypto.createHash('sha1').update(fav).digest('hex'));
		await page.check('#ext-fetch');
		await page.click('dialog [data-role="add"]');
		const a = await page.waitForSelector(`#module-${modId}-detail .artifact:has-text("favicon.svg")`);
		assert(await a.$('.artifact-url'), 'URL not shown');
		assert(/external/.test(await a.textContent()), 'not marked external');
		const m = (await apiFromPage('GET', '/api/v1/modules/' + modId)).body;
		const art = (m.artifacts || []).find((x) => x.filename === 'favicon.svg');
		assert(art && art.url && art.hashes.sha256 === crypto.createHash('sha256').update(fav).digest('hex'), `fetched hashes: ${JSON.stringify(art)}`);
	});
	await check('module: edit its metadata (key, value, visible to the device)', async () => {
		await page.click(`#module-${modId}-detail [data-action="edit-module"]`);
		await page.click('#add-metadata');
		await page.fill('#metadata-rows .meta-row:last-child .meta-key', 'component');
		await page.fill('#metadata-rows .meta-row:last-child .meta-value', 'ui');
		await page.check('#metadata-rows .meta-row:last-child .meta-visible');
		await page.click('#add-metadata');
		await page.fill('#metadata-rows .meta-row:last-child .meta-key', 'owner');
		await page.fill('#metadata-rows .meta-row:last-child .meta-value', 'ops');
		await page.click('dialog [data-role="save"]');
		await page.waitForSelector(`#module-${modId}-detail .metadata:has-text("component")`);
		const m = (await apiFromPage('GET', '/api/v1/modules/' + modId)).body;
		const md = Object.fromEntries((m.metadata || []).map((x) => [x.key, x]));
		assert(md.component && md.component.value === 'ui' && md.component.target_visible === true, JSON.stringify(m.metadata));
		assert(md.owner && md.owner.value === 'ops' && md.owner.target_visible === false, JSON.stringify(m.metadata));
	});
	let partialId = null;
	await check('new distribution set of the Application module alone (OS with apps): incomplete', async () => {
		await page.click('#new-set');
		await page.fill('#set-name', 'webui-only');
		await page.fill('#set-version', '3.1.0');
		await page.selectOption('#set-type', 'os_app');
		await page.check(`#set-modules input[value="${modId}"]`);
		await until(async () => /Incomplete/.test(await page.textContent('#set-status')), 3000, 'the dialog says incomplete');
		assert((await page.textContent('#set-status')).includes(MULTI_NOTE), 'the multi-artifact note in the dialog');
		await page.click('#add-compat');
		await page.fill('#compat-rows .compat-row:last-child .compat-board', 'simboard');
		await page.fill('#compat-rows .compat-row:last-child .compat-revision', '1.0');
		await page.click('dialog [data-role="create"]');
		const row = await page.waitForSelector('#software-table tr.set-row:has-text("webui-only")');
		partialId = Number(await row.getAttribute('data-id'));
		const t = await row.textContent();
		assert(/incomplete/.test(t), `not shown incomplete: ${t}`);
		assert(/simboard/.test(t), 'compatibility');
		const set = (await apiFromPage('GET', '/api/v1/distributions/' + partialId)).body;
		assert(set.complete === false && set.type === 'os_app', JSON.stringify({complete: set.complete, type: set.type}));
		await page.waitForSelector(`#set-${partialId}-detail .multi-note`);
	});
	await check('edit the set while it is not locked: compatibility (regex) and metadata', async () => {
		await page.click(`#software-table tr[data-id="${partialId}"] [data-action="edit"]`);
		await page.fill('#compat-rows .compat-row:first-child .compat-revision', '^1\\.');
		await page.check('#compat-rows .compat-row:first-child .compat-regex');
		await page.click('#add-metadata');
		await page.fill('#metadata-rows .meta-row:last-child .meta-key', 'channel');
		await page.fill('#metadata-rows .meta-row:last-child .meta-value', 'beta');
		await page.click('dialog [data-role="save"]');
		await until(async () => (await page.textContent(`#software-table tr[data-id="${partialId}"]`)).includes('~ ^1\\.'), 5000, 'the regex revision');
		const set = (await apiFromPage('GET', '/api/v1/distributions/' + partialId)).body;
		assert(set.compatibility.length === 1 && set.compatibility[0].regex === true && set.compatibility[0].revision === '^1\\.', JSON.stringify(set.compatibility));
		assert((set.metadata || []).some((x) => x.key === 'channel' && x.value === 'beta'), JSON.stringify(set.metadata));
		await page.waitForSelector(`#set-${partialId}-detail .chip:has-text("channel")`);
	});
	let multiId = null;
	await check('new distribution set of the .swu\'s OS module and the Application module: complete, with the multi-module note', async () => {
		await page.click('#new-set');
		await page.fill('#set-name', 'gateway');
		await page.fill('#set-version', '4.0.0');
		await page.selectOption('#set-type', 'os_app');
		await page.selectOption('#set-scheme', 'semver');
		await page.check(`#set-modules input[value="${modId}"]`);
		await page.check(`#set-modules input[value="${swModuleId}"]`);
		await until(async () => /Complete/.test(await page.textContent('#set-status')), 3000, 'the dialog says complete');
		await page.click('dialog [data-role="create"]');
		const row = await page.waitForSelector('#software-table tr.set-row:has-text("gateway")');
		multiId = Number(await row.getAttribute('data-id'));
		const t = await row.textContent();
		assert(/complete/.test(t) && !/incomplete/.test(t), `not complete: ${t}`);
		assert(/OS with app\(s\)/.test(t) && /semver/.test(t), 'type and scheme');
		const det = `#set-${multiId}-detail`;
		await page.waitForSelector(`${det} .module[data-module="${swModuleId}"]`);
		await page.waitForSelector(`${det} .module[data-module="${modId}"] .artifact:has-text("favicon.svg")`);
		assert((await page.textContent(`${det} .multi-note`)).includes(MULTI_NOTE), 'multi-module note');
		const m = (await apiFromPage('GET', '/api/v1/modules/' + modId)).body;
		assert((m.distributions || []).includes(multiId) && (m.distributions || []).includes(partialId), `module's sets ${JSON.stringify(m.distributions)}`);
	});
	await check('a module in a set cannot be deleted: the server\'s reason is shown', async () => {
		await page.click(`#modules-table tr[data-id="${modId}"] [data-action="delete-module"]`);
		await page.click('dialog [data-role="confirm"]');
		const t = await page.waitForSelector('.toast-error');
		assert((await t.textContent()).length > 20, 'no reason');
		await page.waitForSelector(`#modules-table tr[data-id="${modId}"]`);
		await page.evaluate(() => document.querySelectorAll('.toast').forEach((x) => x.remove()));
	});
	await check('a module of its own: add and delete an artifact, then delete the module', async () => {
		await page.click('#new-module');
		await page.selectOption('#module-type', 'application');
		await page.fill('#module-name', 'scratch');
		await page.fill('#module-version', '0.1');
		await page.click('dialog [data-role="create"]');
		const row = await page.waitForSelector('#modules-table tr.module-row:has-text("scratch")');
		const id = Number(await row.getAttribute('data-id'));
		await expand(`#modules-table tr[data-id="${id}"]`);
		await page.click(`#module-${id}-detail [data-action="add-file"]`);
		await page.setInputFiles('#artifact-file', conf);
		await page.fill('#artifact-filename', 'scratch.conf');
		await page.click('dialog [data-role="upload"]');
		await page.waitForSelector(`#module-${id}-detail .artifact:has-text("scratch.conf")`);
		await page.click(`#module-${id}-detail [data-action="delete-artifact"]`);
		await page.click('dialog [data-role="confirm"]');
		await page.waitForSelector(`#module-${id}-detail .no-artifacts`);
		await page.click(`#modules-table tr[data-id="${id}"] [data-action="delete-module"]`);
		await page.click('dialog [data-role="confirm"]');
		await until(() => page.evaluate((id) => {
			const r = document.querySelector(`#modules-table tr[data-id="${id}"]`);
			return !r || /deleted/.test(r.textContent);
		}, id), 5000, 'the module gone from the list');
		const g = await apiFromPage('GET', '/api/v1/modules/' + id);
		assert(g.status === 404 || (g.body && g.body.deleted === true), `GET the deleted module: ${g.status}`);
	});
	await check('the software page with a RAUC bundle and a multi-module set', async () => {
		await go('#/software');
		await page.reload(); // a fresh page: no upload rows, no open details
		await page.waitForSelector('#software-table');
		assert(!(await page.$('#software-table tr.detail-row:not([hidden])')), 'details open after a reload');
		await expand(`#software-table tr[data-id="${multiId}"]`);
		await expand(`#software-table tr[data-id="${raucId}"]`);
		await page.waitForSelector(`#set-${raucId}-detail .images-table`);
		await page.evaluate(() => window.scrollTo(0, 0));
		await shot(page, 'software', {fullPage: true});
		const opts = await page.$$eval('#software-table tbody tr.set-row', (rs) => rs.length);
		assert(opts >= 4, `${opts} sets`);
		// At 1366 px the set table fits: its action buttons are not
		// scrolled out of sight.
		const [sw, cw] = await page.$eval('#software-table', (t) => [t.parentElement.scrollWidth, t.parentElement.clientWidth]);
		assert(sw <= cw, `the set table is ${sw - cw} px too wide`);
		assert(await page.isVisible(`#software-table tr[data-id="${multiId}"] [data-action="delete"]`), 'delete button');
	});

	// ---- 4. a simulated device and a rollout ------------------------------------
	const CID = 'sim-001';
	await check('a simulated device registers over DDI and is listed', async () => {
		const r = await poll(CID);
		assert(r.status === 200, `poll ${r.status}`);
		const c = await configData(CID, {hw_boardname: 'simboard', hw_revision: '1.0'});
		assert(c.status >= 200 && c.status < 300, `configData ${c.status}`);
		for (let i = 2; i <= 4; i++) {
			await poll(`sim-00${i}`);
			await configData(`sim-00${i}`, {hw_boardname: 'simboard', hw_revision: i === 4 ? '2.0' : '1.0'});
		}
		const names = {'sim-001': 'Line 1 controller', 'sim-002': 'Line 2 controller', 'sim-003': 'Lab bench A', 'sim-004': 'Lab bench B'};
		for (const [id, name] of Object.entries(names)) {
			const p = await apiFromPage('PATCH', '/api/v1/devices/' + id, {name});
			assert(p.status === 200, `PATCH name ${p.status}`);
		}
		await go('#/devices');
		await page.waitForSelector(`#devices-table tr[data-id="${CID}"]`);
		assert((await page.textContent(`#devices-table tr[data-id="${CID}"] .device-name`)) === names[CID], 'name not listed');
	});
	await check('devices table: sort by a header and filter by search', async () => {
		await page.click('#devices-table th[data-sort="controller_id"] button');
		await until(async () => (await page.getAttribute('#devices-table th[data-sort="controller_id"]', 'aria-sort')) === 'descending', 5000, 'descending');
		await until(async () => (await page.$$eval('#devices-table tbody tr', (rs) => rs.map((r) => r.dataset.id)))[0] === 'sim-004', 5000, 'sim-004 first');
		await page.fill('#device-search', 'sim-002');
		await until(async () => {
			const ids = await page.$$eval('#devices-table tbody tr', (rs) => rs.map((r) => r.dataset.id));
			return ids.length === 1 && ids[0] === 'sim-002';
		}, 5000, 'only sim-002');
		await page.fill('#device-search', '');
		await until(async () => (await page.$$('#devices-table tbody tr[data-id]')).length >= 4, 5000, 'all rows back');
	});
	await check('selection survives the live refresh and the bulk bar counts it', async () => {
		await page.check(`#devices-table tr[data-id="sim-004"] .row-check`);
		await page.check(`#devices-table tr[data-id="sim-003"] .row-check`);
		await page.waitForSelector('#bulkbar:not([hidden])');
		await sleep(3500); // at least one refresh
		assert(await page.isChecked('#devices-table tr[data-id="sim-004"] .row-check'), 'selection lost');
		assert((await page.textContent('#bulkbar .bulk-count')).includes('2'), 'count');
		await shot(page, 'devices-selection');
	});
	await check('bulk action: move the selected devices to another feed', async () => {
		await page.click('#bulkbar [data-bulk="feed"]');
		await page.fill('#bulk-feed', 'lab');
		await page.click('dialog .btn-primary');
		await until(async () => (await page.textContent('#devices-table tr[data-id="sim-004"]')).includes('lab'), 8000, 'feed lab');
		await page.click('#bulkbar .btn-ghost'); // clear the selection
	});

	let rolloutId = null;
	await check('create a rollout from feed and software in the dashboard', async () => {
		await go('#/rollouts');
		await page.click('#new-rollout');
		await page.selectOption('#rollout-software', String(swId));
		await page.fill('#rollout-feed', 'default');
		await page.fill('#rollout-name', 'Browser test rollout');
		await page.fill('#rollout-max-running', '5');
		await page.fill('#rollout-fail-percent', '50');
		await page.click('dialog [data-role="create"]');
		const card = await page.waitForSelector('article.rollout:has-text("Browser test rollout")');
		rolloutId = await card.getAttribute('data-id');
	});
	await check('pause the rollout: it shows paused and offers nothing', async () => {
		await page.click(`#rollout-${rolloutId} [data-action="pause"]`);
		await page.waitForSelector(`#rollout-${rolloutId}[data-paused="true"]`);
		await page.waitForSelector(`#rollout-${rolloutId} [data-action="resume"]`);
		await shot(page, 'rollouts-paused');
		const r = await poll(CID);
		assert(r.status === 200 && !(r.json && r.json._links && r.json._links.deploymentBase), 'a paused rollout offered an update');
	});
	await check('resume the rollout', async () => {
		await page.click(`#rollout-${rolloutId} [data-action="resume"]`);
		await page.waitForSelector(`#rollout-${rolloutId}[data-paused="false"]`);
	});

	// ---- 5. the device goes from pending to succeeded, live ------------------
	let actionId = null;
	let deployHref = null;
	await check('the device is offered the update and its page shows it pending', async () => {
		await go('#/devices/' + encodeURIComponent(CID));
		await page.waitForSelector('#device-id');
		await until(async () => (await page.textContent('#live-indicator')).includes('live'), 8000, 'SSE connected');
		const r = await until(async () => {
			const p = await poll(CID);
			return p.json && p.json._links && p.json._links.deploymentBase ? p : null;
		}, 10000, 'deploymentBase link');
		deployHref = r.json._links.deploymentBase.href;
		actionId = Number(deployHref.match(/deploymentBase\/(\d+)/)[1]);
		await until(async () => (await page.textContent('.page-head')).match(/pending/i), 8000, 'state pending');
		await page.waitForSelector(`#action-${actionId}`);
		const li = await page.waitForSelector(`#offered-set li[data-module="${swModuleId}"]`);
		const t = await li.textContent();
		assert(/OS/.test(t) && t.includes('image-1.0.0') && t.includes('1.0.0'), `offered module: ${t}`);
		await shot(page, 'device-pending');
	});
	await check('progress feedback: the log line appears live (SSE) and the state turns to updating', async () => {
		const d = await ddi('GET', CID, deployHref);
		assert(d.status === 200, `deploymentBase ${d.status}`);
		const f = await feedback(CID, actionId, 'proceeding', 'none', ['Downloaded 50%']);
		assert(f.status === 200, `feedback ${f.status} ${f.text}`);
		const t = Date.now();
		// Faster than the page's 5 s safety poll: this is the event stream.
		const line = await page.waitForSelector(`#action-${actionId} .log-line:has-text("Downloaded 50%")`, {timeout: 4000});
		console.log(`# log line shown ${Date.now() - t} ms after the feedback`);
		assert(await line.getAttribute('data-via') === 'sse', `the line came by ${await line.getAttribute('data-via')}, not by the event stream`);
		await until(async () => (await page.textContent('.page-head')).match(/updating/i), 8000, 'state updating');
		await shot(page, 'device-updating');
		// The list meanwhile, in a second tab: the device updating at 50 %.
		const p2 = await context.newPage();
		await p2.goto(`${BASE}/ui/#/devices`);
		await p2.waitForSelector(`#devices-table tr[data-id="${CID}"] [role=progressbar]`);
		await p2.check(`#devices-table tr[data-id="sim-002"] .row-check`);
		await p2.check(`#devices-table tr[data-id="sim-003"] .row-check`);
		await shot(p2, 'devices');
		await p2.close();
	});
	await check('success feedback: the device shows succeeded and in sync with 1.0.0', async () => {
		const f = await feedback(CID, actionId, 'closed', 'success', ['Update Installed.']);
		assert(f.status === 200, `feedback ${f.status} ${f.text}`);
		await page.waitForSelector(`#action-${actionId} .log-line:has-text("Update Installed.")`, {timeout: 4000});
		await until(async () => (await page.getAttribute(`#action-${actionId}`, 'data-status')) === 'succeeded', 8000, 'action succeeded');
		await until(async () => (await page.textContent('.page-head')).match(/in sync/i), 8000, 'state in sync');
		await configData(CID, {hw_boardname: 'simboard', hw_revision: '1.0', sw_version: '1.0.0'});
		await until(async () => (await page.textContent('#installed-version').catch(() => '')) === '1.0.0', 8000, 'installed 1.0.0');
		await page.waitForSelector(`#installed-set li[data-module="${swModuleId}"]`);
		assert(!(await page.$('#offered-set')), 'a closed action still shown as offered');
		await shot(page, 'device', {fullPage: true});
	});
	await check('the rollout counts the success and links to the filtered device list', async () => {
		await go('#/rollouts');
		await until(async () => (await page.textContent(`#rollout-${rolloutId} [data-count="succeeded"] .count-n`)) === '1', 8000, 'succeeded 1');
		await shot(page, 'rollouts');
		await page.click(`#rollout-${rolloutId} [data-count="succeeded"]`);
		await page.waitForSelector(`#devices-table tr[data-id="${CID}"]`);
		assert(/rollout=/.test(page.url()) && /rollout_state=succeeded/.test(page.url()), page.url());
		assert((await page.textContent('#rollout-chip')).includes('succeeded'), 'the rollout state filter is not shown');
	});

	await check('a rollout in waves: made in the dialog, started by hand, one bar per wave, its devices one click away', async () => {
		const sf = await apiFromPage('POST', '/api/v1/filters', {name: 'Lab benches', query: 'controllerId==sim-00*'});
		assert(sf.status === 201, `saved filter ${sf.status}`);
		await go('#/rollouts');
		await page.click('#new-rollout');
		await page.waitForSelector('#rollout-saved-filter:not([hidden])');
		await page.selectOption('#rollout-saved-filter', {label: 'Lab benches'});
		assert(await page.inputValue('#rollout-filter') === 'controllerId==sim-00*', 'the saved filter fills the query');
		await page.selectOption('#rollout-software', String(swId));
		await page.fill('#rollout-feed', 'lab');
		await page.fill('#rollout-name', 'Waves test rollout');
		await page.selectOption('#rollout-waves-preset', 'canary');
		assert((await page.$$('#waves-rows tr')).length === 3, 'the canary preset has three waves');
		await page.selectOption('#rollout-start', 'manual');
		await page.click('dialog [data-role="create"]');
		const card = await page.waitForSelector('article.rollout:has-text("Waves test rollout")');
		const id = await card.getAttribute('data-id');
		await page.waitForSelector(`#rollout-${id} [data-action="start"]`);
		assert(!(await page.$(`#rollout-${id} [data-action="pause"]`)), 'a rollout not started offers pause');
		await page.click(`#rollout-${id} [data-action="start"]`);
		await page.waitForSelector(`#rollout-${id} [data-action="pause"]`);
		assert((await page.$$(`#rollout-${id} .wave`)).length === 3, 'three waves shown');
		const states = await page.$$eval(`#rollout-${id} .wave`, (ws) => ws.map((w) => w.dataset.state));
		assert(states[0] === 'running' && states[1] === 'scheduled', `the waves are ${states}`);
		await shot(page, 'rollouts-waves');
		await page.click(`#rollout-${id} .wave >> nth=0 >> .count-targeted`);
		await page.waitForSelector('dialog .group-devices a:has-text("sim-003")');
		await page.keyboard.press('Escape');
		const d = await apiFromPage('DELETE', '/api/v1/rollouts/' + id);
		assert(d.status === 204, `delete ${d.status}`);
	});
	await check('device page: assign the multi-module set; the offered set shows its modules (name, type, version)', async () => {
		await go('#/devices/sim-003');
		await page.waitForSelector('#device-form');
		await page.selectOption('#edit-mode', 'assigned');
		await until(async () => (await page.$$('#edit-software option')).length > 2, 10000, 'the software options');
		assert(await page.$eval(`#edit-software option[value="${partialId}"]`, (o) => o.disabled), 'the incomplete set can be chosen');
		await page.selectOption('#edit-software', String(multiId));
		await page.click('#save-device');
		await until(async () => (await apiFromPage('GET', '/api/v1/devices/sim-003')).body.assigned_distribution_id === multiId, 5000, 'the assignment saved');
		await poll('sim-003');
		const box = '#offered-set';
		await page.waitForSelector(`${box} li[data-module="${modId}"]`, {timeout: 8000});
		const rows = await page.$$eval(`${box} li`, (ls) => ls.map((l) => l.textContent));
		assert(rows.some((r) => /Application/.test(r) && r.includes('webui') && r.includes('3.1.0')), JSON.stringify(rows));
		assert(rows.some((r) => /OS/.test(r) && r.includes('image-1.0.0') && r.includes('1.0.0')), JSON.stringify(rows));
		assert((await page.textContent(`${box} .set-brief-head`)).includes('gateway'), 'set name');
		assert((await page.textContent(`${box} .multi-note`)).includes(MULTI_NOTE), 'multi-module note');
		const d = (await apiFromPage('GET', '/api/v1/devices/sim-003')).body;
		assert(d.action && (d.action.distribution_id === multiId || d.action.software_id === multiId), `action ${JSON.stringify(d.action)}`);
		await shot(page, 'device-multi');
		const set = (await apiFromPage('GET', '/api/v1/distributions/' + multiId)).body;
		assert(set.locked === true, 'an assigned set is not locked');
	});
	await check('device page: a soft assignment with a maintenance window, shown on the action; force quit of a canceling one', async () => {
		const cid = 'sim-assign';
		await poll(cid);
		await go('#/devices/' + cid);
		await page.waitForSelector('#assign-set');
		await page.click('#assign-set');
		await page.waitForSelector('#assign-set-select');
		await page.selectOption('#assign-set-select', String(multiId));
		await page.selectOption('#assign-type', 'soft');
		await page.fill('#assign-schedule', '0 0 3 ? * *');
		await page.fill('#assign-duration', '01:00:00');
		await page.fill('#assign-timezone', '+01:00');
		await page.click('dialog [data-role="assign"]');
		const r = await until(async () => {
			const p = await poll(cid);
			return p.json && p.json._links && p.json._links.deploymentBase ? p : null;
		}, 10000, 'the assigned action offered');
		const aid = Number(r.json._links.deploymentBase.href.match(/deploymentBase\/(\d+)/)[1]);
		const a = (await apiFromPage('GET', '/api/v1/actions/' + aid)).body;
		assert(a.type === 'soft' && a.explicit && a.maintenance_window && a.maintenance_window.timezone === '+01:00', `the action: ${JSON.stringify(a).slice(0, 300)}`);
		await go('#/devices/' + cid);
		await page.waitForSelector(`#action-${aid}`);
		if (!(await page.getAttribute(`#action-${aid}`, 'open'))) await page.click(`#action-${aid} summary`);
		await until(async () => (await page.textContent(`#action-${aid} .action-meta`)).includes('soft'), 8000, 'the type shown');
		assert((await page.textContent(`#action-${aid} .action-window`)).includes('0 0 3 ? * *'), 'the window shown');
		await ddi('GET', cid, r.json._links.deploymentBase.href);
		await apiFromPage('POST', `/api/v1/actions/${aid}/cancel`);
		await go('#/devices/' + cid);
		await page.waitForSelector('#force-quit-action');
		await page.click('#force-quit-action');
		await page.click('dialog [data-role="confirm"]');
		await until(async () => (await apiFromPage('GET', '/api/v1/actions/' + aid)).body.status === 'canceled', 8000, 'force-quit');
		await until(async () => !(await page.$('#force-quit-action')), 8000, 'the button gone');
	});
	await check('a locked set keeps its modules and compatibility: the edit dialog says so and saves metadata only', async () => {
		await go('#/software');
		await page.click(`#software-table tr[data-id="${multiId}"] [data-action="edit"]`);
		await page.waitForSelector('dialog .notice-warn');
		assert(await page.$eval('#set-name', (e) => e.disabled), 'name editable');
		assert(await page.$eval(`#set-modules input[value="${modId}"]`, (e) => e.disabled), 'modules editable');
		await page.click('#add-metadata');
		await page.fill('#metadata-rows .meta-row:last-child .meta-key', 'release');
		await page.fill('#metadata-rows .meta-row:last-child .meta-value', 'spring');
		await page.click('dialog [data-role="save"]');
		await page.waitForSelector('dialog', {state: 'detached'});
		await until(async () => ((await apiFromPage('GET', '/api/v1/distributions/' + multiId)).body.metadata || []).some((x) => x.key === 'release' && x.value === 'spring'), 5000, 'the metadata saved');
		await expand(`#software-table tr[data-id="${multiId}"]`);
		await page.waitForSelector(`#set-${multiId}-detail .chip:has-text("release")`);
	});
	await check('device page: set a TargetToken (shown once), then clear it', async () => {
		await go('#/devices/sim-002');
		await page.click('#set-token');
		await page.fill('#token-input', 'sim-002-secret-token');
		await page.click('dialog .btn-primary');
		await page.waitForSelector('dialog .secret');
		await page.click('dialog:has(.secret) .btn-primary');
		await page.waitForSelector('#clear-token');
		const r = await page.evaluate(async () => (await (await fetch('/api/v1/devices/sim-002')).json()).has_token);
		assert(r === true, 'has_token not set');
		const d = await poll('sim-002');
		assert(d.status === 401, `poll without the token: ${d.status}`);
		await page.click('#clear-token');
		await page.click('dialog [data-role="confirm"]');
		await page.waitForSelector('#set-token:has-text("Set token")');
	});
	await check('deleting software used by a rollout shows the server\'s reason', async () => {
		await go('#/software');
		await page.click(`#software-table tr[data-id="${swId}"] [data-action="delete"]`);
		await page.click('dialog [data-role="confirm"]');
		const t = await page.waitForSelector('.toast-error');
		const txt = await t.textContent();
		assert(txt.length > 20, txt);
		console.log(`# delete refused: ${txt.replace(/\s+/g, ' ').slice(0, 160)}`);
		await page.waitForSelector(`#software-table tr[data-id="${swId}"]`);
	});

	// ---- 6. XSS: device-supplied strings are inert ------------------------------
	const XCID = 'xss-dev';
	await check('a device named <img src=x onerror=alert(1)> renders as text', async () => {
		await poll(XCID);
		await configData(XCID, {hw_boardname: XSS, hw_revision: '1.0', note: XSS});
		await go('#/devices/' + XCID);
		await page.waitForSelector('#edit-name');
		await page.fill('#edit-name', XSS);
		await page.click('#save-device');
		await page.waitForSelector('#device-name');
		assert((await page.textContent('#device-name')) === XSS, 'name not shown literally');
		assert((await page.textContent('#attributes')).includes(XSS), 'attribute not shown literally');
		await go('#/devices?q=xss');
		await page.waitForSelector(`#devices-table tr[data-id="${XCID}"] .device-name`);
		assert((await page.textContent(`#devices-table tr[data-id="${XCID}"] .device-name`)) === XSS, 'name in list');
		await sleep(500);
		const imgs = await page.$$eval('img', (els) => els.length);
		assert(imgs === 0, `${imgs} <img> elements created`);
		assert(dialogs.length === 0, `dialog fired: ${dialogs.join(', ')}`);
		await shot(page, 'xss-inert');
	});
	await check('a device whose controller id is <img src=x onerror=alert(1)> renders as text', async () => {
		const r = await poll(XSS);
		if (r.status !== 200) {
			console.log(`# the server refused that controller id (${r.status}); only names and attributes were tried`);
			return;
		}
		await go('#/devices?q=' + encodeURIComponent('onerror'));
		await page.waitForSelector('#devices-table .device-link');
		const ids = await page.$$eval('#devices-table .device-link', (as) => as.map((a) => a.textContent));
		assert(ids.includes(XSS), `ids ${JSON.stringify(ids)}`);
		await page.click(`#devices-table .device-link >> text=${XSS}`);
		await page.waitForSelector('#device-id');
		assert((await page.textContent('#device-id')) === XSS, 'id on the device page');
		assert(await page.$$eval('img', (els) => els.length) === 0, '<img> created');
		assert(dialogs.length === 0, 'dialog fired');
	});

	// ---- 7. other pages -------------------------------------------------------
	await check('users & tokens: create a personal API token (shown once)', async () => {
		await go('#/users');
		await page.click('#new-token');
		await page.fill('#token-name', 'ci');
		await page.click('dialog .btn-primary');
		await page.waitForSelector('#new-secret code');
		const tok = await page.textContent('#new-secret code');
		assert(tok.length >= 16, 'token too short');
		const r = await fetch(BASE + '/api/v1/devices?limit=1', {headers: {Authorization: 'Bearer ' + tok}});
		assert(r.status === 200, `token use ${r.status}`);
		await page.click('dialog:has(#new-secret) .btn-primary');
		await page.waitForSelector('#tokens-table tr:has-text("ci")');
	});
	await check('users & tokens: add a read-only user', async () => {
		await page.click('#new-user');
		await page.fill('#user-name', 'viewer');
		await page.fill('#user-password', VIEWER_PW);
		await page.selectOption('#perm-role', 'readonly');
		await page.click('dialog .btn-primary');
		await page.waitForSelector('#users-table tr[data-user="viewer"]');
		await shot(page, 'users');
	});
	await check('audit log lists the changes', async () => {
		await go('#/audit');
		await page.waitForSelector('#audit-table tbody tr');
		const n = await page.$$eval('#audit-table tbody tr', (r) => r.length);
		assert(n >= 3, `${n} entries`);
		await shot(page, 'audit');
	});
	await check('settings page shows the effective settings with secrets masked', async () => {
		await go('#/settings');
		await page.waitForSelector('#settings-table');
		const txt = await page.textContent('#settings-table');
		assert(/listen\.port|data_dir/.test(txt), 'no keys');
		const bad = await page.$$eval('#settings-table td.setting-key', (tds) => tds.filter((td) => /token|secret|password/i.test(td.textContent)).map((td) => td.nextElementSibling.textContent).filter((v) => v && v !== '********' && v !== '""' && v !== 'null' && v !== '[]'));
		assert(bad.length === 0, `unmasked: ${bad.join(', ')}`);
		assert(await page.$$eval('#settings-table input, #settings-table button', (e) => e.length) === 0, 'editable');
		await shot(page, 'settings');
	});
	await check('settings page edits the system configuration, errors shown', async () => {
		await go('#/settings');
		await page.waitForSelector('#configs-table tr[data-key="pollingTime"]');
		await page.fill('#cfg-pollingTime', '99:00:00');
		await page.click('#configs-table tr[data-key="pollingTime"] button');
		await page.waitForSelector('#config-error');
		const err = await page.textContent('#config-error');
		assert(/pollingTime/.test(err), `error: ${err}`);
		await page.fill('#cfg-pollingTime', '00:00:45');
		await page.click('#configs-table tr[data-key="pollingTime"] button');
		await page.waitForFunction(() => /set by/.test(document.querySelector('#configs-table tr[data-key="pollingTime"]')?.textContent || ''));
		const r = await page.evaluate(async () => (await fetch('/api/v1/system/configs')).json());
		assert(r.configs.pollingTime.value === '00:00:45', `stored ${r.configs.pollingTime.value}`);
		await page.click('#configs-table tr[data-key="pollingTime"] button:has-text("Reset")');
		await page.waitForFunction(() => /settings file/.test(document.querySelector('#configs-table tr[data-key="pollingTime"]')?.textContent || ''));
	});
	await check('the devices page in the dark theme and on a phone', async () => {
		await go('#/devices');
		await page.waitForSelector('#devices-table tbody tr[data-id]');
		await page.click('#theme-toggle');
		assert(await page.evaluate(() => document.documentElement.dataset.theme) === 'dark', 'theme not dark');
		assert(await page.evaluate(() => localStorage.getItem('falconet.theme')) === 'dark', 'not stored');
		await sleep(300);
		await shot(page, 'devices-dark');
		await go('#/devices/' + CID);
		await page.waitForSelector(`#action-${actionId}`);
		await shot(page, 'device-dark', {fullPage: true});
		await go('#/software');
		await page.waitForSelector('#software-table');
		await expand(`#software-table tr[data-id="${multiId}"]`);
		await page.waitForSelector(`#set-${multiId}-detail .module`);
		await page.evaluate(() => window.scrollTo(0, 0));
		await shot(page, 'software-dark', {fullPage: true});
		await page.setViewportSize({width: 390, height: 844});
		await go('#/devices');
		await page.waitForSelector('#devices-table tbody tr[data-id]');
		assert(await page.isVisible('.burger'), 'no menu button on a phone');
		assert(!(await page.isVisible('.nav')), 'nav not collapsed');
		// The devices are cards on a phone (checks/60-devices-list.mjs
		// looks closer): nothing scrolls sideways.
		const card = await page.$eval('#devices-table tbody tr[data-id]', (e) => getComputedStyle(e).display);
		assert(card === 'grid', `the devices are no cards on a phone (${card})`);
		const wide = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
		assert(wide <= 0, `the devices page is ${wide} px wider than the phone`);
		await shot(page, 'phone-devices');
		await page.click('.burger');
		await page.waitForSelector('.nav a[data-route="software"]', {state: 'visible'});
		await shot(page, 'phone-menu');
		await page.click('.burger');
		await go('#/software');
		await page.waitForSelector('#software-table');
		await expand(`#software-table tr[data-id="${raucId}"]`);
		await page.waitForSelector(`#set-${raucId}-detail .images-table`);
		const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
		assert(over <= 0, `the software page is ${over} px wider than the phone`);
		const detailW = await page.$eval(`#set-${raucId}-detail .set-detail`, (e) => e.getBoundingClientRect().width);
		assert(detailW <= 390, `the set details are ${detailW} px wide on a 390 px phone`);
		await page.evaluate(() => window.scrollTo(0, 0));
		await shot(page, 'phone-software', {fullPage: true});
		await page.click('.burger');
		await page.click('#theme-toggle');
		await page.setViewportSize({width: 1366, height: 900});
	});

	// ---- 8. the read-only user ------------------------------------------------------
	await check('the read-only user logs in and sees no enabled change controls', async () => {
		await go('#/devices');
		await page.click('#logout');
		await page.waitForSelector('#login-form');
		await page.fill('#login-username', 'viewer');
		await page.fill('#login-password', VIEWER_PW);
		await page.click('#login-submit');
		await page.waitForSelector('#devices-table tbody tr[data-id]');
		await page.waitForSelector('#readonly-badge');
		const probs = [];
		if (await page.$('#add-device')) probs.push('add device');
		if (await page.$('#devices-table .row-check')) probs.push('selection checkboxes');
		if (await page.$('#bulkbar')) probs.push('bulk bar');
		await shot(page, 'readonly-devices');
		await go('#/devices/' + CID);
		await page.waitForSelector('#device-form');
		const enabled = await page.$$eval('#device-form input, #device-form select, #device-form button', (els) => els.filter((e) => !e.disabled).map((e) => e.id || e.tagName));
		if (enabled.length) probs.push('device form: ' + enabled.join(','));
		for (const sel of ['#delete-device', '#set-token', '#clear-token', '#cancel-action', '#assign-set', '#force-quit-action']) if (await page.$(sel)) probs.push(sel);
		await go('#/software');
		await page.waitForSelector('#software-table');
		if (await page.$('#dropzone')) probs.push('upload zone');
		if (await page.$('#software-table [data-action="delete"]')) probs.push('software delete');
		for (const sel of ['#new-module', '#new-set', '#software-table [data-action="edit"]', '#modules-table [data-action="delete-module"]']) if (await page.$(sel)) probs.push(sel);
		await expand(`#software-table tr[data-id="${multiId}"]`);
		await page.waitForSelector(`#set-${multiId}-detail .module`);
		for (const a of ['add-file', 'add-url', 'edit-module', 'delete-artifact', 'edit-set']) if (await page.$(`#set-${multiId}-detail [data-action="${a}"]`)) probs.push('set detail: ' + a);
		await go('#/rollouts');
		await page.waitForSelector('article.rollout');
		if (await page.$('#new-rollout')) probs.push('new rollout');
		if (await page.$('article.rollout [data-action]')) probs.push('rollout buttons');
		await shot(page, 'readonly-rollouts');
		await go('#/users');
		await page.waitForSelector('#tokens');
		if (await page.$('#new-user')) probs.push('add user');
		if (await page.$('#users-table')) probs.push('users table');
		assert(!probs.length, 'change controls shown: ' + probs.join('; '));
	});
	await check('a direct API change from the read-only user\'s page gets 403', async () => {
		const a = await apiFromPage('PATCH', '/api/v1/devices/' + CID, {name: 'hacked'});
		assert(a.status === 403, `PATCH device ${a.status}`);
		const b = await apiFromPage('POST', '/api/v1/rollouts', {software_id: swId, feed: 'default'});
		assert(b.status === 403, `POST rollout ${b.status}`);
		const c = await apiFromPage('DELETE', '/api/v1/software/' + swId);
		assert(c.status === 403, `DELETE software ${c.status}`);
		const d = await page.evaluate(async () => (await (await fetch('/api/v1/devices/sim-001')).json()).name);
		assert(d !== 'hacked', 'the change happened');
	});

	// ---- 8b. further checks, one module each under checks/ ----------------
	// Each exports run(ctx) and works in a browser context of its own,
	// logged in as the admin with ctx.adminPage(); they run in name order,
	// after everything above, on the same server and data.
	const ctx = {browser, BASE, TENANT, ADMIN_PW, MKSWU, TMP, SHOTS, check, assert, until, sleep,
		ddi, poll, configData, feedback, shot, pageErrors, cspErrors, dialogs, adminPage};
	const checksDir = path.join(path.dirname(new URL(import.meta.url).pathname), 'checks');
	const checkFiles = fs.existsSync(checksDir) ? fs.readdirSync(checksDir).filter((n) => n.endsWith('.mjs')).sort() : [];
	for (const f of checkFiles) {
		const mod = await import(path.join(checksDir, f));
		await mod.run(ctx);
	}

	// ---- 9. the page itself ------------------------------------------------------------
	await check('no script errors and no CSP violations in any page', async () => {
		assert(!pageErrors.length, pageErrors.join(' | '));
		assert(!cspErrors.length, cspErrors.join(' | '));
		assert(!dialogs.length, 'dialogs: ' + dialogs.join(' | '));
	});
	await check('no page shows "null", "undefined" or "NaN" where a value belongs', async () => {
		assert(!textSlips.length, textSlips.join(' | '));
	});

	await browser.close();
}

try {
	await main();
} catch (e) {
	notOk('the browser suite ran to its end', e && e.stack ? e.stack : e);
} finally {
	fs.rmSync(TMP, {recursive: true, force: true});
}
console.log(`# browser suite took ${((Date.now() - t0) / 1000).toFixed(1)} s; screenshots in ${SHOTS}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
