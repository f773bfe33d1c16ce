// The customer site: sign up / log in (Cognito), the line at a glance, plans, renewal through
// Stripe Checkout and the success page, orders and receipts, linking a card, reminders.
import { apiClient, newKey } from './lib/api.js';
import {
  Session, confirmForgotPassword, confirmSignUp, forgotPassword, logIn, resendCode, signUp,
} from './lib/cognito.js';
import { loadConfig } from './lib/config.js';
import * as i18n from './lib/i18n.js';
import { t } from './lib/i18n.js';
import {
  $, $$, busy, describe, el, say, show, showReceipt, wireReceiptDialog,
} from './lib/ui.js';

const CURRENCIES = ['USD', 'EUR', 'CNY', 'HKD'];
const PENDING_CHECKOUT = 'renewal.checkout';
const CURRENCY_KEY = 'renewal.currency';
const FINAL_FAILURES = ['failed', 'expired', 'refunded', 'voided'];
const ACTIVATION_WAIT_MS = 45_000;
// The last balance read, shown with its time when the API cannot be reached (offline); the only
// thing of a person the app keeps beyond the tab, removed at log-out.
const LAST_BALANCE = 'renewal.last_balance';

const state = {
  config: null,
  session: null,
  api: null,
  plans: [],
  account: null,
  orders: [],
  nextCursor: null,
  suggested: new URLSearchParams(location.search).get('renew'),
  pendingEmail: '',
  success: null, // {key, vars, done}
};

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });
const planById = (id) => state.plans.find((plan) => plan.plan_id === id);

// ------------------------------------------------------------------ views
function showView(name) {
  show($('#auth-view'), name === 'auth');
  show($('#success-view'), name === 'success');
  show($('#home-view'), name === 'home');
  const signedIn = name !== 'auth';
  show($('#logout'), signedIn);
  show($('#who'), signedIn);
  $('#who').textContent = signedIn ? state.session.email : '';
}

function showAuthForm(id) {
  for (const form of $$('#auth-view form')) show(form, form.id === id);
  const tabs = id === 'login-form' || id === 'signup-form';
  show($('#auth-view .tabs'), tabs);
  $('#tab-login').setAttribute('aria-selected', String(id === 'login-form'));
  $('#tab-signup').setAttribute('aria-selected', String(id === 'signup-form'));
  renderAuthTexts();
  const first = $(`#${id} input`);
  if (first && !first.value) first.focus();
}

function renderAuthTexts() {
  $('#confirm-text').textContent = t('auth.confirm_text', { email: state.pendingEmail });
  $('#reset-text').textContent = t('auth.reset_text', { email: state.pendingEmail });
}

function notice(text, kind = 'info') {
  say($('#notice'), text, kind);
}

function signOut(message) {
  state.session.clear();
  // Nothing of this person stays behind: their last balance, the checkout in flight, their
  // filters, and what is on the page.
  localStorage.removeItem(LAST_BALANCE);
  localStorage.removeItem(PENDING_CHECKOUT);
  sessionStorage.removeItem(FILTERS_KEY);
  state.account = null;
  state.orders = [];
  state.nextCursor = null;
  state.offlineAt = null;
  i18n.setTimeZone(undefined);
  $('#line-balance').replaceChildren();
  $('#bundles').replaceChildren();
  $('#line-iccid').textContent = '';
  $('#order-list').replaceChildren();
  const prefs = $('#prefs-form');
  prefs.reset();
  prefs.setAttribute('aria-busy', 'true');
  prefs.expiry.disabled = true;
  prefs.low_data.disabled = true;
  showView('auth');
  showAuthForm('login-form');
  if (message) notice(message, 'error');
}

