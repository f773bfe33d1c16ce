// English and Simplified Chinese. Elements carry data-i18n="key" (text), data-i18n-placeholder,
// data-i18n-aria-label or data-i18n-title; code calls t(key, {vars}). The choice is remembered
// in localStorage; the first visit follows the browser's language.

const STRINGS = {
  en: {
    'site.title': 'My eSIM',
    'store.title': 'Store console',
    'lang.label': 'Language',
    'action.logout': 'Log out',
    'action.close': 'Close',
    'action.print': 'Print',
    'action.open_tab': 'Open in a new tab',
    'action.retry': 'Try again',
    'loading': 'Loading…',

    'auth.login': 'Log in',
    'auth.signup': 'Sign up',
    'auth.email': 'Email',
    'auth.password': 'Password',
    'auth.new_password': 'New password',
    'auth.password_hint': 'At least 8 characters, with a lowercase letter and a number.',
    'auth.forgot': 'Forgot your password?',
    'auth.back_to_login': 'Back to log in',
    'auth.create': 'Create account',
    'auth.code': 'Code',
    'auth.confirm_title': 'Check your email',
    'auth.confirm_text': 'We sent a code to {email}. Enter it to finish signing up.',
    'auth.confirm': 'Confirm and log in',
    'auth.resend': 'Send the code again',
    'auth.code_sent': 'A new code is on its way.',
    'auth.wrong_email': 'Wrong email? Change it',
    'jump.label': 'Go to',
    'auth.forgot_title': 'Reset your password',
    'auth.forgot_text': 'We will email you a code to set a new password.',
    'auth.send_code': 'Send code',
    'auth.reset_text': 'Enter the code we sent to {email} and choose a new password.',
    'auth.reset': 'Set new password',
    'auth.reset_done': 'Your password is changed. Log in with the new one.',
    'auth.intro': 'Top up your international data card: see what is left, pick a plan, pay, done.',

    'err.wrong_credentials': 'Wrong email or password.',
    'err.user_exists': 'An account with this email already exists. Log in instead.',
    'err.weak_password': 'This password is too weak: at least 8 characters, with a lowercase letter and a number.',
    'err.bad_code': 'That code is not right. Check the email and try again.',
    'err.expired_code': 'That code has expired. Ask for a new one.',
    'err.too_many': 'Too many attempts. Wait a little and try again.',
    'err.not_confirmed': 'Confirm your email first: we sent you a code.',
    'err.invalid_input': 'Please check what you entered.',
    'err.network': 'We could not reach the server. Check your connection and try again.',
    'err.session': 'Your session has ended. Please log in again.',
    'err.generic': 'Something went wrong ({detail}).',
    'err.wrong_pin': 'That ICCID and PIN do not match a card.',
    'err.invalid_iccid': 'That is not an ICCID: 19 or 20 digits, as printed on the card.',
    'err.card_locked': 'This card is locked after too many wrong PINs. Contact support to unlock it.',
    'err.line_not_found': 'We have no card with this ICCID.',
    'err.too_many_attempts': 'Too many wrong tries. Try again in {minutes} min.',
    'err.current_line_in_use': 'Your current line still has plans on it, so it cannot be swapped.',
    'err.line_linked_elsewhere': 'This card is linked to another account.',
    'err.line_lapsed': 'This card has lapsed and can no longer be renewed.',
    'err.plan_not_found': 'This plan is no longer sold.',
    'err.unsupported_currency': 'This plan is not sold in that currency.',
    'err.payment_provider_unavailable': 'Payments are unavailable right now. Please try again shortly.',
    'err.insufficient_cash': 'The cash received is less than the price.',
    'err.wrong_currency': 'This store does not take that currency: {detail}',
    'err.customer_not_found': 'No customer with this email has a line.',
    'err.staff_only': 'This account is not store staff.',
    'err.no_store': 'This staff account is not assigned to a store.',
    'err.void_window_passed': 'Sales can only be voided within 15 minutes.',
    'err.already_void': 'This sale is already voided.',
    'err.receipt_not_found': 'No such receipt at this store.',

    'line.title': 'My line',
    'line.iccid': 'ICCID',
    'line.left': 'left',
    'line.expires': 'Valid until {date}',
    'left.days': '{days} days left',
    'left.day': '1 day left',
    'left.hours': '{hours} hours left',
    'left.hour': '1 hour left',
    'left.under_hour': 'less than an hour left',
    'left.none': 'expired',
    'line.no_plan': 'No plan on this line yet. Pick one below.',
    'line.no_esim_yet': 'Your eSIM comes with your first plan. Pick one below.',
    'line.expired': 'Your plan has expired. Renew below to get back online.',
    'account.email_unreachable': 'We could not reach your email ({email}), so we have stopped sending you reminders and receipts. Check the address, or contact support to use another.',
    'line.bundle_until': 'until {date}',
    'line.legend_data': 'Data left',
    'line.legend_time': 'Time left',
    'line.offline': 'You are offline. Balance as of {time}.',
    'status.none': 'New',
    'status.active': 'Active',
    'status.expired': 'Expired',
    'status.lapsed': 'Lapsed',

    'plans.title': 'Renew',
    'plans.region': 'Region',
    'plans.country': 'Country',
    'plans.currency': 'Currency',
    'plans.any_region': 'All regions',
    'plans.any_country': 'Any country',
    'plans.none': 'No plan covers this choice.',
    'plans.buy': 'Buy',
    'plans.days': '{days} days',
    'plans.day': '1 day',
    'plans.countries': '{count} countries',
    'plans.suggested': 'Your last plan',
    'plans.redirecting': 'Taking you to secure checkout…',
    'kind.daily': 'Daily',
    'kind.weekly': 'Weekly',
    'kind.monthly': 'Monthly',
    'region.EU': 'Europe',
    'region.ASIA': 'Asia',
    'region.NA': 'North America',
    'region.GLOBAL': 'Global',
    'region.JP': 'Japan',

    'checkout.cancelled': 'Payment cancelled: nothing was charged.',
    'success.title': 'Thank you!',
    'success.confirming': 'Confirming your payment…',
    'success.activating': 'Payment received. Adding the plan to your line…',
    'success.done': 'Your plan is active.',
    'success.balance': 'Now on your line',
    'success.slow': 'This is taking longer than usual. Your plan will appear shortly; you can leave this page.',
    'success.failed': 'The payment did not go through ({status}). Nothing was added.',
    'success.review': 'We are checking this payment by hand and will email you.',
    'success.unknown': 'We could not find this payment. If you were charged, it will appear under Orders.',
    'success.continue': 'Continue',

    'orders.title': 'Orders',
    'orders.none': 'No orders yet.',
    'orders.receipt': 'Receipt',
    'orders.more': 'Show more',
    'orders.store': 'Store {store}',
    'order.pending': 'Waiting for payment',
    'order.other': 'Other',
    'order.disputed': 'Disputed',
    'orders.pay_now': 'Pay now',
    'orders.cancel': 'Cancel',
    'err.order_already_paid': 'This order was paid just now: it is being added to your line.',
    'err.payment_in_progress': 'A payment for this order is under way and cannot be cancelled.',
    'err.order_not_pending': 'This order is no longer waiting for payment.',
    'order.paid': 'Paid',
    'order.activated': 'Active',
    'order.expired': 'Not paid',
    'order.failed': 'Failed',
    'order.refunded': 'Refunded',
    'order.voided': 'Voided',
    'order.review': 'Under review',
    'receipt.title': 'Receipt {number}',

    'link.title': 'Link a card you already have',
    'link.text': 'Bought a card in a store? Enter the ICCID and the 8-digit PIN printed on it.',
    'link.iccid': 'ICCID (19 or 20 digits)',
    'link.pin': 'PIN (8 digits)',
    'link.submit': 'Link card',
    'link.done': 'Card linked: it is now your line.',

    'prefs.title': 'Reminders',
    'prefs.locale': 'Email language',
    'prefs.time_zone': 'Time zone',
    'prefs.expiry': 'Remind me before my plan expires',
    'prefs.low_data': 'Tell me when data runs low',
    'prefs.save': 'Save',
    'prefs.saved': 'Saved.',

    'store.login_text': 'Staff log in with their store account.',
    'store.sale': 'New sale',
    'store.customer': 'Customer: ICCID or email',
    'store.customer_hint': 'Scan or type the card ICCID, or the customer account email.',
    'store.customer_bad': 'Enter a valid ICCID (19 or 20 digits) or an email address.',
    'store.line_ok': 'ICCID checks out.',
    'store.email_ok': 'The sale goes to the line of this account.',
    'store.plan': 'Plan',
    'store.choose_plan': 'Choose a plan',
    'store.currency': 'Till currency',
    'store.price': 'Price',
    'store.cash': 'Cash received',
    'store.change': 'Change due',
    'store.short': 'Short by {amount}',
    'store.complete': 'Complete sale',
    'store.done': 'Sale complete',
    'store.receipt_no': 'Receipt {number}',
    'store.give_change': 'Give change: {amount}',
    'store.line': 'Line {iccid}',
    'store.print': 'Print receipt',
    'store.void': 'Void sale',
    'store.void_reason': 'Why is this sale voided?',
    'store.voided': 'Sale voided.',
    'store.voided_title': 'Sale voided',
    'store.give_back': 'Sale voided: give back {amount}',
    'store.void_confirm': 'Void this sale',
    'store.void_keep': 'Keep the sale',
    'store.void_reason_needed': 'Enter why the sale is voided.',
    'store.iccid_mistyped': 'This ICCID does not add up (its check digit is wrong): the number is mistyped. Rescan the card or type it again.',
    'store.only_voided': 'Only voided sales on this day ({count}): nothing to take in.',
    'store.colleague': 'Colleague',
    'store.next': 'Next customer',
    'store.report': 'End of day',
    'store.date': 'Date',
    'store.load': 'Show',
    'store.by_plan': 'By plan',
    'store.by_currency': 'Totals',
    'store.by_staff': 'By staff',
    'store.count': 'Sales',
    'store.amount': 'Amount',
    'store.staff': 'Staff',
    'store.you': 'you',
    'store.voided_list': 'Voided: {list}',
    'store.no_sales': 'No sales on this day: nothing to take in.',
    'store.print_report': 'Print report',
  },
  'zh-CN': {
    'site.title': '我的 eSIM',
    'store.title': '门店收银台',
    'lang.label': '语言',
    'action.logout': '退出登录',
    'action.close': '关闭',
    'action.print': '打印',
    'action.open_tab': '在新标签页打开',
    'action.retry': '重试',
    'loading': '加载中…',

    'auth.login': '登录',
    'auth.signup': '注册',
    'auth.email': '电子邮箱',
    'auth.password': '密码',
    'auth.new_password': '新密码',
    'auth.password_hint': '至少 8 个字符，包含一个小写字母和一个数字。',
    'auth.forgot': '忘记密码？',
    'auth.back_to_login': '返回登录',
    'auth.create': '创建账户',
    'auth.code': '验证码',
    'auth.confirm_title': '请查收邮件',
    'auth.confirm_text': '我们已向 {email} 发送验证码，输入后即可完成注册。',
    'auth.confirm': '确认并登录',
    'auth.resend': '重新发送验证码',
    'auth.code_sent': '新的验证码已发送。',
    'auth.wrong_email': '邮箱填错了？修改邮箱',
    'jump.label': '跳转到',
    'auth.forgot_title': '重置密码',
    'auth.forgot_text': '我们会通过邮件发送验证码，用于设置新密码。',
    'auth.send_code': '发送验证码',
    'auth.reset_text': '输入发送到 {email} 的验证码，并设置新密码。',
    'auth.reset': '设置新密码',
    'auth.reset_done': '密码已修改，请用新密码登录。',
    'auth.intro': '为您的国际数据卡充值：查看余量、选择套餐、付款，即刻完成。',

    'err.wrong_credentials': '邮箱或密码错误。',
    'err.user_exists': '该邮箱已注册，请直接登录。',
    'err.weak_password': '密码强度不足：至少 8 个字符，包含一个小写字母和一个数字。',
    'err.bad_code': '验证码不正确，请检查邮件后重试。',
    'err.expired_code': '验证码已过期，请重新获取。',
    'err.too_many': '尝试次数过多，请稍后再试。',
    'err.not_confirmed': '请先验证邮箱：我们已向您发送验证码。',
    'err.invalid_input': '请检查输入的内容。',
    'err.network': '无法连接服务器，请检查网络后重试。',
    'err.session': '登录已过期，请重新登录。',
    'err.generic': '出错了（{detail}）。',
    'err.wrong_pin': 'ICCID 与 PIN 码不匹配。',
    'err.invalid_iccid': '这不是有效的 ICCID：应为卡上印的 19 或 20 位数字。',
    'err.card_locked': '错误的 PIN 码次数过多，该卡已被锁定。请联系客服解锁。',
    'err.line_not_found': '没有找到该 ICCID 的卡。',
    'err.too_many_attempts': '错误次数过多，请 {minutes} 分钟后再试。',
    'err.current_line_in_use': '您当前的号码仍有套餐，无法更换。',
    'err.line_linked_elsewhere': '该卡已绑定其他账户。',
    'err.line_lapsed': '该卡已失效，无法续费。',
    'err.plan_not_found': '该套餐已停售。',
    'err.unsupported_currency': '该套餐不支持此币种。',
    'err.payment_provider_unavailable': '支付服务暂时不可用，请稍后再试。',
    'err.insufficient_cash': '收到的现金少于价格。',
    'err.wrong_currency': '本店不收此币种：{detail}',
    'err.customer_not_found': '没有使用该邮箱且持有号码的客户。',
    'err.staff_only': '该账户不是门店员工。',
    'err.no_store': '该员工账户未分配门店。',
    'err.void_window_passed': '只能在 15 分钟内作废交易。',
    'err.already_void': '该交易已作废。',
    'err.receipt_not_found': '本店没有该收据。',

    'line.title': '我的号码',
    'line.iccid': 'ICCID',
    'line.left': '剩余',
    'line.expires': '有效期至 {date}',
    'left.days': '剩余 {days} 天',
    'left.day': '剩余 1 天',
    'left.hours': '剩余 {hours} 小时',
    'left.hour': '剩余 1 小时',
    'left.under_hour': '剩余不足 1 小时',
    'left.none': '已到期',
    'line.no_plan': '该号码还没有套餐，请在下方选择。',
    'line.no_esim_yet': '您的 eSIM 将随首个套餐一起提供，请在下方选择。',
    'line.expired': '您的套餐已过期，请在下方续费以恢复上网。',
    'account.email_unreachable': '我们无法送达您的邮箱（{email}），因此已停止向您发送提醒和收据。请检查邮箱地址，或联系客服更换。',
    'line.bundle_until': '至 {date}',
    'line.legend_data': '剩余流量',
    'line.legend_time': '剩余时间',
    'line.offline': '您已离线。以下为 {time} 时的余量。',
    'status.none': '新号码',
    'status.active': '使用中',
    'status.expired': '已过期',
    'status.lapsed': '已失效',

    'plans.title': '续费',
    'plans.region': '地区',
    'plans.country': '国家/地区',
    'plans.currency': '币种',
    'plans.any_region': '全部地区',
    'plans.any_country': '任意国家/地区',
    'plans.none': '没有覆盖此选择的套餐。',
    'plans.buy': '购买',
    'plans.days': '{days} 天',
    'plans.day': '1 天',
    'plans.countries': '{count} 个国家/地区',
    'plans.suggested': '您上次的套餐',
    'plans.redirecting': '正在前往安全支付页面…',
    'kind.daily': '日套餐',
    'kind.weekly': '周套餐',
    'kind.monthly': '月套餐',
    'region.EU': '欧洲',
    'region.ASIA': '亚洲',
    'region.NA': '北美',
    'region.GLOBAL': '全球',
    'region.JP': '日本',

    'checkout.cancelled': '已取消付款，未产生任何扣费。',
    'success.title': '谢谢！',
    'success.confirming': '正在确认您的付款…',
    'success.activating': '已收到付款，正在为您的号码添加套餐…',
    'success.done': '您的套餐已生效。',
    'success.balance': '号码当前余量',
    'success.slow': '处理时间比平时长。套餐稍后会出现，您可以离开此页面。',
    'success.failed': '付款未成功（{status}），未添加任何套餐。',
    'success.review': '我们正在人工核对这笔付款，稍后会发邮件通知您。',
    'success.unknown': '找不到这笔付款。如已扣款，它会出现在订单中。',
    'success.continue': '继续',

    'orders.title': '订单',
    'orders.none': '暂无订单。',
    'orders.receipt': '收据',
    'orders.more': '显示更多',
    'orders.store': '门店 {store}',
    'order.pending': '待付款',
    'order.other': '其他',
    'order.disputed': '有争议',
    'orders.pay_now': '立即付款',
    'orders.cancel': '取消',
    'err.order_already_paid': '该订单刚刚已付款，正在添加到您的号码。',
    'err.payment_in_progress': '该订单的付款正在处理中，无法取消。',
    'err.order_not_pending': '该订单已不在待付款状态。',
    'order.paid': '已付款',
    'order.activated': '已生效',
    'order.expired': '未付款',
    'order.failed': '失败',
    'order.refunded': '已退款',
    'order.voided': '已作废',
    'order.review': '审核中',
    'receipt.title': '收据 {number}',

    'link.title': '绑定已有的卡',
    'link.text': '在门店买的卡？请输入卡上印的 ICCID 和 8 位 PIN 码。',
    'link.iccid': 'ICCID（19 或 20 位数字）',
    'link.pin': 'PIN 码（8 位）',
    'link.submit': '绑定卡',
    'link.done': '绑定成功，这张卡现在是您的号码。',

    'prefs.title': '提醒',
    'prefs.locale': '邮件语言',
    'prefs.time_zone': '时区',
    'prefs.expiry': '套餐到期前提醒我',
    'prefs.low_data': '流量不足时通知我',
    'prefs.save': '保存',
    'prefs.saved': '已保存。',

    'store.login_text': '员工请使用门店账户登录。',
    'store.sale': '新交易',
    'store.customer': '客户：ICCID 或邮箱',
    'store.customer_hint': '扫描或输入卡的 ICCID，或客户账户的邮箱。',
    'store.customer_bad': '请输入有效的 ICCID（19 或 20 位数字）或邮箱地址。',
    'store.line_ok': 'ICCID 校验通过。',
    'store.email_ok': '将为该账户的号码续费。',
    'store.plan': '套餐',
    'store.choose_plan': '选择套餐',
    'store.currency': '收银币种',
    'store.price': '价格',
    'store.cash': '收到现金',
    'store.change': '应找零',
    'store.short': '还差 {amount}',
    'store.complete': '完成交易',
    'store.done': '交易完成',
    'store.receipt_no': '收据 {number}',
    'store.give_change': '找零：{amount}',
    'store.line': '号码 {iccid}',
    'store.print': '打印收据',
    'store.void': '作废交易',
    'store.void_reason': '作废原因？',
    'store.voided': '交易已作废。',
    'store.voided_title': '交易已作废',
    'store.give_back': '交易已作废：请退还 {amount}',
    'store.void_confirm': '作废此交易',
    'store.void_keep': '保留交易',
    'store.void_reason_needed': '请填写作废原因。',
    'store.iccid_mistyped': '该 ICCID 校验位不符，号码输错了。请重新扫描或重新输入。',
    'store.only_voided': '当天只有已作废的交易（{count} 笔），无收入。',
    'store.colleague': '同事',
    'store.next': '下一位客户',
    'store.report': '日结',
    'store.date': '日期',
    'store.load': '查看',
    'store.by_plan': '按套餐',
    'store.by_currency': '合计',
    'store.by_staff': '按员工',
    'store.count': '笔数',
    'store.amount': '金额',
    'store.staff': '员工',
    'store.you': '您',
    'store.voided_list': '已作废：{list}',
    'store.no_sales': '当天没有交易，无收入。',
    'store.print_report': '打印日结',
  },
};

