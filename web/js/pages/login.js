// #/login: username and password; 429 shows when to retry.
import {h, logo} from '../dom.js';
import {post, get} from '../api.js';
import {session} from '../session.js';
import {field} from '../ui.js';

// One sentence for a lockout: the server's detail ("too many failed
// logins; try again later") as a sentence, and when, if it said so.
export function lockoutText(e) {
	let t = String((e && e.detail) || 'too many failed logins; try again later').trim().replace(/[.\s]+$/, '');
	t = t[0].toUpperCase() + t.slice(1);
	const wait = e && Number(e.retryAfter);
	if (wait > 0 && !/\d/.test(t)) t += ` (in ${wait < 120 ? wait + ' s' : Math.ceil(wait / 60) + ' min'})`;
	return t + '.';
}

export default async function render(ctx) {
	const user = h('input', {class: 'input', name: 'username', id: 'login-username', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false'});
	const pass = h('input', {class: 'input', name: 'password', id: 'login-password', type: 'password', autocomplete: 'current-password', required: true});
	const err = h('div', {class: 'form-error', role: 'alert', hidden: true});
	const btn = h('button', {type: 'submit', class: 'btn btn-primary btn-block', id: 'login-submit'}, 'Sign in');
	const form = h('form', {class: 'card auth-card', id: 'login-form', novalidate: true},
		h('div', {class: 'auth-brand'}, logo('logo-lg'), h('h1', null, 'Falconet')),
		h('p', {class: 'muted'}, 'Sign in to manage your devices and updates.'),
		field('Username', user),
		field('Password', pass),
		err,
		btn);
	ctx.el.appendChild(form);
	user.focus();

	// If a session still exists (back button), skip the form.
	const next = ctx.query.get('next');
	const target = () => (next && next.startsWith('#/') && !/^#\/(login|setup)/.test(next) ? next : ctx.firstAllowedPage());

	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		err.hidden = true;
		if (!user.value || !pass.value) {
			err.textContent = 'Enter your username and password.';
			err.hidden = false;
			return;
		}
		btn.disabled = true;
		btn.textContent = 'Signing in…';
		try {
			const me = await post('/api/v1/login', {username: user.value.trim(), password: pass.value}, {auth401: false});
			session.set(me);
			if (!me.permissions) {
				try {
					session.set(await get('/api/v1/me', {auth401: false}));
				} catch {
					// keep what login said
				}
			}
			location.hash = target();
		} catch (e) {
			if (e.status === 401) err.textContent = 'Wrong username or password.';
			else if (e.status === 429) err.textContent = lockoutText(e);
			else err.textContent = e.detail || String(e);
			err.hidden = false;
			pass.select();
		} finally {
			btn.disabled = false;
			btn.textContent = 'Sign in';
		}
	});
}