// ------------------------------------------------------------------ signing in
function wireAuth() {
  $('#tab-login').addEventListener('click', () => showAuthForm('login-form'));
  $('#tab-signup').addEventListener('click', () => showAuthForm('signup-form'));
  $('#to-forgot').addEventListener('click', () => {
    $('#forgot-form [name=email]').value = $('#login-form [name=email]').value;
    showAuthForm('forgot-form');
  });
  for (const button of $$('[data-back-to-login]')) button.addEventListener('click', () => showAuthForm('login-form'));

  $('#login-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const form = event.target;
    const email = form.email.value.trim();
    busy(form, $('#login-error'), async () => {
      try {
        await signIn(email, form.password.value);
      } catch (error) {
        if (error.type === 'UserNotConfirmedException') {
          // Signed up but never confirmed: send a fresh code (the first may be lost or expired).
          state.pendingEmail = email;
          state.pendingPassword = form.password.value;
          showAuthForm('confirm-form');
          try {
            await resendCode(state.config, email);
            say($('#confirm-error'), t('auth.code_sent'), 'info');
          } catch (resendError) {
            say($('#confirm-error'), describe(resendError));
          }
          return;
        }
        throw error;
      }
    });
  });

  $('#signup-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const form = event.target;
    const email = form.email.value.trim();
    busy(form, $('#signup-error'), async () => {
      await signUp(state.config, email, form.password.value);
      state.pendingEmail = email;
      state.pendingPassword = form.password.value;
      showAuthForm('confirm-form');
    });
  });

  $('#confirm-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const form = event.target;
    busy(form, $('#confirm-error'), async () => {
      await confirmSignUp(state.config, state.pendingEmail, form.code.value.trim());
      await signIn(state.pendingEmail, state.pendingPassword, { firstTime: true });
      state.pendingPassword = '';
    });
  });
  $('#wrong-email').addEventListener('click', () => {
    // Back from the code step: the address was mistyped. Sign up again with the right one.
    $('#signup-form [name=email]').value = state.pendingEmail;
    state.pendingPassword = '';
    showAuthForm('signup-form');
    $('#signup-form [name=email]').select();
  });
  $('#resend').addEventListener('click', () => busy($('#confirm-form'), $('#confirm-error'), async () => {
    await resendCode(state.config, state.pendingEmail);
    say($('#confirm-error'), t('auth.code_sent'), 'info');
  }));

  $('#forgot-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const form = event.target;
    busy(form, $('#forgot-error'), async () => {
      state.pendingEmail = form.email.value.trim();
      await forgotPassword(state.config, state.pendingEmail);
      showAuthForm('reset-form');
    });
  });

  $('#reset-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const form = event.target;
    busy(form, $('#reset-error'), async () => {
      await confirmForgotPassword(state.config, state.pendingEmail, form.code.value.trim(), form.password.value);
      form.reset();
      $('#login-form [name=email]').value = state.pendingEmail;
      $('#login-form [name=password]').value = '';
      showAuthForm('login-form');
      notice(t('auth.reset_done'), 'success');
    });
  });

  $('#logout').addEventListener('click', () => signOut());
}

