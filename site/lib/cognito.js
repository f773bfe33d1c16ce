// Cognito's user API over plain fetch (no SDK): the calls a public app client may make without
// AWS credentials. Locally the endpoint is the moto server, which answers CORS as Cognito does.

export class CognitoError extends Error {
  constructor(type, message) {
    super(message || type);
    this.type = type;
  }
}

async function call(config, operation, body) {
  let response;
  try {
    response = await fetch(config.CognitoEndpoint, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-amz-json-1.1',
        'X-Amz-Target': `AWSCognitoIdentityProviderService.${operation}`,
      },
      body: JSON.stringify(body),
    });
  } catch (error) {
    throw new CognitoError('NetworkError', String(error));
  }
  const text = await response.text();
  let data = {};
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    data = { message: text };
  }
  if (!response.ok) {
    // `__type` is `NotAuthorizedException` or `com.amazonaws...#NotAuthorizedException`.
    const type = String(data.__type || data.code || 'UnknownError').split('#').pop();
    throw new CognitoError(type, data.message || data.Message || '');
  }
  return data;
}

function tokensFrom(result, refreshToken) {
  const auth = result.AuthenticationResult;
  if (!auth) throw new CognitoError('ChallengeRequired', result.ChallengeName || 'challenge');
  return {
    idToken: auth.IdToken,
    refreshToken: auth.RefreshToken || refreshToken,
    expiresAt: Date.now() + (auth.ExpiresIn || 3600) * 1000,
  };
}

export function signUp(config, email, password, attributes = {}) {
  const extra = Object.entries(attributes)
    .filter(([, value]) => value)
    .map(([Name, Value]) => ({ Name, Value }));
  return call(config, 'SignUp', {
    ClientId: config.UserPoolClientId,
    Username: email,
    Password: password,
    UserAttributes: [{ Name: 'email', Value: email }, ...extra],
  });
}

export function confirmSignUp(config, email, code) {
  return call(config, 'ConfirmSignUp', { ClientId: config.UserPoolClientId, Username: email, ConfirmationCode: code });
}

export function resendCode(config, email) {
  return call(config, 'ResendConfirmationCode', { ClientId: config.UserPoolClientId, Username: email });
}

export async function logIn(config, email, password) {
  const result = await call(config, 'InitiateAuth', {
    ClientId: config.UserPoolClientId,
    AuthFlow: 'USER_PASSWORD_AUTH',
    AuthParameters: { USERNAME: email, PASSWORD: password },
  });
  return tokensFrom(result);
}

export async function refresh(config, refreshToken) {
  const result = await call(config, 'InitiateAuth', {
    ClientId: config.UserPoolClientId,
    AuthFlow: 'REFRESH_TOKEN_AUTH',
    AuthParameters: { REFRESH_TOKEN: refreshToken },
  });
  return tokensFrom(result, refreshToken);
}

export function forgotPassword(config, email) {
  return call(config, 'ForgotPassword', { ClientId: config.UserPoolClientId, Username: email });
}

export function confirmForgotPassword(config, email, code, password) {
  return call(config, 'ConfirmForgotPassword', {
    ClientId: config.UserPoolClientId,
    Username: email,
    ConfirmationCode: code,
    Password: password,
  });
}

export function claims(idToken) {
  const part = idToken.split('.')[1] || '';
  const base64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=');
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

// A signed-in person's tokens, kept for this tab only (sessionStorage): they survive the trip to
// Stripe Checkout and back, and are gone when the tab closes.
export class Session {
  constructor(config, key) {
    this.config = config;
    this.key = key;
  }

  get stored() {
    try {
      return JSON.parse(sessionStorage.getItem(this.key) || 'null');
    } catch {
      return null;
    }
  }

  get signedIn() {
    return Boolean(this.stored);
  }

  get email() {
    return this.stored?.email || '';
  }

  save(tokens, email) {
    sessionStorage.setItem(this.key, JSON.stringify({ ...tokens, email }));
  }

  clear() {
    sessionStorage.removeItem(this.key);
  }

  async idToken() {
    const stored = this.stored;
    if (!stored) return null;
    if (stored.expiresAt - Date.now() > 60_000) return stored.idToken;
    try {
      const renewed = await refresh(this.config, stored.refreshToken);
      this.save(renewed, stored.email);
      return renewed.idToken;
    } catch {
      this.clear();
      return null;
    }
  }
}
