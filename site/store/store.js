// The store console: staff log in, sell a plan for cash (change due, one sale per
// Idempotency-Key), print the receipt, void within 15 minutes, and the end-of-day report.
import { apiClient, newKey } from '../lib/api.js';
import { CognitoError, Session, claims, logIn } from '../lib/cognito.js';
import { loadConfig } from '../lib/config.js';
import * as i18n from '../lib/i18n.js';
import { t } from '../lib/i18n.js';
import {
  $, busy, describe, el, say, show, showReceipt, wireReceiptDialog,
} from '../lib/ui.js';

const CURRENCIES = ['HKD', 'USD', 'EUR', 'CNY'];
const CURRENCY_KEY = 'renewal.till.currency';
const ZONE_KEY = 'renewal.till.time_zone';
const STAFF_GROUP = 'store-staff';

const state = {
  config: null,
  session: null,
  api: null,
  plans: [],
  staffId: '',
  storeId: '',
  timeZone: localStorage.getItem(ZONE_KEY) || Intl.DateTimeFormat().resolvedOptions().timeZone,
  saleKey: null, // one key per sale: a double tap or a retry after a lost answer sells once
  sale: null,
  report: null,
};

const form = () => $('#sale-form');

function showView(signedIn) {
  show($('#login-view'), !signedIn);
  show($('#till-view'), signedIn);
  show($('#logout'), signedIn);
  show($('#who'), signedIn);
  $('#who').textContent = signedIn ? state.session.email : '';
  show($('#store-id'), signedIn && Boolean(state.storeId));
}

function signOut(message) {
  state.session.clear();
  state.storeId = '';
  showView(false);
  if (message) say($('#notice'), message, 'error');
}

// ------------------------------------------------------------------ log in
async function onLogin(event) {
  event.preventDefault();
  const login = event.target;
  await busy(login, $('#login-error'), async () => {
    const email = login.email.value.trim();
    const tokens = await logIn(state.config, email, login.password.value);
    const groups = claims(tokens.idToken)['cognito:groups'] || [];
    if (!groups.includes(STAFF_GROUP)) throw new CognitoError('StaffOnly', t('err.staff_only'));
    state.session.save(tokens, email);
    login.reset();
    say($('#notice'), '');
    await enter();
  });
}

async function enter() {
  state.staffId = claims(await state.session.idToken()).sub;
  showView(true);
  try {
    state.plans = (await state.api('GET', '/plans')).plans;
  } catch (error) {
    say($('#sale-error'), describe(error));
  }
  fillSaleForm();
  // Focus first: a clerk who starts typing while the report loads keeps typing where they are.
  form().customer.focus();
  await loadReport(todayInStore());
}

// ------------------------------------------------------------------ the sale
function luhnOk(digits) {
  let sum = 0;
  for (let i = 0; i < digits.length; i += 1) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

// {email} or {iccid}; {mistyped: true} for an ICCID of the right length whose check digit does not
// add up (a misread scan or a typo); null for anything else.
function customerOf(text) {
  const value = text.trim();
  if (value.includes('@')) return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value) ? { email: value } : null;
  const digits = value.replace(/[\s-]/g, '');
  if (!/^\d{19,20}$/.test(digits)) return null;
  return luhnOk(digits) ? { iccid: digits } : { mistyped: true };
}

function customerProblem(found) {
  if (!found) return t('store.customer_bad');
  if (found.mistyped) return t('store.iccid_mistyped');
  return '';
}

function fillSaleForm() {
  const sale = form();
  const currency = sale.currency.value || localStorage.getItem(CURRENCY_KEY) || CURRENCIES[0];
  sale.currency.replaceChildren(...CURRENCIES.map((code) => el('option', { value: code }, code)));
  sale.currency.value = currency;
  const chosen = sale.plan.value;
  const regions = [...new Set(state.plans.map((plan) => plan.region))];
  sale.plan.replaceChildren(el('option', { value: '' }, t('store.choose_plan')), ...regions.map((region) => el('optgroup',
    { label: i18n.regionName(region) },
    ...state.plans.filter((plan) => plan.region === region && plan.prices[currency] !== undefined)
      .map((plan) => el('option', { value: plan.plan_id },
        `${i18n.planName(plan)} · ${i18n.validity(plan.validity_days)} · ${i18n.money(plan.prices[currency], currency)}`)))));
  sale.plan.value = chosen;
  updateSums();
}