async function signIn(email, password, { firstTime = false } = {}) {
  const tokens = await logIn(state.config, email, password);
  state.session.save(tokens, email);
  for (const form of $$('#auth-view form')) form.reset();
  notice('');
  if (firstTime) {
    // A new account writes its mails in the language it signed up in, in this device's time zone.
    try {
      await state.api('GET', '/account');
      await state.api('PATCH', '/account/preferences', {
        body: { locale: i18n.lang(), time_zone: Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC' },
      });
    } catch { /* the defaults stand; the Reminders card can change them */ }
  }
  await enter();
}

// After signing in, or on a visit with a live session: the success page or home.
async function enter() {
  const params = new URLSearchParams(location.search);
  if (params.get('checkout') === 'success' && params.get('session_id')) {
    await runSuccess(params.get('session_id'));
  } else {
    await showHome();
  }
}

// ------------------------------------------------------------------ home
async function showHome() {
  showView('home');
  $('#line-balance').replaceChildren(el('div', { class: 'spinner', 'aria-hidden': 'true' }));
  const [account, plans] = await Promise.allSettled([state.api('GET', '/account'), loadPlans()]);
  if (account.status === 'rejected') {
    if (account.reason.code === 'network_error' && showLastBalance()) return;
    if (account.reason.status !== 401) notice(describe(account.reason), 'error');
    return;
  }
  state.account = account.value;
  localStorage.setItem(LAST_BALANCE, JSON.stringify({
    email: state.session.email, at: new Date().toISOString(), account: state.account,
  }));
  i18n.setTimeZone(state.account.time_zone);
  if (plans.status === 'rejected') say($('#plans-error'), describe(plans.reason));
  await loadOrders(true);
  renderLine();
  renderPlans();
  loadPreferences();
  if (state.suggested) $(`[data-plan="${CSS.escape(state.suggested)}"]`)?.scrollIntoView({ block: 'center' });
}

// Offline: the balance last read on this device for the person signed in, with its time.
function showLastBalance() {
  let last = null;
  try {
    last = JSON.parse(localStorage.getItem(LAST_BALANCE) || 'null');
  } catch { /* nothing kept */ }
  if (!last || last.email !== state.session.email) return false;
  state.account = last.account;
  i18n.setTimeZone(state.account.time_zone);
  state.offlineAt = last.at;
  renderLine();
  notice(t('line.offline', { time: i18n.dateTime(last.at) }));
  return true;
}

async function loadPlans() {
  if (!state.plans.length) state.plans = (await state.api('GET', '/plans')).plans;
  fillFilters();
}

// The newest activated order's plan per region: how big a bundle was when it was topped up.
function lastPlanOf(region) {
  for (const order of state.orders) {
    const plan = planById(order.plan_id);
    if (order.status === 'activated' && plan?.region === region) return plan;
  }
  return null;
}

function ring(fraction, headline, sub) {
  const radius = 52;
  const circumference = 2 * Math.PI * radius;
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 120 120');
  svg.setAttribute('class', 'ring');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `${headline} ${sub}`);
  const track = document.createElementNS(ns, 'circle');
  const arc = document.createElementNS(ns, 'circle');
  for (const circle of [track, arc]) {
    circle.setAttribute('cx', '60');
    circle.setAttribute('cy', '60');
    circle.setAttribute('r', String(radius));
  }
  track.setAttribute('class', 'ring-track');
  arc.setAttribute('class', 'ring-arc');
  arc.setAttribute('stroke-dasharray', `${circumference * Math.max(0, Math.min(1, fraction))} ${circumference}`);
  arc.setAttribute('transform', 'rotate(-90 60 60)');
  svg.append(track);
  if (fraction > 0) svg.append(arc);
  return el('div', { class: 'ring-box' }, svg,
    el('div', { class: 'ring-text' }, el('strong', { 'data-testid': 'remaining' }, headline), el('span', {}, sub)));
}

function daysLeft(iso) {
  return (new Date(iso).getTime() - Date.now()) / 86_400_000;
}

function balanceOf(account) {
  const bundles = account.bundles || [];
  let full = 0;
  for (const bundle of bundles) {
    full += Math.max(bundle.remaining_data_mb, lastPlanOf(bundle.region)?.data_mb || 0);
  }
  const fraction = full ? account.remaining_data_mb / full : 0;
  const box = el('div', { class: 'balance-row' }, ring(fraction, i18n.data(account.remaining_data_mb), t('line.left')));
  if (account.expires_at) {
    box.append(el('div', { class: 'expiry' },
      el('strong', { 'data-testid': 'time-left' }, i18n.timeLeft(account.expires_at)),
      el('span', {}, t('line.expires', { date: i18n.dateTime(account.expires_at) }))));
  }
  return box;
}

