// Accessibility: axe-core (tests/browser/node_modules/axe-core) on every
// page of the dashboard, in the light and the dark theme, on a desktop
// and on a phone.  Runs last, on the data the other checks made.  Prints
// one "# axe:" line per page with its result.
import fs from 'node:fs';
import path from 'node:path';

const HERE = path.dirname(new URL(import.meta.url).pathname);
const AXE = fs.readFileSync(path.join(HERE, '..', 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

const SIZES = {desktop: {width: 1366, height: 900}, phone: {width: 390, height: 844}};

export async function run(ctx) {
	const {check, assert, adminPage, browser, BASE, sleep} = ctx;

	// A page's content is there: no "Loading…" left, then a moment for
	// the polls' first answers.
	async function settle(page) {
		await page.waitForFunction(() => {
			const el = document.querySelector('#content, main.bare');
			return el && el.children.length && !/Loading…/.test(el.textContent);
		}, null, {timeout: 10000});
		await sleep(400);
	}

	// axe, evaluated over the DevTools protocol (the page's CSP allows
	// no injected script tag).
	async function axe(page) {
		if (!(await page.evaluate(() => !!window.axe))) await page.evaluate(AXE);
		return page.evaluate(async () => {
			const r = await window.axe.run(document, {resultTypes: ['violations']});
			return r.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
				nodes: v.nodes.map((n) => n.target.join(' ') + (n.any[0] ? ' (' + n.any[0].message + ')' : '')).slice(0, 4)}));
		});
	}

	const summary = [];
	// Every node of every violation, for whoever fixes them.
	const detail = (v) => {
		for (const x of v) for (const n of x.nodes) console.log(`# axe-detail: ${x.id}: ${n}`);
	};
	for (const scheme of ['light', 'dark']) {
		for (const size of ['desktop', 'phone']) {
			const name = `${scheme}, ${size}`;
			// Logged in on a desktop (the phone hides the top bar's
			// buttons behind the menu), then resized.
			const {context, page} = await adminPage(browser, {colorScheme: scheme, viewport: SIZES.desktop, hash: '#/devices'});
			try {
				await page.setViewportSize(SIZES[size]);
				let cid = '';
				await check(`axe: the dashboard opens (${name})`, async () => {
					await page.waitForSelector('#devices-table');
					cid = await page.evaluate(async () => (await (await fetch('/api/v1/devices?limit=1')).json()).devices[0].controller_id);
				});
				const pages = [
					['devices', '#/devices'], ['device', '#/devices/' + encodeURIComponent(cid)], ['software', '#/software'],
					['rollouts', '#/rollouts'], ['users', '#/users'], ['audit', '#/audit'], ['settings', '#/settings'],
					['refused', '#/refused'], ['device with its last failure', '#/devices/why-fail'], ['refused device', '#/devices/why-tok'],
				];
				for (const [label, hash] of pages) {
					await check(`axe: no violations on the ${label} page (${name})`, async () => {
						await page.goto(`${BASE}/ui/${hash}`);
						await settle(page);
						const v = await axe(page);
						summary.push(`${label} (${name}): ${v.length ? v.map((x) => x.id).join(', ') : 'none'}`);
						detail(v);
						assert(!v.length, v.map((x) => `${x.id}: ${x.help} at ${x.nodes.join('; ')}`).join(' | '));
					});
				}
				await check(`axe: no violations in a dialog (${name})`, async () => {
					await page.goto(`${BASE}/ui/#/software`);
					await settle(page);
					await page.click('#new-module');
					await page.waitForSelector('dialog[open] #module-name');
					const v = await axe(page);
					summary.push(`dialog (${name}): ${v.length ? v.map((x) => x.id).join(', ') : 'none'}`);
					detail(v);
					assert(!v.length, v.map((x) => `${x.id}: ${x.help} at ${x.nodes.join('; ')}`).join(' | '));
				});
				await check(`axe: no violations on the login page (${name})`, async () => {
					await page.goto(`${BASE}/ui/#/devices`);
					await page.waitForSelector('#logout', {state: 'attached'});
					await page.evaluate(() => document.getElementById('logout').click());
					await page.waitForSelector('#login-form');
					await sleep(300);
					const v = await axe(page);
					summary.push(`login (${name}): ${v.length ? v.map((x) => x.id).join(', ') : 'none'}`);
					detail(v);
					assert(!v.length, v.map((x) => `${x.id}: ${x.help} at ${x.nodes.join('; ')}`).join(' | '));
				});
			} finally {
				await context.close();
			}
		}
	}
	for (const line of summary) console.log('# axe: ' + line);
}
