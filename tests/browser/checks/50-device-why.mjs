// Devices say why: the device page's Target field names the effective
// target and the reason (from a rollout, a paused rollout, parked after a
// failure, assigned software that does not fit, older than installed),
// the refused requests of a device whose token it gets wrong, the last
// failure with its name, the update log as text; the assign picker lists
// what fits first and marks the rest, and a refused assignment is shown
// with the server's reason and confirmed; the Refused list shows the ids
// knocking; the Software page says on how many devices each set is
// installed, and the devices per installed version.  Its devices, feeds
// (why-*) and versions (69-72.x) are its own.
import {pageApi, pageUpload} from '../page-api.mjs';

export async function run(ctx) {
	const {check, assert, until, adminPage, browser, BASE, TENANT, MKSWU, TMP, ddi, poll, configData, shot} = ctx;
	const {context, page} = await adminPage(browser, {hash: '#/devices'});
	const go = (hash) => page.goto(`${BASE}/ui/${hash}`);
	const api = pageApi(page);
	const upload = pageUpload(page, ctx, 'why');
	const device = async (cid, feed, rev, installed, extra = {}) => {
		const r = await api('POST', '/api/v1/devices', {controller_id: cid, feed, ...extra});
		assert(r.status === 201, `device ${cid}: ${r.status}`);
		if (extra.token) return;
		await poll(cid);
		const c = await configData(cid, {hw_revision: rev, sw_version: installed});
		assert(c.status === 200, `configData ${cid}: ${c.status}`);
	};
	// A poll with an Authorization header of our choosing.
	const knock = (cid, auth) => fetch(`${BASE}/${TENANT}/controller/v1/${encodeURIComponent(cid)}`, {headers: {Accept: 'application/hal+json', Authorization: auth}});
	// The device page's Target field: its reason code and its words.
	const target = async (cid, code) => {
		await go('#/devices/' + encodeURIComponent(cid));
		await until(async () => (await page.getAttribute('#device-target', 'data-reason').catch(() => null)) === code, 8000,
			`${cid}: target ${code} (the page says "${await page.textContent('#device-target').catch(() => '?')}")`);
		return (await page.textContent('#target-reason')).trim();
	};

	let swFit; let swUnfit; let swOld; let swNew; let rRun; let rPaused;
	try {
		await check('devices say why: a scenario of a rollout, a paused rollout, a failure, a wrong token and sets that do not fit', async () => {
			swOld = await upload('69.0.0', 'why-1');
			swFit = await upload('70.0.0', 'why-1');
			swUnfit = await upload('71.0.0', 'why-2');
			swNew = await upload('72.0.0', 'why-1');
			for (const d of ['why-roll', 'why-old', 'why-fail']) await device(d, 'why-r', 'why-1', d === 'why-old' ? '99.0.0' : '1.0.0');
			await device('why-pause', 'why-p', 'why-1', '1.0.0');
			await device('why-pick', 'why-n', 'why-1', '70.5.0');
			await device('why-form', 'why-n', 'why-1', '1.0.0');
			await device('why-tok', 'why-n', null, null, {token: 'right-token-123'});
			let c = await api('POST', '/api/v1/rollouts', {software_id: swFit, feed: 'why-r', name: 'why run'});
			assert(c.status === 201, `rollout ${c.status}`);
			rRun = c.body.id;
			c = await api('POST', '/api/v1/rollouts', {software_id: swFit, feed: 'why-p', name: 'why paused'});
			assert(c.status === 201, `rollout ${c.status}`);
			rPaused = c.body.id;
			const p = await api('PATCH', `/api/v1/rollouts/${rPaused}`, {paused: true});
			assert(p.status === 200, `pause ${p.status}`);
		});

		await check('device page: the target from a rollout, with the rollout as a link', async () => {
			const t = await target('why-roll', 'offer');
			assert(t === `70.0.0 from rollout #${rRun}`, t);
			assert(await page.$(`#device-target a[href="#/rollouts?id=${rRun}"]`), 'no link to the rollout');
			assert((await page.textContent('#target-version')).trim() === '70.0.0', 'the version');
			await shot(page, 'device-target');
		});

		await check('device page: "rollout #N is paused"', async () => {
			const t = await target('why-pause', 'rollout_paused');
			assert(t === `rollout #${rPaused} is paused`, t);
		});

		await check('device page: older than installed, and "Allow the downgrade" lets it through', async () => {
			const t = await target('why-old', 'downgrade');
			assert(/older than installed 99\.0\.0: allow downgrade/.test(t), t);
			await page.click('#target-downgrade');
			const t2 = await until(async () => (await page.getAttribute('#device-target', 'data-reason')) === 'offer' && (await page.textContent('#target-reason')).trim(), 8000, 'the offer');
			assert(t2 === `70.0.0 from rollout #${rRun}`, t2);
			assert(await page.isChecked('#edit-downgrade'), 'the form does not show "Allow downgrades"');
		});

		await check('device page: parked after a failure, the last failure named, the update log as text', async () => {
			const pr = await poll('why-fail');
			const href = pr.json && pr.json._links && pr.json._links.deploymentBase && pr.json._links.deploymentBase.href;
			assert(href, 'why-fail is offered nothing');
			const aid = Number(href.match(/deploymentBase\/(\d+)/)[1]);
			await ddi('GET', 'why-fail', href);
			const f = await ddi('POST', 'why-fail', `/deploymentBase/${aid}/feedback`, {id: String(aid), status: {execution: 'closed',
				result: {finished: 'failure'}, code: 4, details: ['Installing failed: Compatible mismatch: Expected \'board-a\' but bundle manifest has \'board-b\'']}});
			assert(f.status === 200, `feedback ${f.status}`);
			const t = await target('why-fail', 'parked');
			assert(t === `parked after a failure: force to retry (rollout #${rRun})`, t);
			assert(await page.$('#target-force'), 'no "Force a retry" button');
			const lf = (await page.textContent('#last-failure')).replace(/\s+/g, ' ');
			assert(/compatible mismatch \(RAUC\)/.test(lf) && /code 4 INSTALL_FAILED/.test(lf) && /Compatible mismatch: Expected 'board-a'/.test(lf), lf);
			const link = await page.getAttribute('#download-log', 'href');
			assert(link === '/api/v1/devices/why-fail/log', link);
			const log = await page.evaluate(async (u) => {
				const r = await fetch(u);
				return {type: r.headers.get('content-type'), disp: r.headers.get('content-disposition'), text: await r.text()};
			}, link);
			assert(/^text\/plain/.test(log.type) && /why-fail-update-log\.txt/.test(log.disp), `${log.type} ${log.disp}`);
			assert(log.text.includes(`Update #${aid}`) && log.text.includes('result code 4'), log.text.slice(0, 300));
			await shot(page, 'device-failure');
			await page.click('#target-force');
			await until(async () => (await page.getAttribute('#device-target', 'data-reason')) === 'offer', 8000, 'forced: offered again');
		});

		await check('device page: refused requests of a device whose token it gets wrong', async () => {
			for (let i = 0; i < 3; i++) {
				const r = await knock('why-tok', 'TargetToken wrong-token-456');
				assert(r.status === 401, `a wrong token answered ${r.status}`);
			}
			await go('#/devices/why-tok');
			const txt = await until(async () => {
				const x = await page.textContent('#device-refused').catch(() => '');
				return /3 attempts/.test(x) ? x.replace(/\s+/g, ' ') : null;
			}, 10000, 'the refusal on the page');
			assert(/refused: wrong TargetToken, 3 attempts, last (\d+ s|\d+ min) ago/.test(txt), txt);
			assert(/from 127\.0\.0\.1/.test(txt) && /UTC/.test(txt), `the address and a time with its zone: ${txt}`);
			assert((await page.getAttribute('#device-refused time', 'title')).match(/UTC/), 'the time says its zone on hover');
		});

		await check('the Refused list, reached from the Devices page, shows known devices and unknown ids knocking', async () => {
			const r = await knock('why-stranger', 'Basic Zm9vOmJhcg==');
			assert(r.status === 401, `an unknown scheme answered ${r.status}`);
			await go('#/devices');
			await page.click('#refused-link');
			await page.waitForSelector('#refused-table');
			assert(/#\/refused/.test(page.url()), page.url());
			const row = await until(() => page.$('#refused-table tr[data-id="why-stranger"]'), 10000, 'why-stranger listed');
			const st = (await row.textContent()).replace(/\s+/g, ' ');
			assert(/no device/.test(st) && /unknown Authorization scheme/.test(st) && /127\.0\.0\.1/.test(st) && /UTC/.test(st), st);
			const tok = await page.$('#refused-table tr[data-id="why-tok"]');
			assert(tok, 'why-tok not listed');
			assert(await tok.$('a[href="#/devices/why-tok"]'), 'a known device is a link');
			assert(/wrong TargetToken/.test(await tok.textContent()) && (await tok.$eval('td.num', (e) => e.textContent)) === '3', await tok.textContent());
			await shot(page, 'refused');
			await page.check('#refused-unknown');
			await until(async () => !(await page.$('#refused-table tr[data-id="why-tok"]')) && (await page.$('#refused-table tr[data-id="why-stranger"]')), 8000, 'only unknown ids');
			assert(/unknown=1/.test(page.url()), page.url());
		});

		await check('assign picker: what fits first, then marked what is older than installed and what does not fit', async () => {
			await go('#/devices/why-pick');
			await page.click('#assign-set');
			await page.waitForSelector('#assign-set-select');
			const groups = await page.$$eval('#assign-set-select optgroup', (gs) => gs.map((g) => ({fit: g.dataset.fit, ids: [...g.querySelectorAll('option')].map((o) => Number(o.value))})));
			assert(groups[0] && groups[0].fit === 'fits', `the first group: ${JSON.stringify(groups[0])}`);
			const groupOf = (id) => (groups.find((g) => g.ids.includes(id)) || {}).fit;
			assert(groupOf(swNew) === 'fits' && groupOf(swFit) === 'older' && groupOf(swOld) === 'older' && groupOf(swUnfit) === 'unfit',
				`groups: ${JSON.stringify(groups)}`);
			const label = async (id) => page.$eval(`#assign-set-select option[value="${id}"]`, (o) => o.textContent);
			assert(/does not fit this hardware/.test(await label(swUnfit)), await label(swUnfit));
			assert(/older than installed 70\.5\.0/.test(await label(swOld)), await label(swOld));
			assert(groups[0].ids.includes(Number(await page.inputValue('#assign-set-select'))), 'a set that fits is proposed');
		});

		await check('assign dialog: a set that does not fit is refused with the server\'s reason, and "Assign anyway" sends it confirmed', async () => {
			await page.selectOption('#assign-set-select', String(swUnfit));
			assert(/does not fit/.test(await page.textContent('#assign-fit-note')), 'no note under the picker');
			await page.click('dialog [data-role="assign"]');
			await page.waitForSelector('#assign-refusal:not([hidden])');
			const t = await page.textContent('#assign-refusal');
			assert(/Refused: 71\.0\.0 does not fit this hardware/.test(t), t);
			await shot(page, 'device-assign-refused');
			await page.click('#assign-confirm');
			await until(async () => !(await page.$('dialog[open]')), 8000, 'the dialog closes');
			const acts = (await api('GET', '/api/v1/devices/why-pick/actions')).body.actions || [];
			assert(acts.some((a) => (a.distribution_id || a.software_id) === swUnfit), `no action of #${swUnfit}: ${JSON.stringify(acts).slice(0, 300)}`);
		});

		await check('settings form: assigning a set that does not fit asks with the reason; confirmed, the target says why nothing comes', async () => {
			await go('#/devices/why-form');
			await page.waitForSelector('#device-form');
			await page.selectOption('#edit-mode', 'assigned');
			await until(async () => await page.$(`#edit-software option[value="${swUnfit}"]`), 8000, 'the software options');
			assert(await page.$eval(`#edit-software option[value="${swUnfit}"]`, (o) => o.dataset.fit) === 'unfit', 'not marked');
			await page.selectOption('#edit-software', String(swUnfit));
			await page.click('#save-device');
			await page.waitForSelector('dialog[open] [data-role="confirm"]');
			const q = await page.textContent('dialog[open]');
			assert(/71\.0\.0 does not fit this hardware/.test(q), q);
			await page.click('dialog[open] [data-role="confirm"]');
			const t = await until(async () => (await page.getAttribute('#device-target', 'data-reason')) === 'incompatible' && (await page.textContent('#target-reason')).trim(), 8000, 'the target');
			assert(t === 'assigned 71.0.0: does not fit this hardware', t);
		});

		await check('software page: "on N devices" per distribution set', async () => {
			const pr = await poll('why-roll');
			const href = pr.json._links.deploymentBase.href;
			const aid = Number(href.match(/deploymentBase\/(\d+)/)[1]);
			await ddi('GET', 'why-roll', href);
			const f = await ddi('POST', 'why-roll', `/deploymentBase/${aid}/feedback`, {id: String(aid), status: {execution: 'closed', result: {finished: 'success'}, details: ['done']}});
			assert(f.status === 200, `feedback ${f.status}`);
			assert(await target('why-roll', 'up_to_date') === `70.0.0 from rollout #${rRun}: installed`, 'not installed');
			await go('#/software');
			const cell = `#software-table tr[data-id="${swFit}"] .installed-on`;
			await page.waitForSelector(cell);
			assert((await page.textContent(cell)) === 'on 1 device' && (await page.getAttribute(cell, 'data-n')) === '1', await page.textContent(cell));
			assert((await page.textContent(`#software-table tr[data-id="${swNew}"] .installed-on`)) === 'on no device', 'a set on no device');
			// "on 1 device" opens that device.
			await page.click(cell);
			await page.waitForSelector('#installed-chip');
			await page.waitForSelector('#devices-table tr[data-id="why-roll"]');
			assert((await page.$$('#devices-table tbody tr[data-id]')).length === 1, 'one device listed');
			await go('#/software');
			await page.waitForSelector(cell);
			// And the devices per installed version (stats' by_version).
			await until(async () => /99\.0\.0 on 1 device/.test(await page.textContent('#installed-versions').catch(() => '')), 10000,
				`the fleet's versions (${await page.textContent('#installed-versions').catch(() => 'none shown')})`);
		});
	} finally {
		for (const id of [rRun, rPaused]) if (id) await api('DELETE', '/api/v1/rollouts/' + id).catch(() => {});
		await context.close();
	}
}