function renderLine() {
  const account = state.account;
  if (!account) return;
  const status = $('#line-status');
  status.textContent = t(`status.${account.status}`);
  status.className = `badge status-${account.status}`;
  $('#line-iccid').textContent = account.iccid || '—';
  const balance = $('#line-balance');
  balance.replaceChildren(balanceOf(account));
  if (account.status === 'none') {
    balance.append(el('p', { class: 'muted' }, t(account.iccid ? 'line.no_plan' : 'line.no_esim_yet')));
  }
  if (account.status === 'expired') balance.append(el('p', { class: 'message error' }, t('line.expired')));
  // SES told us mail to this address bounced or drew a complaint: we stopped mailing it.
  if (account.email_status && account.email_status !== 'ok') {
    balance.append(el('p', { class: 'message error', id: 'email-unreachable' }, t('account.email_unreachable', { email: account.email })));
  }
  $('#bundles').replaceChildren(...(account.bundles || []).map((bundle) => {
    const plan = lastPlanOf(bundle.region);
    const full = Math.max(bundle.remaining_data_mb, plan?.data_mb || 0) || 1;
    const left = Math.max(0, daysLeft(bundle.expires_at));
    const days = Math.max(left, plan?.validity_days || 0) || 1;
    return el('li', { 'data-region': bundle.region },
      el('div', { class: 'bundle-head' },
        el('strong', {}, i18n.regionName(bundle.region)),
        el('span', {}, `${i18n.data(bundle.remaining_data_mb)} · ${t('line.bundle_until', { date: i18n.date(bundle.expires_at) })}`)),
      el('div', { class: 'bar', title: t('line.legend_data') }, el('span', { style: `width:${(100 * bundle.remaining_data_mb) / full}%` })),
      el('div', { class: 'bar time', title: t('line.legend_time') }, el('span', { style: `width:${(100 * left) / days}%` })),
      el('small', { class: 'muted' }, i18n.timeLeft(bundle.expires_at)));
  }));
  // What the two bars under each region mean.
  show($('#bars-legend'), Boolean(account.bundles?.length));
}

// ------------------------------------------------------------------ plans
// The region and country choices, kept for this tab so they survive the trip to Checkout.
const FILTERS_KEY = 'renewal.plan_filters';

function savedFilters() {
  try {
    return JSON.parse(sessionStorage.getItem(FILTERS_KEY) || 'null') || {};
  } catch {
    return {};
  }
}

function saveFilters() {
  sessionStorage.setItem(FILTERS_KEY, JSON.stringify({ region: $('#region-filter').value, country: $('#country-filter').value }));
}

function fillFilters() {
  const regionSelect = $('#region-filter');
  const currencySelect = $('#currency');
  const saved = savedFilters();
  const keep = [regionSelect.options.length ? regionSelect.value : saved.region || '', currencySelect.value];
  const regions = [...new Set(state.plans.map((plan) => plan.region))];
  regionSelect.replaceChildren(el('option', { value: '' }, t('plans.any_region')),
    ...regions.map((region) => el('option', { value: region }, i18n.regionName(region))));
  currencySelect.replaceChildren(...CURRENCIES.map((code) => el('option', { value: code }, code)));
  regionSelect.value = regions.includes(keep[0]) ? keep[0] : '';
  fillCountries($('#country-filter').options.length ? $('#country-filter').value : saved.country || '');
  currencySelect.value = keep[1] || localStorage.getItem(CURRENCY_KEY) || (i18n.lang() === 'zh-CN' ? 'CNY' : 'USD');
}

// A region narrows the country list to the countries its plans cover.
function fillCountries(wanted) {
  const region = $('#region-filter').value;
  const countrySelect = $('#country-filter');
  const countries = [...new Set(state.plans.filter((plan) => !region || plan.region === region)
    .flatMap((plan) => plan.countries))]
    .map((code) => [code, i18n.countryName(code)])
    .sort((a, b) => a[1].localeCompare(b[1], i18n.lang()));
  countrySelect.replaceChildren(el('option', { value: '' }, t('plans.any_country')),
    ...countries.map(([code, name]) => el('option', { value: code }, name)));
  countrySelect.value = countries.some(([code]) => code === wanted) ? wanted : '';
}

// A country's own plans first, then the regional ones that cover it, then the global ones.
function coverageRank(plan, country) {
  if (!country) return 0;
  if (plan.countries.length === 1) return 0;
  return plan.region === 'GLOBAL' ? 2 : 1;
}

