// The rollouts page adds up: two rollouts on one feed (for two kinds of
// hardware), devices on another feed, a failure, a cancel and a running
// update, then the counts, the device list behind every box, the
// segments, the failed devices with their reasons, the paused bar, the
// finished state, and the new-rollout dialog's preview, warnings and
// proposed software.  Its devices and feeds (ru-*) are its own, and its
// versions (50.0.0, 60.0.0) newer than any the main sequence uploads.
import {pageApi, pageUpload} from '../page-api.mjs';

const STATES = ['targeted', 'pending', 'running', 'succeeded', 'failed', 'canceled'];

export async function run(ctx) {
	const {check, assert, until, adminPage, browser, BASE, MKSWU, TMP, ddi, poll, configData, feedback, shot} = ctx;
	const {context, page} = await adminPage(browser, {hash: '#/rollouts'});
	const go = (hash) => page.goto(`${BASE}/ui/${hash}`);
	const api = pageApi(page);
	const upload = pageUpload(page, ctx, 'ru');
	// A device of feed FEED with hardware revision REV, known to the server.
	const device = async (cid, feed, rev) => {
		const r = await api('POST', '/api/v1/devices', {controller_id: cid, feed});
		assert(r.status === 201, `device ${cid}: ${r.status}`);
		await poll(cid);
		const c = await configData(cid, {hw_revision: rev, sw_version: '1.0.0'});
		assert(c.status === 200, `configData ${cid}: ${c.status}`);
	};
	// Poll until offered; returns the action id.  With fetch (the
	// default) the device fetches deploymentBase, as it does to start.
	const offered = async (cid, fetch = true) => {
		const r = await until(async () => {
			const p = await poll(cid);
			return p.json && p.json._links && p.json._links.deploymentBase ? p : null;
		}, 8000, `${cid} offered an update`);
		const href = r.json._links.deploymentBase.href;
		if (fetch) await ddi('GET', cid, href);
		return Number(href.match(/deploymentBase\/(\d+)/)[1]);
	};
	const finish = async (cid, result, why) => {
		const a = await offered(cid);
		const f = await feedback(cid, a, 'closed', result, [why || 'done']);
		assert(f.status === 200, `feedback ${cid}: ${f.status}`);
	};
	// The numbers in a rollout card's boxes.
	const boxes = (id) => page.$$eval(`#rollout-${id} .counts:not(.counts-sm) [data-count]`,
		(els) => Object.fromEntries(els.map((e) => [e.dataset.count, Number(e.querySelector('.count-n').textContent)])));
	const segments = (id) => page.$$eval(`#rollout-${id} > .stacked-wrap .seg`,
		(els) => Object.fromEntries(els.map((e) => [e.dataset.seg, Number(e.dataset.n)])));

	let swA; let swB; let swOld; let swNew; let r1; let r2;
	try {
		await check('rollouts add up: a scenario of two feeds, two kinds of hardware and two rollouts on one feed', async () => {
			swA = await upload('2.0.0', '7.1');
			swB = await upload('50.0.0', '7.2');
			swOld = await upload('1.5.0', '7.1');
			swNew = await upload('60.0.0', '7.1');
			for (let i = 1; i <= 8; i++) await device(`ru-a0${i}`, 'ru-a', '7.1');
			await device('ru-a09', 'ru-a', '7.2');
			await device('ru-a10', 'ru-a', '7.2');
			for (const d of ['ru-b1', 'ru-b2', 'ru-b3']) await device(d, 'ru-b', '7.2');
		});

		await check('new rollout: the picker proposes the newest software that fits the feed, and the dialog counts the devices before it starts', async () => {
			await go('#/rollouts');
			await page.click('#new-rollout');
			await page.fill('#rollout-feed', 'ru-b');
			await page.dispatchEvent('#rollout-feed', 'change');
			const pv = await api('GET', '/api/v1/rollouts/preview?feed=ru-b');
			await until(async () => (await page.inputValue('#rollout-software')) === String(swB), 8000,
				`ru-b: the 50.0.0 for revision 7.2 (#${swB}) proposed, not the newer 60.0.0 of other hardware (preview: ${JSON.stringify(pv.body)}; picked #${await page.inputValue('#rollout-software')})`);
			await until(async () => (await page.getAttribute('#rollout-preview-n', 'data-n').catch(() => null)) === '3', 8000, 'ru-b: 3 devices');
			await page.fill('#rollout-feed', 'ru-a');
			await page.dispatchEvent('#rollout-feed', 'change');
			await until(async () => (await page.inputValue('#rollout-software')) === String(swNew), 8000, 'ru-a: 60.0.0 proposed');
			await page.selectOption('#rollout-software', String(swA));
			await until(async () => (await page.getAttribute('#rollout-preview-n', 'data-n').catch(() => null)) === '8', 8000, 'ru-a, 2.0.0 for 7.1: 8 devices');
			assert(!(await page.$('#rollout-preview [data-warning]')), 'a warning for a rollout that reaches 8 and offers the newest');
			await page.fill('#rollout-name', 'ru R1');
			await page.click('dialog [data-role="create"]');
			const card = await page.waitForSelector('article.rollout:has-text("ru R1")');
			r1 = await card.getAttribute('data-id');
			const b = await boxes(r1);
			assert(b.targeted === 8, `the rollout targets ${b.targeted}, the preview said 8`);
		});

		await check('new rollout: warned when it reaches no device, and when an active rollout of the feed offers a newer version', async () => {
			await page.click('#new-rollout');
			await page.fill('#rollout-feed', 'ru-a');
			await page.dispatchEvent('#rollout-feed', 'change');
			await page.selectOption('#rollout-software', String(swOld));
			await page.waitForSelector('#rollout-preview [data-warning="older_than_active"]');
			const t = await page.textContent('#rollout-preview [data-warning="older_than_active"]');
			assert(t.includes('2.0.0') && t.includes(`#${r1}`), t);
			await page.selectOption('#rollout-software', String(swB));
			await page.fill('#rollout-filter', 'controllerId==ru-a01');
			await page.waitForSelector('#rollout-preview [data-warning="no_devices"]');
			assert((await page.getAttribute('#rollout-preview-n', 'data-n')) === '0', 'not 0 devices');
			await page.keyboard.press('Escape');
		});

		await check('two rollouts on one feed: each "targeted" box opens its own devices', async () => {
			const c = await api('POST', '/api/v1/rollouts', {software_id: swB, feed: 'ru-a', name: 'ru R2'});
			assert(c.status === 201, `R2 ${c.status}`);
			r2 = String(c.body.id);
			await go('#/rollouts');
			await page.waitForSelector(`#rollout-${r2}`);
			assert((await boxes(r2)).targeted === 2, 'R2 targets the 2 devices of revision 7.2');
			for (const [id, want] of [[r1, 8], [r2, 2]]) {
				await go('#/rollouts');
				await page.click(`#rollout-${id} [data-count="targeted"]`);
				await until(async () => (await page.$$('#devices-table tbody tr[data-id]')).length === want, 8000, `rollout ${id}: ${want} rows`);
				const ids = await page.$$eval('#devices-table tbody tr[data-id]', (rs) => rs.map((r) => r.dataset.id));
				assert(ids.every((x) => x.startsWith('ru-a')) && (id === r2) === ids.every((x) => x === 'ru-a09' || x === 'ru-a10'), `rollout ${id} lists ${ids}`);
			}
		});

		await check('every count has its box and its segment, canceled included, and the boxes add up to targeted', async () => {
			await finish('ru-a01', 'success');
			await finish('ru-a02', 'failure', 'disk full');
			// Canceled before the device fetched it: canceled at once.
			const a3 = await offered('ru-a03', false);
			const cx = await api('POST', `/api/v1/actions/${a3}/cancel`);
			assert(cx.status === 200, `cancel ${cx.status}`);
			const a4 = await offered('ru-a04');
			await feedback('ru-a04', a4, 'proceeding', 'none', ['installing']);
			await go('#/rollouts');
			const b = await until(async () => {
				const x = await boxes(r1);
				return x.canceled === 1 && x.running === 1 ? x : null;
			}, 8000, 'the counts');
			assert(JSON.stringify(STATES.map((k) => b[k])) === JSON.stringify([8, 4, 1, 1, 1, 1]), JSON.stringify(b));
			assert(b.pending + b.running + b.succeeded + b.failed + b.canceled === b.targeted, 'the boxes do not add up');
			const s = await segments(r1);
			for (const k of STATES.slice(1)) assert(s[k] === b[k], `segment ${k}: ${s[k]}, box ${b[k]}`);
			await shot(page, 'rollouts-add-up');
		});

		await check('the list behind every box holds that many devices of that state ("pending" is not empty)', async () => {
			const b = await boxes(r1);
			for (const k of STATES) {
				await go('#/rollouts');
				await page.click(`#rollout-${r1} [data-count="${k}"]`);
				await page.waitForSelector('#rollout-chip');
				assert((await page.textContent('#rollout-chip')).includes(k), `the chip says ${await page.textContent('#rollout-chip')}`);
				await until(async () => {
					const n = (await page.$$('#devices-table tbody tr[data-id]')).length;
					return n === b[k] && (b[k] > 0 || (await page.$('#devices-table tbody .empty')));
				}, 8000, `${k}: ${b[k]} rows`);
			}
		});

		await check('the failed devices with their reasons, and "retry failed" for that rollout', async () => {
			await go('#/rollouts');
			await page.click(`#rollout-${r1} [data-action="failed"]`);
			const row = await page.waitForSelector('#failed-devices tr[data-device="ru-a02"]');
			assert((await row.textContent()).includes('disk full'), await row.textContent());
			assert((await page.$$('#failed-devices tr[data-device]')).length === 1, 'one failed device');
			await page.keyboard.press('Escape');
		});

		await check('a paused rollout\'s bar does not read as full', async () => {
			await go('#/rollouts');
			await page.click(`#rollout-${r1} [data-action="pause"]`);
			await page.waitForSelector(`#rollout-${r1}[data-paused="true"] .stacked-paused`);
			const bar = await page.$eval(`#rollout-${r1} > .stacked-wrap .stacked`, (e) => e.getAttribute('aria-valuenow'));
			const pend = await page.$eval(`#rollout-${r1} > .stacked-wrap .seg-pend`, (e) => {
				const st = getComputedStyle(e);
				return {color: st.backgroundColor, image: st.backgroundImage};
			});
			await shot(page, 'rollouts-paused-bar');
			await page.click(`#rollout-${r1} [data-action="resume"]`);
			await page.waitForSelector(`#rollout-${r1}[data-paused="false"]`);
			assert(bar === '38', `the bar says ${bar} % done (3 of 8)`);
			assert(/rgba\(0, 0, 0, 0\)|transparent/.test(pend.color) && /gradient/.test(pend.image), `pending is painted ${JSON.stringify(pend)}`);
		});

		await check('a rollout whose devices all reached an end state is finished, at 100 %, without Pause', async () => {
			const a4 = (await api('GET', '/api/v1/devices/ru-a04')).body.action.id;
			await feedback('ru-a04', a4, 'closed', 'success', ['done']);
			for (const d of ['ru-a05', 'ru-a06', 'ru-a07', 'ru-a08']) await finish(d, 'success');
			await go('#/rollouts');
			await page.waitForSelector(`#rollout-${r1}[data-state="finished"]`);
			assert((await page.textContent(`#rollout-${r1} .rollout-status`)).includes('finished'), 'no finished badge');
			assert(!(await page.$(`#rollout-${r1} [data-action="pause"]`)) && !(await page.$(`#rollout-${r1} [data-action="resume"]`)), 'a finished rollout offers pause or resume');
			const pct = await page.$eval(`#rollout-${r1} > .stacked-wrap .stacked`, (e) => e.getAttribute('aria-valuenow'));
			assert(pct === '100', `finished at ${pct} %`);
			const b = await boxes(r1);
			assert(b.succeeded === 6 && b.failed === 1 && b.canceled === 1 && b.pending === 0, JSON.stringify(b));
		});

		await check('"retry failed" runs the failed device again and the rollout is no longer finished', async () => {
			await page.click(`#rollout-${r1} [data-action="retry"]`);
			await page.click('dialog .btn-primary');
			await page.waitForSelector(`#rollout-${r1}[data-state="running"]`);
			assert((await boxes(r1)).pending === 1, 'the retried device is pending');
			await finish('ru-a02', 'success');
			await go('#/rollouts');
			await page.waitForSelector(`#rollout-${r1}[data-state="finished"]`);
			const b = await boxes(r1);
			assert(b.succeeded === 7 && b.failed === 0, JSON.stringify(b));
		});
	} finally {
		for (const id of [r1, r2]) if (id) await api('DELETE', '/api/v1/rollouts/' + id).catch(() => {});
		await context.close();
	}
}