function updateSums() {
  const sale = form();
  const currency = sale.currency.value;
  const plan = state.plans.find((p) => p.plan_id === sale.plan.value);
  const price = plan?.prices[currency];
  $('#price').textContent = price === undefined ? '—' : i18n.money(price, currency);
  const cash = sale.cash.value.trim() ? i18n.toMinor(sale.cash.value, currency) : null;
  const box = $('#change-box');
  box.classList.remove('short');
  $('#change-label').textContent = t('store.change');
  if (price === undefined || cash === null) {
    $('#change').textContent = '—';
  } else if (cash < price) {
    box.classList.add('short');
    $('#change-label').textContent = t('store.short', { amount: '' }).trim();
    $('#change').textContent = i18n.money(price - cash, currency);
  } else {
    $('#change').textContent = i18n.money(cash - price, currency);
  }
  const customer = sale.customer.value.trim();
  const found = customer ? customerOf(customer) : null;
  const hint = $('#customer-hint');
  hint.textContent = !customer ? t('store.customer_hint')
    : customerProblem(found) || (found.iccid ? t('store.line_ok') : t('store.email_ok'));
  hint.classList.toggle('bad', Boolean(customer && customerProblem(found)));
}

async function onSale(event) {
  event.preventDefault();
  const sale = form();
  const currency = sale.currency.value;
  const customer = customerOf(sale.customer.value);
  const cash = i18n.toMinor(sale.cash.value, currency);
  if (!customer || customer.mistyped) {
    say($('#sale-error'), customerProblem(customer));
    sale.customer.focus();
    return;
  }
  if (!sale.plan.value || cash === null) {
    say($('#sale-error'), t('err.invalid_input'));
    return;
  }
  state.saleKey ||= newKey();
  await busy(sale, $('#sale-error'), async () => {
    state.sale = await state.api('POST', '/store/renewals', {
      body: { ...customer, plan_id: sale.plan.value, currency, cash_received: cash },
      headers: { 'Idempotency-Key': state.saleKey },
    });
    state.saleKey = null;
    renderSaleDone();
    loadReport($('#report-form').date.value || todayInStore());
  });
}

function renderSaleDone() {
  const sold = state.sale;
  show(form(), !sold);
  show($('#sale-done'), Boolean(sold));
  if (!sold) return;
  const voided = sold.status === 'voided';
  $('#sale-done').classList.toggle('voided', voided);
  $('#done-title').textContent = voided ? t('store.voided_title') : t('store.done');
  $('#done-receipt').textContent = t('store.receipt_no', { number: sold.receipt_no });
  // After a void the cashier hands back what the customer paid for the plan (the change was
  // given already).
  $('#done-change').textContent = voided
    ? t('store.give_back', { amount: i18n.money(sold.amount, sold.currency) })
    : t('store.give_change', { amount: i18n.money(sold.change_due, sold.currency) });
  $('#done-line').textContent = t('store.line', { iccid: sold.iccid });
  show($('#void-sale'), !voided && $('#void-form').hidden);
}

async function printReceipt() {
  const sold = state.sale;
  await busy($('#sale-done'), $('#done-message'), async () => {
    const html = await state.api('GET', `/store/receipts/${encodeURIComponent(sold.receipt_no)}`, {
      accept: 'text/html', headers: { 'Accept-Language': i18n.lang() },
    });
    showReceipt($('#receipt-dialog'), t('receipt.title', { number: sold.receipt_no }), html);
  });
}

// Void asks for a reason in the page (required), never a browser prompt.
function askVoid() {
  const voidForm = $('#void-form');
  voidForm.reset();
  say($('#void-error'), '');
  show(voidForm, true);
  show($('#void-sale'), false);
  voidForm.reason.focus();
}

function keepSale() {
  show($('#void-form'), false);
  renderSaleDone();
}

async function voidSale(event) {
  event.preventDefault();
  const voidForm = event.target;
  const reason = voidForm.reason.value.trim();
  if (!reason) {
    say($('#void-error'), t('store.void_reason_needed'));
    voidForm.reason.focus();
    return;
  }
  await busy(voidForm, $('#void-error'), async () => {
    const voided = await state.api('POST', `/store/renewals/${encodeURIComponent(state.sale.order_id)}/void`, { body: { reason } });
    state.sale = { ...state.sale, status: voided.status || 'voided' };
    show(voidForm, false);
    renderSaleDone();
    say($('#done-message'), t('store.voided'), 'success');
    loadReport($('#report-form').date.value || todayInStore());
  });
}

function nextSale() {
  state.sale = null;
  state.saleKey = null;
  form().reset();
  fillSaleForm();
  say($('#done-message'), '');
  say($('#sale-error'), '');
  show($('#void-form'), false);
  renderSaleDone();
  form().customer.focus();
}

// ------------------------------------------------------------------ end of day
function todayInStore() {
  try {
    return new Intl.DateTimeFormat('en-CA', { timeZone: state.timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })
      .format(new Date());
  } catch {
    return new Date().toISOString().slice(0, 10);
  }
}