function renderPlans() {
  const region = $('#region-filter').value;
  const country = $('#country-filter').value;
  const currency = $('#currency').value;
  const lastPlan = state.suggested || state.orders.find((order) => order.status === 'activated')?.plan_id;
  const shown = state.plans.filter((plan) => (!region || plan.region === region)
    && (!country || plan.countries.includes(country)) && plan.prices[currency] !== undefined)
    .map((plan, index) => ({ plan, index }))
    .sort((a, b) => coverageRank(a.plan, country) - coverageRank(b.plan, country) || a.index - b.index)
    .map(({ plan }) => plan);
  const list = $('#plan-list');
  if (!shown.length) {
    list.replaceChildren(el('li', { class: 'muted' }, t('plans.none')));
    return;
  }
  list.replaceChildren(...shown.map((plan) => el('li', {
    class: `plan${plan.plan_id === lastPlan ? ' suggested' : ''}`,
    'data-plan': plan.plan_id,
  },
  el('div', { class: 'plan-main' },
    el('strong', { class: 'plan-name' }, i18n.planName(plan)),
    plan.plan_id === lastPlan ? el('span', { class: 'badge' }, t('plans.suggested')) : null,
    el('span', { class: 'muted' }, `${i18n.data(plan.data_mb)} · ${i18n.validity(plan.validity_days)} · `
      + `${plan.countries.length === 1 ? i18n.countryName(plan.countries[0]) : t('plans.countries', { count: plan.countries.length })}`)),
  el('div', { class: 'plan-buy' },
    el('span', { class: 'price' }, i18n.money(plan.prices[currency], currency)),
    el('button', { type: 'button', class: 'primary', onclick: (event) => buy(plan, currency, event.currentTarget) }, t('plans.buy'))))));
}

function wirePlans() {
  $('#region-filter').addEventListener('change', () => {
    fillCountries($('#country-filter').value);
    saveFilters();
    renderPlans();
  });
  $('#country-filter').addEventListener('change', () => {
    saveFilters();
    renderPlans();
  });
  $('#currency').addEventListener('change', () => {
    localStorage.setItem(CURRENCY_KEY, $('#currency').value);
    renderPlans();
  });
}

async function buy(plan, currency, button) {
  const item = button.closest('li');
  await busy(item, $('#plans-error'), async () => {
    const started = await state.api('POST', '/checkout', {
      body: { plan_id: plan.plan_id, currency },
      headers: { 'Idempotency-Key': newKey() },
    });
    // The success URL names only the Checkout Session; remember which order it pays.
    localStorage.setItem(PENDING_CHECKOUT, JSON.stringify({ order_id: started.order_id, session_id: started.session_id }));
    notice(t('plans.redirecting'));
    location.assign(started.checkout_url);
  });
}

// ------------------------------------------------------------------ back from Checkout
function setSuccess(key, vars = {}, done = false) {
  state.success = { key, vars, done };
  $('#success-status').textContent = t(key, vars);
  show($('#success-spinner'), !done);
  show($('#success-continue'), done);
}

async function orderOfSession(sessionId) {
  try {
    const pending = JSON.parse(localStorage.getItem(PENDING_CHECKOUT) || 'null');
    // "Pay now" on a listed order does not know its session id: that order is the one paid.
    if (pending && (pending.session_id === sessionId || !pending.session_id)) return pending.order_id;
  } catch { /* fall through */ }
  // Paid in another browser: the newest online order is the one just paid.
  const { orders } = await state.api('GET', '/orders?limit=5');
  return orders.find((order) => order.channel !== 'store' && !FINAL_FAILURES.includes(order.status))?.order_id;
}

async function runSuccess(sessionId) {
  showView('success');
  show($('#success-balance'), false);
  setSuccess('success.confirming');
  let orderId;
  try {
    orderId = await orderOfSession(sessionId);
  } catch (error) {
    setSuccess('err.generic', { detail: describe(error) }, true);
    return;
  }
  if (!orderId) {
    setSuccess('success.unknown', {}, true);
    return;
  }
  const deadline = Date.now() + ACTIVATION_WAIT_MS;
  let lastSync = 0;
  let order = null;
  while (Date.now() < deadline) {
    try {
      // Sync asks Stripe and fulfils if paid; in between, reading the order is enough.
      if (Date.now() - lastSync > 4000) {
        lastSync = Date.now();
        order = await state.api('POST', `/orders/${encodeURIComponent(orderId)}/sync`);
      } else {
        order = await state.api('GET', `/orders/${encodeURIComponent(orderId)}`);
      }
    } catch (error) {
      if (error.status === 401) return;
      if (error.status === 404) {
        setSuccess('success.unknown', {}, true);
        return;
      }
    }
    if (order?.status === 'activated') break;
    if (order && FINAL_FAILURES.includes(order.status)) {
      setSuccess('success.failed', { status: t(`order.${order.status}`) }, true);
      return;
    }
    if (order?.status === 'review') {
      setSuccess('success.review', {}, true);
      return;
    }
    setSuccess(order?.status === 'paid' ? 'success.activating' : 'success.confirming');
    await sleep(1000);
  }
  if (order?.status !== 'activated') {
    setSuccess('success.slow', {}, true);
    return;
  }
  localStorage.removeItem(PENDING_CHECKOUT);
  state.account = await state.api('GET', '/account');
  await loadPlans().catch(() => {});
  await loadOrders(true).catch(() => {});
  setSuccess('success.done', {}, true);
  renderSuccessBalance();
}