export const LANGUAGES = [
  ['en', 'English'],
  ['zh-CN', '中文'],
];
const STORAGE_KEY = 'renewal.lang';
const listeners = [];

function initialLang() {
  const saved = localStorage.getItem(STORAGE_KEY);
  if (saved && STRINGS[saved]) return saved;
  return (navigator.language || 'en').toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
}

let current = initialLang();

export function lang() {
  return current;
}

export function t(key, vars = {}) {
  const text = STRINGS[current][key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

export function applyI18n(root = document) {
  document.documentElement.lang = current;
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll('[data-i18n-aria-label]')) el.setAttribute('aria-label', t(el.dataset.i18nAriaLabel));
  for (const el of root.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
  for (const button of root.querySelectorAll('[data-lang]')) {
    button.setAttribute('aria-pressed', String(button.dataset.lang === current));
  }
}

export function setLang(value) {
  if (!STRINGS[value]) return;
  current = value;
  localStorage.setItem(STORAGE_KEY, value);
  applyI18n();
  for (const listener of listeners) listener(value);
}

export function onLangChange(listener) {
  listeners.push(listener);
}

// The language buttons in the header: <div class="lang"><button data-lang="en">…
export function wireLanguageButtons(root = document) {
  for (const button of root.querySelectorAll('[data-lang]')) {
    button.addEventListener('click', () => setLang(button.dataset.lang));
  }
}

// ------------------------------------------------------------------ formatting
export function currencyDigits(currency) {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits;
  } catch {
    return 2;
  }
}

// Prices are integer minor units (README): 1299 USD is $12.99.
export function money(minor, currency) {
  const digits = currencyDigits(currency);
  return new Intl.NumberFormat(current, { style: 'currency', currency }).format(minor / 10 ** digits);
}

export function toMinor(text, currency) {
  const value = Number(String(text).replace(/[\s,]/g, ''));
  if (!Number.isFinite(value) || value < 0) return null;
  return Math.round(value * 10 ** currencyDigits(currency));
}

export function data(mb) {
  const number = new Intl.NumberFormat(current, { maximumFractionDigits: 1 });
  return mb >= 1024 ? `${number.format(mb / 1024)} GB` : `${number.format(mb)} MB`;
}

// Times are shown in the zone chosen in the account's preferences (the one its mails and
// receipts use), the device's until the account is read.
let zone;

export function setTimeZone(value) {
  try {
    new Intl.DateTimeFormat('en', { timeZone: value }).format(0);
    zone = value;
  } catch {
    zone = undefined;
  }
}

export function timeZone() {
  return zone || Intl.DateTimeFormat().resolvedOptions().timeZone;
}

export function dateTime(iso) {
  return new Intl.DateTimeFormat(current, {
    year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
    timeZoneName: 'short', timeZone: zone,
  }).format(new Date(iso));
}

export function date(iso) {
  return new Intl.DateTimeFormat(current, { dateStyle: 'medium', timeZone: zone }).format(new Date(iso));
}

// Time left as a person counts it: whole days rounded up ("7 days left" right after buying 7
// days), hours on the last day, then "less than an hour".
export function timeLeft(iso, now = Date.now()) {
  const ms = new Date(iso).getTime() - now;
  if (ms <= 0) return t('left.none');
  if (ms > 86_400_000) {
    const days = Math.ceil(ms / 86_400_000);
    return t('left.days', { days });
  }
  const hours = Math.ceil(ms / 3_600_000);
  if (hours >= 24) return t('left.day');
  if (ms < 3_600_000) return t('left.under_hour');
  return hours === 1 ? t('left.hour') : t('left.hours', { hours });
}

export function countryName(code) {
  try {
    return new Intl.DisplayNames([current], { type: 'region' }).of(code) || code;
  } catch {
    return code;
  }
}

export function regionName(region) {
  const key = `region.${region}`;
  return t(key) === key ? region : t(key);
}

export function planName(plan) {
  if (current === 'en' && plan.name) return plan.name;
  return `${regionName(plan.region)} ${t(`kind.${plan.kind}`)} ${data(plan.data_mb)}`;
}

export function validity(days) {
  return days === 1 ? t('plans.day') : t('plans.days', { days });
}
