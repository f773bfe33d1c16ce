// Small DOM helpers shared by the customer site and the store console.
import { ApiError } from './api.js';
import { CognitoError } from './cognito.js';
import { t } from './i18n.js';

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

export function show(node, visible = true) {
  node.hidden = !visible;
}

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name === 'text') node.textContent = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) {
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }
  return node;
}

// A message area (role=alert for errors, role=status otherwise); empty text hides it.
export function say(target, text, kind = 'error') {
  target.textContent = text || '';
  target.className = `message ${kind}`;
  target.hidden = !text;
}

const COGNITO_MESSAGES = {
  NotAuthorizedException: 'err.wrong_credentials',
  UserNotFoundException: 'err.wrong_credentials',
  UsernameExistsException: 'err.user_exists',
  InvalidPasswordException: 'err.weak_password',
  CodeMismatchException: 'err.bad_code',
  ExpiredCodeException: 'err.expired_code',
  LimitExceededException: 'err.too_many',
  TooManyRequestsException: 'err.too_many',
  TooManyFailedAttemptsException: 'err.too_many',
  UserNotConfirmedException: 'err.not_confirmed',
  InvalidParameterException: 'err.invalid_input',
  NetworkError: 'err.network',
  StaffOnly: 'err.staff_only', // the store console's own check of the token's groups
};

// Any error from Cognito or the API, in the reader's language.
export function describe(error) {
  if (error instanceof CognitoError) {
    const key = COGNITO_MESSAGES[error.type];
    return key ? t(key) : t('err.generic', { detail: error.type });
  }
  if (error instanceof ApiError) {
    if (error.code === 'network_error') return t('err.network');
    if (error.status === 401) return t('err.session');
    if (error.code === 'too_many_attempts') {
      return t('err.too_many_attempts', { minutes: Math.max(1, Math.ceil((error.retryAfter || 60) / 60)) });
    }
    if (error.code === 'wrong_currency') return t('err.wrong_currency', { detail: error.message });
    const key = `err.${error.code}`;
    if (t(key) !== key) return t(key);
    if (error.status === 422) return `${t('err.invalid_input')} ${error.message}`;
    return t('err.generic', { detail: error.message || error.code });
  }
  return t('err.generic', { detail: String(error?.message || error) });
}

// Disables a form's buttons while `work` runs; shows what went wrong in `target`.
export async function busy(form, target, work) {
  const buttons = $$('button', form);
  for (const button of buttons) button.disabled = true;
  form.setAttribute('aria-busy', 'true');
  if (target) say(target, '');
  try {
    return await work();
  } catch (error) {
    if (target) say(target, describe(error));
    else throw error;
    return undefined;
  } finally {
    for (const button of buttons) button.disabled = false;
    form.removeAttribute('aria-busy');
  }
}

// The receipt dialog: the API's printable page in a frame that runs none of its scripts (the
// page's own Print button is left out; ours prints the frame).
export function showReceipt(dialog, title, html) {
  const frame = $('iframe', dialog);
  $('[data-receipt-title]', dialog).textContent = title;
  frame.srcdoc = html.replace(/<button\b[^>]*>[\s\S]*?<\/button>/gi, '');
  const open = $('[data-receipt-open]', dialog);
  if (open) {
    URL.revokeObjectURL(open.href);
    open.href = URL.createObjectURL(new Blob([html], { type: 'text/html' }));
  }
  if (!dialog.open) dialog.showModal();
}

export function wireReceiptDialog(dialog) {
  $('[data-receipt-print]', dialog).addEventListener('click', () => $('iframe', dialog).contentWindow.print());
  $('[data-receipt-close]', dialog).addEventListener('click', () => dialog.close());
}
