// What a new operator meets in the dashboard: dialogs that belong to
// their page, uploads that ask before they are lost and check the file
// first, sessions that idle out and keep typed fields, compressed assets
// and a short load, times with their zone, messages that name things, the
// version and the API document, and the audit log's filters.
import fs from 'node:fs';
import path from 'node:path';
import {execFileSync} from 'node:child_process';

export async function run(ctx) {
	const {check, assert, until, sleep, adminPage, browser, BASE, ADMIN_PW, MKSWU, TMP} = ctx;

	// A context of this module's own, logged in, whose native dialogs
	// (beforeunload) are this module's business, not the suite's.
	async function ownPage(opts = {}) {
		const context = await browser.newContext({viewport: {width: 1366, height: 900}, colorScheme: 'light', ...opts});
		const page = await context.newPage();
		page.setDefaultTimeout(10000);
		await login(page);
		return {context, page};
	}
	async function login(page) {
		await page.goto(`${BASE}/ui/#/login`);
		await page.waitForSelector('#login-form');
		await page.fill('#login-username', 'admin');
		await page.fill('#login-password', ADMIN_PW);
		await page.click('#login-submit');
		await page.waitForSelector('#logout');
	}
	const openDialogs = (page) => page.evaluate(() => [...document.querySelectorAll('dialog')].filter((d) => d.open).length);
	// End this page's session on the server, as an idle timeout would.
	const endSession = (page) => page.evaluate(async () => {
		const me = await (await fetch('/api/v1/me')).json();
		await fetch('/api/v1/logout', {method: 'POST', headers: {'X-CSRF-Token': me.csrf_token}});
	});

	// ---- dialogs belong to their page ------------------------------------
	await check('a dialog closes when a link leaves its page', async () => {
		const {context, page} = await adminPage(browser, {hash: '#/software'});
		try {
			await page.click('#new-module');
			await page.waitForSelector('dialog[open] #module-name');
			// The modal covers the navigation: follow a link as a
			// keyboard user or another script would.
			await page.evaluate(() => { location.hash = '#/devices'; });
			await page.waitForSelector('#devices-table');
			assert(await openDialogs(page) === 0, 'a dialog is still open over the Devices page');
		} finally {
			await context.close();
		}
	});
	await check('Back closes a delete confirmation instead of carrying it to the previous page', async () => {
		const {context, page} = await adminPage(browser, {hash: '#/devices'});
		try {
			await page.waitForSelector('#devices-table');
			await page.goto(`${BASE}/ui/#/software`);
			await page.waitForSelector('#software-table [data-action="delete"]');
			const before = await page.evaluate(async () => (await (await fetch('/api/v1/software')).json()).software.filter((x) => !x.deleted).length);
			await page.click('#software-table [data-action="delete"]');
			await page.waitForSelector('dialog[open] [data-role="confirm"]');
			await page.goBack();
			await page.waitForSelector('#devices-table');
			assert(await openDialogs(page) === 0, 'the confirmation survived Back');
			await sleep(300);
			const after = await page.evaluate(async () => (await (await fetch('/api/v1/software')).json()).software.filter((x) => !x.deleted).length);
			assert(after === before, `software deleted: ${before} -> ${after}`);
		} finally {
			await context.close();
		}
	});
	await check('when the session ends under an open dialog, the login form is usable and the typed fields come back', async () => {
		const {context, page} = await ownPage();
		try {
			await page.goto(`${BASE}/ui/#/software`);
			await page.click('#new-module');
			await page.waitForSelector('dialog[open] #module-name');
			await page.fill('#module-name', 'draft-kept-module');
			await page.fill('#module-vendor', 'Draft Vendor');
			await endSession(page);
			// The next request of the page answers 401: the summary
			// strip polls every 3 s.
			await page.waitForSelector('#login-form', {timeout: 15000});
			assert(await openDialogs(page) === 0, 'a dialog stays over the login form');
			// The form takes clicks and typing (no modal over it).
			await page.fill('#login-username', 'admin');
			await page.fill('#login-password', ADMIN_PW);
			await page.click('#login-submit');
			await page.waitForSelector('#software-list');
			assert(/#\/software/.test(page.url()), 'back on the page after the login: ' + page.url());
			await page.waitForSelector('.toast', {timeout: 5000});
			const toasts = await page.$$eval('.toast', (ts) => ts.map((t) => t.textContent).join(' | '));
			assert(/New software module/.test(toasts), 'no word of the kept form: ' + toasts);
			await page.click('#new-module');
			await page.waitForSelector('dialog[open] #module-name');
			assert(await page.inputValue('#module-name') === 'draft-kept-module', 'name not restored');
			assert(await page.inputValue('#module-vendor') === 'Draft Vendor', 'vendor not restored');
			assert(await page.$('#draft-restored'), 'no note that the fields were restored');
			// Once restored, a draft is gone.
			await page.click('dialog[open] .dialog-head button');
			await page.click('#new-module');
			await page.waitForSelector('dialog[open] #module-name');
			assert(await page.inputValue('#module-name') === '', 'the draft came back twice');
		} finally {
			await context.close();
		}
	});
	await check('logging out closes the page\'s dialogs and keeps no draft', async () => {
		const {context, page} = await ownPage();
		try {
			await page.goto(`${BASE}/ui/#/software`);
			await page.click('#new-module');
			await page.fill('#module-name', 'not-kept');
			await page.evaluate(() => document.querySelector('dialog[open] .dialog-head button').click());
			await page.click('#logout');
			await page.waitForSelector('#login-form');
			assert(await openDialogs(page) === 0, 'dialog open after logout');
			const drafts = await page.evaluate(() => sessionStorage.getItem('falconet.drafts'));
			assert(!drafts, 'drafts kept after logout: ' + drafts);
		} finally {
			await context.close();
		}
	});

	// ---- uploads -----------------------------------------------------------
	const upload = (page, name, buffer) => page.setInputFiles('#upload-input', {name, mimeType: 'application/octet-stream', buffer});
	await check('a file that is no image is refused before sending, saying what it is', async () => {
		const {context, page} = await adminPage(browser, {hash: '#/software'});
		try {
			await page.waitForSelector('#upload-input', {state: 'attached'});
			const posts = [];
			page.on('request', (r) => {
				if (r.method() === 'POST' && /\/api\/v1\/software/.test(r.url())) posts.push(r.url());
			});
			const cases = [
				['notes.swu', Buffer.from('hello, this is a text file\n'), /notes\.swu is not an SWUpdate image.*070701 or 070702.*text \("hello, this is a text file"\)/],
				['firmware.swu', Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(600)]), /firmware\.swu is not an SWUpdate image.*a ZIP archive/],
				['rootfs.raucb', Buffer.concat([Buffer.from('hsqs'), Buffer.alloc(4096)]), /rootfs\.raucb is not a RAUC bundle.*signature.*a squashfs image/],
				['disk.img', Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08]), Buffer.alloc(100)]), /disk\.img is neither an SWUpdate image.*a gzip file/],
				['old.swu', Buffer.concat([Buffer.from('070707'), Buffer.alloc(200)]), /old cpio archive \(odc\)/],
			];
			for (const [name, buf, want] of cases) {
				await upload(page, name, buf);
				const sel = `.upload[data-file="${name}"] .upload-stat`;
				await page.waitForSelector(sel);
				const text = await page.textContent(sel);
				assert(want.test(text), `${name}: ${text}`);
			}
			await sleep(300);
			assert(!posts.length, 'sent anyway: ' + posts.join(', '));
		} finally {
			await context.close();
		}
	});
	await check('an SWUpdate image and a RAUC bundle pass the check and are sent', async () => {
		const {context, page} = await adminPage(browser, {hash: '#/software'});
		try {
			await page.waitForSelector('#upload-input', {state: 'attached'});
			const sent = [];
			// Held, not answered: this checks what is sent, not the server.
			await page.route('**/api/v1/software?*', (route) => {
				sent.push(new URL(route.request().url()).searchParams.get('filename'));
				route.abort();
			});
			const swu = path.join(TMP, 'check-40.swu');
			execFileSync(MKSWU, ['-o', swu, '-v', '40.0.0', '-r', '1.0']);
			await upload(page, 'check-40.swu', fs.readFileSync(swu));
			// A bundle as RAUC writes one: payload, CMS (DER), its size.
			const cms = Buffer.concat([Buffer.from([0x30, 0x82, 0x01, 0x00]), Buffer.alloc(256)]);
			const size = Buffer.alloc(8);
			size.writeBigUInt64BE(BigInt(cms.length));
			await upload(page, 'crypt.raucb', Buffer.concat([Buffer.alloc(4096, 0xa5), cms, size]));
			await until(() => sent.length === 2, 5000, 'two uploads sent');
			assert(sent.includes('check-40.swu') && sent.includes('crypt.raucb'), sent.join(', '));
		} finally {
			await context.close();
		}
	});
	await check('leaving the Software page during an upload asks first (link, logout, closing the tab)', async () => {
		const {context, page} = await ownPage();
		try {
			await page.goto(`${BASE}/ui/#/software`);
			await page.waitForSelector('#upload-input', {state: 'attached'});
			// The upload never ends: the request is held.
			const held = [];
			await page.route('**/api/v1/software?*', (route) => { held.push(route); });
			const swu = path.join(TMP, 'check-40b.swu');
			execFileSync(MKSWU, ['-o', swu, '-v', '40.0.1', '-r', '1.0']);
			await upload(page, 'check-40b.swu', fs.readFileSync(swu));
			await until(() => held.length === 1, 5000, 'the upload started');
			await page.click('nav a[data-route="devices"]');
			await page.waitForSelector('dialog[open] [data-role="confirm"]');
			const msg = await page.textContent('dialog[open] .dialog-body');
			assert(/check-40b\.swu.*still running.*cancels it/.test(msg), msg);
			assert(/#\/software/.test(page.url()), 'the address left the page while asking: ' + page.url());
			await page.click('dialog[open] [data-role=""]'); // Cancel
			await sleep(200);
			assert(/#\/software/.test(page.url()), 'left after Cancel: ' + page.url());
			assert(await page.$('.upload[data-file="check-40b.swu"]:not(.upload-failed)'), 'the upload was dropped');
			// Logout asks too.
			await page.click('#logout');
			await page.waitForSelector('dialog[open] [data-role="confirm"]');
			await page.click('dialog[open] [data-role=""]');
			assert(await page.$('#logout'), 'logged out despite Cancel');
			// Closing the tab: the browser's own question.
			let asked = null;
			page.on('dialog', async (d) => {
				asked = d.type();
				await d.dismiss();
			});
			await page.close({runBeforeUnload: true});
			await until(() => asked, 5000, 'a beforeunload question');
			assert(asked === 'beforeunload', asked);
		} finally {
			await context.close();
		}
	});

	// ---- sessions: background requests -------------------------------------
	await check('the dashboard\'s own refreshes carry X-Background: 1, the operator\'s requests do not', async () => {
		const {context, page} = await adminPage(browser, {hash: '#/software'});
		try {
			await page.waitForSelector('#software-list');
			const seen = [];
			page.on('request', (r) => {
				if (/\/api\/v1\//.test(r.url())) seen.push({url: new URL(r.url()).pathname, bg: r.headers()['x-background'] || ''});
			});
			await page.click('nav a[data-route="devices"]');
			await page.waitForSelector('#devices-table');
			await sleep(3600); // a summary refresh (3 s) and a devices poll (3 s)
			const first = seen.find((x) => x.url === '/api/v1/devices');
			assert(first && first.bg === '', 'the page\'s first load is marked background');
			const polls = seen.filter((x) => x.url === '/api/v1/stats');
			assert(polls.length >= 1 && polls.every((x) => x.bg === '1'), 'stats: ' + JSON.stringify(polls));
			const devPolls = seen.filter((x) => x.url === '/api/v1/devices').slice(1);
			assert(devPolls.length >= 1 && devPolls.every((x) => x.bg === '1'), 'device polls: ' + JSON.stringify(devPolls));
			// A click is the operator's.
			await page.click('#new-device').catch(() => {});
		} finally {
			await context.close();
		}
	});

	// ---- assets: compressed, and a short load -----------------------------
	await check('the dashboard\'s files come gzip-compressed, with ETags that revalidate', async () => {
		for (const f of ['index.html', 'js/app.js', 'js/pages/devices.js', 'css/app.css']) {
			const r = await fetch(`${BASE}/ui/${f}`, {headers: {'Accept-Encoding': 'gzip'}});
			await r.arrayBuffer();
			assert(r.headers.get('content-encoding') === 'gzip', `${f}: ${r.headers.get('content-encoding')}`);
			assert(/Accept-Encoding/i.test(r.headers.get('vary') || ''), `${f}: Vary ${r.headers.get('vary')}`);
			const etag = r.headers.get('etag');
			const again = await fetch(`${BASE}/ui/${f}`, {headers: {'Accept-Encoding': 'gzip', 'If-None-Match': etag}});
			assert(again.status === 304, `${f}: revalidation ${again.status}`);
		}
	});
	await check('the Devices page\'s first rows need at most two round trips after the HTML, the session in one request', async () => {
		const {context, page} = await adminPage(browser);
		const fresh = await context.newPage();
		try {
			await page.close();
			const cdp = await context.newCDPSession(fresh);
			await cdp.send('Network.enable');
			await cdp.send('Network.setCacheDisabled', {cacheDisabled: true});
			const reqs = new Map();
			cdp.on('Network.requestWillBeSent', (e) => reqs.set(e.requestId, {url: new URL(e.request.url).pathname,
				start: e.timestamp, end: null, by: e.initiator.type}));
			cdp.on('Network.loadingFinished', (e) => {
				const r = reqs.get(e.requestId);
				if (r) r.end = e.timestamp;
			});
			await fresh.goto(`${BASE}/ui/#/devices`);
			await fresh.waitForSelector('#devices-table tbody tr');
			await sleep(200);
			// Round trip 1: what index.html names (the modules, the
			// session); round trip 2: the page's data, which needs the
			// session and nothing else.  The load is measured by the
			// requests' causes, not their times (this machine is shared).
			const list = [...reqs.values()].sort((a, b) => a.start - b.start);
			const names = list.map((r) => `${r.url}(${r.by})`).join(' ');
			const js = list.filter((r) => /\.js$/.test(r.url));
			const late = js.filter((r) => r.by !== 'parser');
			assert(js.length >= 6 && !late.length, 'modules not named by index.html: ' + late.map((r) => r.url).join(' ') + ' | ' + names);
			const me = list.filter((r) => r.url === '/api/v1/me');
			assert(me.length === 1 && me[0].by === 'parser', `/api/v1/me: ${me.length} requests, by ${me.map((r) => r.by)}: ${names}`);
			assert(!list.some((r) => r.url === '/api/v1/setup'), 'asked about set-up with a session: ' + names);
			const devices = list.find((r) => r.url === '/api/v1/devices');
			assert(devices && devices.start >= me[0].end, 'no devices request after the session: ' + names);
			// Nothing but the session comes before it: no set-up
			// question, no second module wave (both checked above).
		} finally {
			await context.close();
		}
	});

	// ---- times say their zone ----------------------------------------------
	await check('times say their zone; the UTC option (kept) shows them in UTC; the chart says UTC days', async () => {
		const {context, page} = await ownPage({timezoneId: 'Asia/Kolkata'});
		try {
			await page.goto(`${BASE}/ui/#/audit`);
			await page.waitForSelector('#audit-table tbody tr');
			const t1 = await page.textContent('#audit-table tbody tr td');
			assert(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\+5:30/.test(t1.trim()), 'local time: ' + t1);
			const title = await page.textContent('.chart-title');
			assert(/UTC days/.test(title), 'chart title: ' + title);
			await page.click('#utc-toggle');
			await page.waitForSelector('#audit-table tbody tr');
			await until(async () => / UTC(?!\+)/.test(await page.textContent('#audit-table tbody tr td')), 3000, 'times in UTC');
			const hoursLocal = Number(t1.trim().slice(11, 13));
			const t2 = (await page.textContent('#audit-table tbody tr td')).trim();
			const hoursUtc = Number(t2.slice(11, 13));
			assert((hoursLocal - hoursUtc + 24) % 24 === 5 || (hoursLocal - hoursUtc + 24) % 24 === 6, `${t1} vs ${t2}`);
			await page.reload();
			await page.waitForSelector('#audit-table tbody tr');
			assert(await page.getAttribute('#utc-toggle', 'aria-pressed') === 'true', 'the UTC option was not kept');
			assert(/ UTC(?!\+)/.test(await page.textContent('#audit-table tbody tr td')), 'UTC not kept after reload');
			await page.click('#utc-toggle');
			assert(await page.evaluate(() => localStorage.getItem('falconet.utc')) === null, 'the option is not cleared');
		} finally {
			await context.close();
		}
	});

	// ---- wording -----------------------------------------------------------
	await check('a lockout is one sentence', async () => {
		const context = await browser.newContext();
		const page = await context.newPage();
		try {
			// The server's answer to a locked account, as mgmt_auth.c words it.
			await page.route('**/api/v1/login', (route) => route.fulfill({status: 429, contentType: 'application/json',
				headers: {'Retry-After': '30'}, body: JSON.stringify({error: 'too_many_attempts', detail: 'too many failed logins; try again in 30 seconds'})}));
			await page.goto(`${BASE}/ui/#/login`);
			await page.fill('#login-username', 'someone');
			await page.fill('#login-password', 'some-password');
			await page.click('#login-submit');
			await page.waitForSelector('#login-form .form-error:not([hidden])');
			const t = (await page.textContent('#login-form .form-error')).trim();
			assert(t === 'Too many failed logins; try again in 30 seconds.', t);
		} finally {
			await context.close();
		}
	});
	await check('the set-up hint quotes the line the server logs', async () => {
		const src = await (await fetch(`${BASE}/ui/js/pages/setup.js`)).text();
		const m = src.match(/From the line "([^"]+)"/);
		assert(m, 'no quoted line in setup.js');
		const prefix = m[1].split('http')[0];
		let log = '';
		for (const f of String(process.env.SERVER_LOG || '').split(':')) {
			try {
				log += fs.readFileSync(f, 'utf8');
			} catch {
				// not there
			}
		}
		assert(prefix.length > 10 && log.includes(prefix), `"${prefix}" is not in the server log`);
		const re = new RegExp(m[1].replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/…/g, '.*'));
		assert(re.test(log), `the log has no line like "${m[1]}"`);
	});
	await check('one logo: the top bar and the sign-in page show the same mark, once', async () => {
		const {context, page} = await adminPage(browser, {hash: '#/devices'});
		try {
			await page.waitForSelector('#devices-table');
			assert(await page.$$eval('svg.logo', (l) => l.length) === 1, 'logos in the shell');
			await page.click('#logout');
			await page.waitForSelector('#login-form');
			assert(await page.$$eval('svg.logo', (l) => l.length) === 1, 'logos on the login page');
			assert(!(await page.$('.auth-logo')), 'a second kind of logo');
		} finally {
			await context.close();
		}
	});
	await check('the version of Falconet and a link to the API document are on every page', async () => {
		const {context, page} = await adminPage(browser, {hash: '#/settings'});
		try {
			await page.waitForSelector('#version');
			const v = await page.textContent('#version');
			const me = await page.evaluate(async () => (await (await fetch('/api/v1/me')).json()).version);
			assert(me && v.trim() === 'Falconet ' + me, `${v} vs ${me}`);
			const href = await page.getAttribute('#api-doc', 'href');
			const r = await page.evaluate(async (u) => {
				const x = await fetch(u);
				return {status: x.status, openapi: (await x.json()).openapi};
			}, href);
			assert(r.status === 200 && /^3\./.test(r.openapi), `${href}: ${JSON.stringify(r)}`);
		} finally {
			await context.close();
		}
	});

	// ---- the audit log -------------------------------------------------------
	await check('the audit log filters by user, action and time, and names the device of an action', async () => {
		const {context, page} = await adminPage(browser, {hash: '#/devices'});
		try {
			await page.waitForSelector('#devices-table');
			// An action to cancel: a complete set assigned to a device.
			const made = await page.evaluate(async () => {
				const me = await (await fetch('/api/v1/me')).json();
				const H = {'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token};
				const sets = (await (await fetch('/api/v1/software')).json()).software.filter((x) => x.complete && !x.deleted);
				const devs = (await (await fetch('/api/v1/devices?limit=100')).json()).devices;
				for (const d of devs) {
					for (const s of sets) {
						const a = await fetch(`/api/v1/devices/${encodeURIComponent(d.controller_id)}/assign`, {method: 'POST', headers: H, body: JSON.stringify({distribution_id: s.id})});
						if (!a.ok) continue;
						const acts = await (await fetch(`/api/v1/devices/${encodeURIComponent(d.controller_id)}/actions`)).json();
						const act = (acts.actions || []).find((x) => ['scheduled', 'running'].includes(x.status));
						if (!act) continue;
						const c = await fetch(`/api/v1/actions/${act.id}/cancel`, {method: 'POST', headers: H});
						return {cid: d.controller_id, action: act.id, cancel: c.status};
					}
				}
				return null;
			});
			assert(made && made.cancel < 300, 'could not cancel an action: ' + JSON.stringify(made));
			await page.goto(`${BASE}/ui/#/audit`);
			await page.waitForSelector('#audit-table');
			await page.fill('#audit-action', 'action.cancel');
			await until(async () => {
				const rows = await page.$$eval('#audit-table tbody tr', (trs) => trs.map((tr) => tr.children[3].textContent));
				return rows.length && rows.every((x) => x === 'action.cancel');
			}, 5000, 'only action.cancel rows');
			const link = await page.textContent('#audit-table tbody tr .audit-device');
			assert(link === made.cid, `the entry names ${link}, not ${made.cid}`);
			assert(/action=action\.cancel/.test(page.url()), 'the filter is not in the address: ' + page.url());
			await page.fill('#audit-action', 'device');
			await page.fill('#audit-user', 'admin');
			await until(async () => {
				const rows = await page.$$eval('#audit-table tbody tr', (trs) => trs.map((tr) => [tr.children[1].textContent, tr.children[3].textContent]));
				return rows.length && rows.every(([u, a]) => u === 'admin' && /^device\./.test(a));
			}, 5000, 'only admin\'s device.* rows');
			await page.fill('#audit-since', '2099-01-01T00:00');
			await page.dispatchEvent('#audit-since', 'change');
			await until(async () => /No entry matches/.test(await page.textContent('#audit')), 5000, 'no entries from 2099');
			await page.click('#audit-reset');
			await page.waitForSelector('#audit-table tbody tr');
		} finally {
			await context.close();
		}
	});
}