function renderSuccessBalance() {
  if (!state.account || !state.success?.done) return;
  $('#success-ring').replaceChildren(balanceOf(state.account));
  show($('#success-balance'), true);
}

function leaveSuccess() {
  history.replaceState(null, '', location.pathname);
  showHome();
}

// ------------------------------------------------------------------ orders and receipts
async function loadOrders(fresh) {
  try {
    const query = fresh || !state.nextCursor ? '?limit=10' : `?limit=10&cursor=${encodeURIComponent(state.nextCursor)}`;
    const page = await state.api('GET', `/orders${query}`);
    state.orders = fresh ? page.orders : [...state.orders, ...page.orders];
    state.nextCursor = page.next_cursor;
    say($('#orders-error'), '');
  } catch (error) {
    say($('#orders-error'), describe(error));
  }
  renderOrders();
}

function renderOrders() {
  const list = $('#order-list');
  show($('#orders-more'), Boolean(state.nextCursor));
  if (!state.orders.length) {
    list.replaceChildren(el('li', { class: 'muted' }, t('orders.none')));
    return;
  }
  list.replaceChildren(...state.orders.map((order) => {
    const plan = planById(order.plan_id);
    const where = order.store_id ? t('orders.store', { store: order.store_id }) : '';
    return el('li', { 'data-order': order.order_id },
      el('div', { class: 'order-main' },
        el('strong', {}, plan ? i18n.planName(plan) : order.plan_id),
        el('span', { class: 'muted' }, [i18n.dateTime(order.created_at), where].filter(Boolean).join(' · '))),
      el('div', { class: 'order-side' },
        el('span', { class: 'price' }, i18n.money(order.amount, order.currency)),
        el('span', { class: `badge order-${order.status}`, 'data-testid': 'order-status' }, orderStatus(order)),
        order.dispute_status ? el('span', { class: 'badge order-review' }, t('order.disputed')) : null,
        order.receipt_no ? el('button', {
          type: 'button', class: 'link', onclick: () => openReceipt(order),
        }, t('orders.receipt')) : null),
      order.status === 'pending' ? el('div', { class: 'order-actions' },
        order.checkout_url ? el('a', {
          class: 'button primary', href: order.checkout_url, onclick: () => rememberCheckout(order),
        }, t('orders.pay_now')) : null,
        el('button', { type: 'button', class: 'secondary', onclick: (event) => cancelOrder(order, event.currentTarget) },
          t('orders.cancel'))) : null);
  }));
}

// Never a raw status: each has words in both languages (an unknown one reads "Other").
function orderStatus(order) {
  const key = `order.${order.status}`;
  return t(key) === key ? t('order.other') : t(key);
}

function rememberCheckout(order) {
  localStorage.setItem(PENDING_CHECKOUT, JSON.stringify({ order_id: order.order_id, session_id: null }));
}

async function cancelOrder(order, button) {
  await busy(button.closest('li'), $('#orders-error'), async () => {
    let updated;
    try {
      updated = await state.api('POST', `/orders/${encodeURIComponent(order.order_id)}/cancel`);
    } catch (error) {
      if (error.status === 409) await loadOrders(true); // paid meanwhile: show what it is now
      throw error;
    }
    state.orders = state.orders.map((item) => (item.order_id === updated.order_id ? updated : item));
    renderOrders();
  });
}

