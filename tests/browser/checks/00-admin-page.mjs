// The checks/ hook itself: a second context logs in as the admin and sees
// the dashboard, while the suite's own page keeps its session.
export async function run(ctx) {
	const {check, assert, adminPage, browser} = ctx;
	await check('a check module gets a logged-in admin page of its own', async () => {
		const {context, page} = await adminPage(browser, {hash: '#/devices'});
		try {
			await page.waitForSelector('#logout');
			const me = await page.evaluate(async () => (await (await fetch('/api/v1/me')).json()).username);
			assert(me === 'admin', `logged in as ${me}`);
		} finally {
			await context.close();
		}
	});
}
