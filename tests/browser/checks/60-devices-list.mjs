// The Devices list says why: the Target column's words for an offer, a
// paused rollout, a device parked after a failure, software that does not
// fit and software older than the installed version; the last failure
// and a "refused" badge in the row; the online / never seen / refused
// filters and the search placeholder; the devices per installed version;
// a selection that keeps only devices the filter still matches and says
// how many are not on screen; "select all N matching" and a bulk change
// by filter, refused when the filter matches another number by then; a
// bulk assignment of software that does not fit, refused
// with the reasons and then confirmed; a refresh that keeps the DOM nodes
// (and the focus) of unchanged rows; cards at phone width.  Its devices
// (dlx-*), feeds (dlx, dlx-p) and versions (70.0.0, 80.0.0) are its own.
import {pageApi, pageUpload} from '../page-api.mjs';

export async function run(ctx) {
	const {check, assert, until, sleep, adminPage, browser, BASE, TENANT, MKSWU, TMP, poll, configData, feedback, ddi, shot} = ctx;
	const {context, page} = await adminPage(browser, {hash: '#/devices'});
	const go = (hash) => page.goto(`${BASE}/ui/${hash}`);
	const api = pageApi(page);
	const upload = pageUpload(page, ctx, 'dlx');
	const device = async (cid, feed, rev, version, token) => {
		const body = {controller_id: cid, feed};
		if (token) body.token = token;
		const r = await api('POST', '/api/v1/devices', body);
		assert(r.status === 201, `device ${cid}: ${r.status}`);
		if (rev === null) return;
		const auth = token ? {Authorization: 'TargetToken ' + token} : {};
		const url = `${BASE}/${TENANT}/controller/v1/${cid}`;
		const p = await fetch(url, {headers: {Accept: 'application/hal+json', ...auth}});
		assert(p.status === 200, `poll ${cid}: ${p.status}`);
		const c = await fetch(url + '/configData', {method: 'PUT', headers: {'Content-Type': 'application/json', ...auth},
			body: JSON.stringify({mode: 'merge', data: {hw_revision: rev, sw_version: version}})});
		assert(c.status === 200, `configData ${cid}: ${c.status}`);
	};
	const cid = (i) => `dlx-${String(i).padStart(2, '0')}`;
	const rowText = (id) => page.textContent(`#devices-table tr[data-id="${id}"]`);
	const targetText = (id) => page.textContent(`#devices-table tr[data-id="${id}"] .col-target`);
	const bulkText = () => page.textContent('#bulkbar .bulk-count');
	const shownIds = () => page.$$eval('#devices-table tbody tr[data-id]', (rs) => rs.map((r) => r.dataset.id));

	let sw; let swOld; let rMain; let rPaused;
	try {
		await check('devices list: a scenario of 31 devices, two rollouts, a failure, a refused device', async () => {
			sw = await upload('70.0.0', '8.1');
			swOld = await upload('60.5.0', '8.1');
			// dlx-01..25: offered 70.0.0; dlx-26 runs 80.0.0 (older than
			// installed); dlx-27 is other hardware (does not fit); dlx-28
			// fails (parked); dlx-29 on a paused rollout's feed; dlx-30
			// knocks with a wrong token (refused); dlx-31 never polled.
			for (let i = 1; i <= 25; i++) await device(cid(i), 'dlx', '8.1', '1.0.0');
			await device(cid(26), 'dlx', '8.1', '80.0.0');
			await device(cid(27), 'dlx', '9.9', '1.0.0');
			await device(cid(28), 'dlx', '8.1', '1.0.0');
			await device(cid(29), 'dlx-p', '8.1', '1.0.0');
			await device(cid(30), 'dlx', '8.1', '1.0.0', 'dlx-right-token-30');
			await device(cid(31), 'dlx', null);
			let c = await api('POST', '/api/v1/rollouts', {software_id: sw, feed: 'dlx', name: 'dlx R'});
			assert(c.status === 201, `rollout ${c.status} ${JSON.stringify(c.body)}`);
			rMain = c.body.id;
			c = await api('POST', '/api/v1/rollouts', {software_id: sw, feed: 'dlx-p', name: 'dlx paused'});
			assert(c.status === 201, `rollout 2 ${c.status}`);
			rPaused = c.body.id;
			c = await api('PATCH', `/api/v1/rollouts/${rPaused}`, {paused: true});
			assert(c.status === 200, `pause ${c.status} ${JSON.stringify(c.body)}`);
			// dlx-28 is offered the update and fails it.
			const p = await until(async () => {
				const r = await poll(cid(28));
				return r.json && r.json._links && r.json._links.deploymentBase ? r : null;
			}, 8000, 'dlx-28 offered');
			const href = p.json._links.deploymentBase.href;
			await ddi('GET', cid(28), href);
			const a = Number(href.match(/deploymentBase\/(\d+)/)[1]);
			const f = await feedback(cid(28), a, 'closed', 'failure', ['ERROR : Image invalid or corrupted. Not installing ...']);
			assert(f.status === 200, `feedback ${f.status}`);
			// dlx-27 assigned the 70.0.0 it does not fit, confirmed.
			c = await api('PATCH', `/api/v1/devices/${cid(27)}`, {mode: 'assigned', assigned_software_id: sw, confirm: true});
			assert(c.status === 200, `assign ${c.status} ${JSON.stringify(c.body)}`);
			// dlx-30 with a wrong TargetToken, refused: in a later second
			// than its last accepted contact.
			await sleep(1100);
			for (let i = 0; i < 3; i++) {
				const r = await fetch(`${BASE}/${TENANT}/controller/v1/${cid(30)}`, {headers: {Authorization: 'TargetToken wrong-token-30'}});
				assert(r.status === 401, `wrong token: ${r.status}`);
			}
		});

		await check('devices list: the Target column says the target and why in a few words', async () => {
			await go('#/devices?q=dlx-&limit=50');
			await page.waitForSelector(`#devices-table tr[data-id="${cid(31)}"]`);
			await until(async () => (await targetText(cid(1))).includes(`70.0.0 from rollout #${rMain}`), 8000,
				`dlx-01 "70.0.0 from rollout #${rMain}" (got "${await targetText(cid(1))}")`);
			const want = {
				[cid(26)]: 'older than installed',
				[cid(27)]: '70.0.0 does not fit',
				[cid(28)]: 'parked after failure',
				[cid(29)]: `rollout #${rPaused} paused`,
			};
			for (const [id, words] of Object.entries(want)) {
				await until(async () => (await targetText(id)).includes(words), 8000, `${id}: "${words}" (got "${await targetText(id)}")`);
			}
			const title = await page.getAttribute(`#devices-table tr[data-id="${cid(28)}"] .target-words`, 'title');
			assert(/force to retry/.test(title || ''), `the full reason is the title: ${title}`);
		});

		await check('devices list: the last failure reason and a "refused" badge show in the row', async () => {
			await until(async () => (await page.$(`#devices-table tr[data-id="${cid(28)}"] .fail-reason`)), 8000, 'dlx-28 failure reason');
			const why = await page.textContent(`#devices-table tr[data-id="${cid(28)}"] .fail-reason`);
			assert(why.trim().length > 3 && !/^failed$/.test(why.trim()), `the reason: "${why}"`);
			// The refusals are written about once a second.
			await until(async () => (await page.$(`#devices-table tr[data-id="${cid(30)}"] .refused-badge`)), 8000, 'dlx-30 refused badge');
			const t = await page.getAttribute(`#devices-table tr[data-id="${cid(30)}"] .refused-badge`, 'title');
			assert(/TargetToken/.test(t) && /3 attempts/.test(t), `the badge says why: ${t}`);
			assert(!(await page.$(`#devices-table tr[data-id="${cid(1)}"] .refused-badge`)), 'dlx-01 is not refused');
			await shot(page, 'devices-list-target');
		});

		await check('devices list: the search placeholder says what it matches; filters for online, never seen and refused', async () => {
			const ph = await page.getAttribute('#device-search', 'placeholder');
			for (const w of ['id', 'name', 'hardware', 'version', 'address']) assert(ph.includes(w), `placeholder "${ph}" lacks ${w}`);
			await page.selectOption('#filter-seen', 'never');
			await until(async () => JSON.stringify(await shownIds()) === JSON.stringify([cid(31)]), 8000, `never seen: dlx-31 alone (got ${await shownIds()})`);
			assert(/seen=never/.test(page.url()), 'the filter is in the address');
			await page.selectOption('#filter-seen', 'online');
			await until(async () => {
				const ids = await shownIds();
				return ids.length === 30 && !ids.includes(cid(31));
			}, 8000, `online: the 30 polled (got ${(await shownIds()).length})`);
			await page.selectOption('#filter-seen', '');
			await page.check('#filter-refused');
			await until(async () => JSON.stringify(await shownIds()) === JSON.stringify([cid(30)]), 8000, `refused: dlx-30 alone (got ${await shownIds()})`);
			await page.uncheck('#filter-refused');
			await until(async () => (await shownIds()).length === 31, 8000, 'all 31 back');
			// The search ignores case.
			await page.fill('#device-search', 'DLX-2');
			await until(async () => (await shownIds()).length === 10, 8000, `DLX-2: dlx-20..29 (got ${(await shownIds()).length})`);
		});

		await check('devices list: the devices per installed version, as GET /api/v1/stats counts them', async () => {
			const s = await api('GET', '/api/v1/stats');
			const by = Object.fromEntries(s.body.devices.by_version.map((v) => [v.version, v.devices]));
			// The server counts at most every 5 s, the page asks every 10 s.
			await page.waitForSelector('#version-counts li[data-version="80.0.0"]', {timeout: 25000});
			const shown = await page.$$eval('#version-counts li[data-version]', (ls) => Object.fromEntries(ls.map((l) => [l.dataset.version, Number(l.querySelector('.version-n').textContent)])));
			assert(shown['80.0.0'] === 1 && by['80.0.0'] === 1, `80.0.0: ${shown['80.0.0']} shown, ${by['80.0.0']} counted`);
			assert(shown['1.0.0'] === by['1.0.0'] && shown['1.0.0'] >= 29, `1.0.0: ${shown['1.0.0']} shown, ${by['1.0.0']} counted`);
			const order = Object.keys(shown);
			assert(order.indexOf('80.0.0') < order.indexOf('1.0.0'), `newest first: ${order}`);
			// Each count opens its devices: exactly that installed version.
			await go('#/devices');
			await page.waitForSelector('#version-counts li[data-version="80.0.0"] a', {timeout: 25000});
			await page.click('#version-counts li[data-version="80.0.0"] a');
			await until(async () => (await shownIds()).length === 1, 8000, `80.0.0: one device listed (got ${await shownIds()})`);
			assert(/installed_version=80\.0\.0/.test(page.url()), `the URL keeps the filter: ${page.url()}`);
			assert((await page.textContent('#installed-chip')).includes('Installed 80.0.0'), 'the filter chip');
			const r = await api('GET', '/api/v1/devices?installed_version=80.0.0');
			assert(r.body.total === 1 && JSON.stringify(await shownIds()) === JSON.stringify(r.body.devices.map((d) => d.controller_id)), 'the same device as the API');
			await page.click('#installed-chip .chip-x');
			await until(async () => !(await page.$('#installed-chip')), 8000, 'the chip goes');
		});

		await check('devices list: after a filter change the selection keeps only the devices still matched, and says how many are not on screen', async () => {
			await go('#/devices?q=dlx-&offset=25');
			await page.waitForSelector(`#devices-table tr[data-id="${cid(31)}"]`);
			for (const i of [26, 27, 31]) await page.check(`#devices-table tr[data-id="${cid(i)}"] .row-check`);
			await page.click('.pager button:has-text("Previous")');
			await page.waitForSelector(`#devices-table tr[data-id="${cid(1)}"]`);
			await until(async () => /3\D+selected.*3 not on screen/.test(await bulkText()), 5000, `3 selected, 3 not on screen (got "${await bulkText()}")`);
			// Online only: dlx-31 (never seen) leaves the selection; dlx-26
			// and dlx-27 stay, on the second page.
			await page.selectOption('#filter-seen', 'online');
			await until(async () => /^\s*2\D+selected.*2 not on screen/.test(await bulkText()), 8000, `2 selected, 2 not on screen (got "${await bulkText()}")`);
			await page.click('#bulkbar .btn-ghost');
			await page.waitForSelector('#bulkbar', {state: 'hidden'});
		});

		await check('devices list: a bulk assignment of software that does not fit is refused with the reason, then confirmed', async () => {
			await page.fill('#device-search', cid(27));
			await until(async () => JSON.stringify(await shownIds()) === JSON.stringify([cid(27)]), 8000, 'dlx-27 alone');
			await page.check(`#devices-table tr[data-id="${cid(27)}"] .row-check`);
			await page.click('#bulkbar [data-bulk="assign"]');
			await page.waitForSelector('#bulk-software');
			await page.selectOption('#bulk-software', String(swOld));
			await page.click('dialog .btn-primary');
			await page.waitForSelector('#bulk-refused:not([hidden])');
			const t = await page.textContent('#bulk-refused');
			assert(t.includes(cid(27)) && /does not fit/.test(t), `the reason is shown: ${t}`);
			let d = await api('GET', `/api/v1/devices/${cid(27)}`);
			assert(d.body.assigned_software_id === sw, 'nothing assigned before the confirmation');
			await page.check('#bulk-confirm');
			await page.click('dialog .btn-primary');
			await page.waitForSelector('dialog', {state: 'detached'});
			d = await api('GET', `/api/v1/devices/${cid(27)}`);
			assert(d.body.mode === 'assigned' && d.body.assigned_software_id === swOld, `assigned after the confirmation: ${d.body.mode} ${d.body.assigned_software_id}`);
			await page.click('#bulkbar .btn-ghost');
		});

		await check('devices list: "select all N matching" changes every matching device across pages, by filter', async () => {
			await go('#/devices?q=dlx-&seen=online');
			await until(async () => (await page.textContent('.page-info')).includes('of 30'), 8000, '30 online dlx devices');
			await page.check('#select-page');
			await page.waitForSelector('#select-all-matching:not([hidden])');
			assert((await page.textContent('#select-all-matching')).includes('30'), await page.textContent('#select-all-matching'));
			await page.click('#select-all-matching');
			await until(async () => /All 30 matching/.test(await bulkText()), 5000, `"All 30 matching" (got "${await bulkText()}")`);
			const seen = [];
			page.on('request', (r) => {
				if (r.url().endsWith('/api/v1/devices/bulk')) seen.push(r.postDataJSON());
			});
			await page.click('#bulkbar [data-bulk="feed"]');
			await page.fill('#bulk-feed', 'dlx-moved');
			await page.click('dialog .btn-primary');
			await page.waitForSelector('dialog', {state: 'detached'});
			const r = await api('GET', '/api/v1/devices?feed=dlx-moved&limit=100');
			assert(r.body.total === 30, `30 devices moved, not ${r.body.total}`);
			assert(seen.length === 1 && seen[0].expected === 30 && seen[0].match.q === 'dlx-' && seen[0].match.seen === 'online' && !seen[0].ids,
				`sent by filter: ${JSON.stringify(seen)}`);
			const never = await api('GET', `/api/v1/devices/${cid(31)}`);
			assert(never.body.feed === 'dlx', 'the never-seen device, not matched, stayed');
			// The selection is empty after a change by filter.
			await page.waitForSelector('#bulkbar', {state: 'hidden'});
		});

		await check('devices list: a change by filter is refused, nothing changed, when another device matched meanwhile', async () => {
			await page.check('#select-page');
			await page.click('#select-all-matching');
			await until(async () => /All 30 matching/.test(await bulkText()), 5000, `"All 30 matching" (got "${await bulkText()}")`);
			await page.click('#bulkbar [data-bulk="feed"]');
			await page.fill('#bulk-feed', 'dlx-again');
			// While the dialog is open, a 31st device joins the filter.
			await device(cid(32), 'dlx', '8.1', '1.0.0');
			await sleep(1500); // its contact is written about once a second
			await page.click('dialog .btn-primary');
			await page.waitForSelector('.toast:has-text("nothing was changed")');
			const t = await page.textContent('.toast:has-text("nothing was changed")');
			assert(/31 devices now, not 30/.test(t), t);
			const r = await api('GET', '/api/v1/devices?feed=dlx-again');
			assert(r.body.total === 0, `${r.body.total} devices moved`);
			await page.keyboard.press('Escape');
			await until(async () => /All 31 matching/.test(await bulkText()), 8000, `the bar counts again: "${await bulkText()}"`);
			await page.click('#bulkbar .btn-ghost');
		});

		await check('devices list: a refresh keeps the DOM nodes and the focus of unchanged rows, and rebuilds a changed one', async () => {
			await go('#/devices?q=dlx-');
			await page.waitForSelector(`#devices-table tr[data-id="${cid(1)}"]`);
			await page.evaluate((ids) => {
				window.__dlxRows = ids.map((id) => document.querySelector(`#devices-table tr[data-id="${id}"]`));
			}, [cid(1), cid(2), cid(3)]);
			await page.focus(`#devices-table tr[data-id="${cid(3)}"] .row-check`);
			const r = await api('PATCH', `/api/v1/devices/${cid(2)}`, {name: 'renamed dlx'});
			assert(r.status === 200, `rename ${r.status}`);
			// Two refreshes (every 3 s).
			for (let i = 0; i < 2; i++) await page.waitForResponse((res) => /\/api\/v1\/devices\?/.test(res.url()), {timeout: 8000});
			await sleep(200);
			const same = await page.evaluate((ids) => ids.map((id, i) => window.__dlxRows[i] === document.querySelector(`#devices-table tr[data-id="${id}"]`)), [cid(1), cid(2), cid(3)]);
			assert(same[0] && same[2], `unchanged rows kept their nodes: ${same}`);
			assert(!same[1], 'the renamed row was built again');
			assert((await rowText(cid(2))).includes('renamed dlx'), 'the new name shows');
			const focus = await page.evaluate(() => document.activeElement && document.activeElement.closest('tr') ? document.activeElement.closest('tr').dataset.id : null);
			assert(focus === cid(3), `focus kept on dlx-03's checkbox (on ${focus})`);
		});

		await check('devices list: at phone width the devices are cards with state, version and last seen; the summary strip collapses', async () => {
			await page.setViewportSize({width: 390, height: 844});
			await go('#/devices?q=dlx-');
			await page.waitForSelector(`#devices-table tr[data-id="${cid(1)}"]`);
			const card = await page.$eval(`#devices-table tr[data-id="${cid(1)}"]`, (tr) => {
				const vis = (sel) => {
					const el = tr.querySelector(sel);
					return !!el && getComputedStyle(el).display !== 'none' && el.getBoundingClientRect().width > 0;
				};
				return {display: getComputedStyle(tr).display, width: tr.getBoundingClientRect().width,
					state: vis('.col-state'), version: vis('.col-installed'), seen: vis('.col-seen'), target: vis('.col-target'),
					hw: vis('.col-hw'), progress: vis('.col-progress'), text: tr.querySelector('.col-installed').textContent};
			});
			assert(card.display === 'grid', `a card, not a table row: ${card.display}`);
			assert(card.state && card.version && card.seen && card.target, `state, version, target and last seen show: ${JSON.stringify(card)}`);
			assert(!card.hw && !card.progress, `hardware and progress are left out: ${JSON.stringify(card)}`);
			assert(card.width <= 390, `the card fits the screen: ${card.width}`);
			const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
			assert(overflow <= 0, `no sideways scrolling (${overflow} px)`);
			const chart = await page.$eval('.summary .chart-box', (e) => getComputedStyle(e).display).catch(() => 'none');
			assert(chart === 'none', `the summary's chart is folded away: ${chart}`);
			await shot(page, 'phone-devices-cards');
		});
	} finally {
		await context.close();
	}
}