async function openReceipt(order) {
  try {
    // In the language the page is read in (the API falls back to the account's).
    const html = await state.api('GET', `/orders/${encodeURIComponent(order.order_id)}/receipt`, {
      accept: 'text/html', headers: { 'Accept-Language': i18n.lang() },
    });
    showReceipt($('#receipt-dialog'), t('receipt.title', { number: order.receipt_no }), html);
  } catch (error) {
    say($('#orders-error'), describe(error));
  }
}

// ------------------------------------------------------------------ link a card, preferences
function wireAccountForms() {
  $('#link-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const form = event.target;
    busy(form, $('#link-message'), async () => {
      state.account = await state.api('POST', '/account/line', {
        body: { iccid: form.iccid.value.replace(/\s+/g, ''), pin: form.pin.value.trim() },
      });
      form.reset();
      renderLine();
      say($('#link-message'), t('link.done'), 'success');
    });
  });
  $('#prefs-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const form = event.target;
    busy(form, $('#prefs-message'), async () => {
      await state.api('PATCH', '/account/preferences', {
        body: {
          locale: form.locale.value,
          time_zone: form.time_zone.value,
          reminders: { expiry: form.expiry.checked, low_data: form.low_data.checked },
        },
      });
      i18n.setTimeZone(form.time_zone.value);
      if (state.account) state.account.time_zone = form.time_zone.value;
      rerender();
      say($('#prefs-message'), t('prefs.saved'), 'success');
    });
  });
  $('#orders-more').addEventListener('click', () => loadOrders(false));
}

async function loadPreferences() {
  const form = $('#prefs-form');
  try {
    const prefs = await state.api('GET', '/account/preferences');
    const zones = Intl.supportedValuesOf ? Intl.supportedValuesOf('timeZone') : [];
    const all = [...new Set(['UTC', prefs.time_zone, ...zones])];
    form.time_zone.replaceChildren(...all.map((zone) => el('option', { value: zone }, zone)));
    form.time_zone.value = prefs.time_zone;
    form.locale.value = prefs.locale;
    form.expiry.checked = prefs.reminders.expiry;
    form.low_data.checked = prefs.reminders.low_data;
    form.expiry.disabled = false;
    form.low_data.disabled = false;
    form.removeAttribute('aria-busy');
  } catch (error) {
    say($('#prefs-message'), describe(error));
  }
}

// ------------------------------------------------------------------ start
function useManifest() {
  // The install name and description in the page's language.
  $('link[rel=manifest]').href = i18n.lang() === 'zh-CN' ? 'manifest.zh-CN.webmanifest' : 'manifest.webmanifest';
}

function rerender() {
  useManifest();
  if (state.offlineAt && state.account) notice(t('line.offline', { time: i18n.dateTime(state.offlineAt) }));
  renderAuthTexts();
  if (state.plans.length) {
    fillFilters();
    renderPlans();
  }
  renderLine();
  renderOrders();
  if (state.success) setSuccess(state.success.key, state.success.vars, state.success.done);
  renderSuccessBalance();
}

async function main() {
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('sw.js').catch(() => { /* the site works without it */ });
  }
  useManifest();
  i18n.applyI18n();
  i18n.wireLanguageButtons();
  i18n.onLangChange(rerender);
  wireAuth();
  wirePlans();
  wireAccountForms();
  wireReceiptDialog($('#receipt-dialog'));
  $('#success-continue').addEventListener('click', leaveSuccess);
  try {
    state.config = await loadConfig();
  } catch (error) {
    notice(describe(error), 'error');
    return;
  }
  state.session = new Session(state.config, 'renewal.customer');
  state.api = apiClient(state.config, state.session, () => signOut(t('err.session')));
  const params = new URLSearchParams(location.search);
  if (params.get('checkout') === 'cancelled') {
    notice(t('checkout.cancelled'));
    history.replaceState(null, '', location.pathname);
  }
  if (await state.session.idToken()) {
    await enter();
  } else {
    showView('auth');
    showAuthForm('login-form');
  }
  document.body.dataset.ready = 'true';
}

main();