async function loadReport(day) {
  const report = $('#report-form');
  await busy(report, $('#report-error'), async () => {
    state.report = await state.api('GET', `/store/reports/daily?date=${encodeURIComponent(day)}`);
    state.storeId = state.report.store_id;
    $('#store-id').textContent = state.storeId;
    show($('#store-id'), true);
    if (state.report.time_zone && state.report.time_zone !== state.timeZone) {
      // The store's own day: the first report tells its time zone.
      state.timeZone = state.report.time_zone;
      localStorage.setItem(ZONE_KEY, state.timeZone);
      if (todayInStore() !== day && !report.date.value) {
        state.report = await state.api('GET', `/store/reports/daily?date=${todayInStore()}`);
      }
    }
    report.date.value = state.report.date;
    renderReport();
  });
}

function table(caption, headers, rows) {
  return [el('h3', {}, caption), el('table', {},
    el('thead', {}, el('tr', {}, headers.map(([text, numeric]) => el('th', { class: numeric ? 'num' : null }, text)))),
    el('tbody', {}, rows.map((cells) => el('tr', {}, cells.map(([text, numeric]) => el('td', { class: numeric ? 'num' : null }, text))))))];
}

function renderReport() {
  const report = state.report;
  const body = $('#report-body');
  if (!report) return;
  const currency = report.per_currency[0]?.currency || form().currency.value;
  const planLabel = (id) => {
    const plan = state.plans.find((p) => p.plan_id === id);
    return plan ? i18n.planName(plan) : id;
  };
  // A day with no sales, or only voided ones, says so and still shows its (zero) totals.
  const empty = !report.per_plan.length;
  const totals = report.per_currency.length ? report.per_currency : [{ currency, amount: 0 }];
  const summary = !empty ? null : el('p', { class: 'message info', 'data-testid': 'no-sales' },
    report.voided.length ? t('store.only_voided', { count: report.voided.length }) : t('store.no_sales'));
  body.replaceChildren(
    ...(summary ? [summary] : []),
    ...table(t('store.by_currency'), [[t('plans.currency')], [t('store.count'), true], [t('store.amount'), true]],
      totals.map((row) => [[row.currency], [report.per_plan.reduce((sum, p) => sum + p.count, 0), true],
        [i18n.money(row.amount, row.currency), true]])),
    ...(empty ? [] : table(t('store.by_plan'), [[t('store.plan')], [t('store.count'), true], [t('store.amount'), true]],
      report.per_plan.map((row) => [[planLabel(row.plan_id)], [row.count, true], [i18n.money(row.amount, currency), true]]))),
    ...(empty ? [] : table(t('store.by_staff'), [[t('store.staff')], [t('store.count'), true], [t('store.amount'), true]],
      report.per_staff.map((row) => [[row.staff_id === state.staffId ? t('store.you') : row.staff_name || t('store.colleague')],
        [row.count, true], [i18n.money(row.amount, currency), true]]))),
    report.voided.length ? el('p', { class: 'muted' }, t('store.voided_list', { list: report.voided.join(', ') })) : '',
  );
}

// ------------------------------------------------------------------ start
function rerender() {
  if (state.plans.length) fillSaleForm();
  renderSaleDone();
  renderReport();
}

async function main() {
  i18n.applyI18n();
  i18n.wireLanguageButtons();
  i18n.onLangChange(rerender);
  wireReceiptDialog($('#receipt-dialog'));
  $('#login-form').addEventListener('submit', onLogin);
  form().addEventListener('submit', onSale);
  form().addEventListener('input', () => {
    state.saleKey = null; // another sale now: a new key
    updateSums();
  });
  form().currency.addEventListener('change', () => {
    localStorage.setItem(CURRENCY_KEY, form().currency.value);
    fillSaleForm();
  });
  $('#print-receipt').addEventListener('click', printReceipt);
  $('#void-sale').addEventListener('click', askVoid);
  $('#void-form').addEventListener('submit', voidSale);
  $('#void-cancel').addEventListener('click', keepSale);
  $('#next-sale').addEventListener('click', nextSale);
  $('#report-form').addEventListener('submit', (event) => {
    event.preventDefault();
    loadReport(event.target.date.value || todayInStore());
  });
  $('#print-report').addEventListener('click', () => window.print());
  $('#logout').addEventListener('click', () => signOut());
  try {
    state.config = await loadConfig();
  } catch (error) {
    say($('#notice'), describe(error));
    return;
  }
  state.session = new Session(state.config, 'renewal.staff');
  state.api = apiClient(state.config, state.session, () => signOut(t('err.session')));
  if (await state.session.idToken()) await enter();
  else showView(false);
  document.body.dataset.ready = 'true';
}

main();
