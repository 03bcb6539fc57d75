// A cold load of the Devices page, measured: requests, bytes transferred,
// round trips after the HTML and the time to the first rows.
//
//   BASE=http://127.0.0.1:PORT PASSWORD=... [LATENCY_MS=50] node measure-load.mjs
//
// Logs in (in a context of its own), then opens #/devices in a fresh page
// with an empty cache and prints one JSON line.  "round_trips" counts the
// waves of requests after the document: a request belongs to the wave
// after the latest one that ended before it started.
import {chromium} from 'playwright-core';

const BASE = process.env.BASE;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const LATENCY = Number(process.env.LATENCY_MS || 0);

const browser = await chromium.launch({executablePath: CHROMIUM,
	args: ['--no-sandbox', '--disable-gpu', '--headless=new', '--disable-background-networking', '--disable-dev-shm-usage']});
const context = await browser.newContext({viewport: {width: 1366, height: 900}});
const login = await context.newPage();
await login.goto(`${BASE}/ui/#/login`);
await login.waitForSelector('#login-form');
await login.fill('#login-username', process.env.USERNAME_ || 'admin');
await login.fill('#login-password', process.env.PASSWORD);
await login.click('#login-submit');
await login.waitForSelector('#logout');
await login.close();

const page = await context.newPage();
const cdp = await context.newCDPSession(page);
await cdp.send('Network.enable');
await cdp.send('Network.setCacheDisabled', {cacheDisabled: true});
if (LATENCY) {
	await cdp.send('Network.emulateNetworkConditions', {offline: false, latency: LATENCY,
		downloadThroughput: -1, uploadThroughput: -1});
}
const reqs = new Map();
cdp.on('Network.requestWillBeSent', (e) => {
	reqs.set(e.requestId, {url: e.request.url, start: e.timestamp, end: null, bytes: 0, encoding: ''});
});
cdp.on('Network.responseReceived', (e) => {
	const r = reqs.get(e.requestId);
	if (r) r.encoding = e.response.headers['content-encoding'] || e.response.headers['Content-Encoding'] || '';
});
cdp.on('Network.loadingFinished', (e) => {
	const r = reqs.get(e.requestId);
	if (r) {
		r.end = e.timestamp;
		r.bytes = e.encodedDataLength;
	}
});
const t0 = Date.now();
await page.goto(`${BASE}/ui/#/devices`);
await page.waitForSelector('#devices-table tbody tr[data-id]', {timeout: 30000});
const firstRows = Date.now() - t0;
await page.waitForTimeout(300);
const list = [...reqs.values()].filter((r) => r.end !== null && !/\/events$/.test(r.url)).sort((a, b) => a.start - b.start);
// Only what the page needed for its first rows: requests that started
// before they showed.
const startAll = list.length ? list[0].start : 0;
const needed = list.filter((r) => (r.start - startAll) * 1000 <= firstRows);
const wave = new Map();
for (const r of needed) {
	let w = 0;
	for (const o of needed) {
		if (o !== r && o.end !== null && o.end <= r.start) w = Math.max(w, wave.get(o) + 1);
	}
	wave.set(r, w);
}
const out = {
	requests: needed.length,
	bytes: needed.reduce((n, r) => n + r.bytes, 0),
	gzip_responses: needed.filter((r) => r.encoding === 'gzip').length,
	round_trips_after_html: Math.max(0, ...wave.values()),
	first_rows_ms: firstRows,
	latency_ms: LATENCY,
	waves: needed.map((r) => `${wave.get(r)} ${new URL(r.url).pathname}${new URL(r.url).search} ${r.bytes} B ${Math.round((r.start - startAll) * 1000)}-${Math.round((r.end - startAll) * 1000)} ms`),
};
console.log(JSON.stringify(out));
await browser.close();
