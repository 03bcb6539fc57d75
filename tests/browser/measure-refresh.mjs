// The Devices page's periodic refresh, measured: long tasks (over 50 ms)
// on the main thread while the page shows LIMIT rows (default 200) and
// refreshes every 3 s, for SECONDS (default 60), while POLLERS devices of
// the page (default 10) poll every 2 s so that some rows change.
//
//   BASE=http://127.0.0.1:PORT PASSWORD=... [LIMIT=200] [SECONDS=60] node measure-refresh.mjs
//
// Prints one JSON line: the long tasks per minute, their total and
// longest duration, and how many refreshes ran.
import {chromium} from 'playwright-core';

const BASE = process.env.BASE;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const LIMIT = Number(process.env.LIMIT || 200);
const SECONDS = Number(process.env.SECONDS || 60);
const POLLERS = Number(process.env.POLLERS || 10);
const TENANT = process.env.TENANT || 'DEFAULT';

const browser = await chromium.launch({executablePath: CHROMIUM,
	args: ['--no-sandbox', '--disable-gpu', '--headless=new', '--disable-background-networking', '--disable-dev-shm-usage']});
const context = await browser.newContext({viewport: {width: 1366, height: 900}});
const page = await context.newPage();
await page.goto(`${BASE}/ui/#/login`);
await page.waitForSelector('#login-form');
await page.fill('#login-username', process.env.USERNAME_ || 'admin');
await page.fill('#login-password', process.env.PASSWORD);
await page.click('#login-submit');
await page.waitForSelector('#logout');
await page.goto(`${BASE}/ui/#/devices?limit=${LIMIT}`);
await page.waitForFunction((n) => document.querySelectorAll('#devices-table tbody tr[data-id]').length === n, LIMIT, {timeout: 60000});
const ids = await page.$$eval('#devices-table tbody tr[data-id]', (rs) => rs.map((r) => r.dataset.id));
await page.evaluate(() => {
	window.__long = [];
	new PerformanceObserver((l) => {
		for (const e of l.getEntries()) window.__long.push(e.duration);
	}).observe({type: 'longtask'});
});
let refreshes = 0;
page.on('response', (r) => {
	if (/\/api\/v1\/devices\?/.test(r.url())) refreshes++;
});
const pollers = ids.slice(0, POLLERS);
let stop = false;
const polling = (async () => {
	while (!stop) {
		await Promise.all(pollers.map((id) => fetch(`${BASE}/${TENANT}/controller/v1/${encodeURIComponent(id)}`).catch(() => null)));
		await new Promise((r) => setTimeout(r, 2000));
	}
})();
await page.waitForTimeout(SECONDS * 1000);
stop = true;
await polling;
const long = await page.evaluate(() => window.__long);
console.log(JSON.stringify({
	rows: LIMIT,
	seconds: SECONDS,
	refreshes,
	long_tasks: long.length,
	long_tasks_per_minute: Math.round((long.length * 60 / SECONDS) * 10) / 10,
	long_task_ms_total: Math.round(long.reduce((a, b) => a + b, 0)),
	long_task_ms_max: Math.round(Math.max(0, ...long)),
}));
await browser.close();
