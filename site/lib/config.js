// The site's public settings: config.json next to index.html (/app/config.json). Locally the
// gateway serves it from the running stack; a deployed site gets it from `python -m infra.site
// publish`. It names the API, the Cognito app client and endpoint, never a secret.
let loading = null;

export function loadConfig() {
  if (!loading) {
    const url = new URL('../config.json', import.meta.url);
    loading = fetch(url, { cache: 'no-store' }).then(async (response) => {
      if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
      const config = await response.json();
      for (const key of ['ApiUrl', 'UserPoolClientId', 'CognitoEndpoint']) {
        if (!config[key]) throw new Error(`config.json has no ${key}`);
      }
      config.ApiUrl = String(config.ApiUrl).replace(/\/+$/, '');
      return config;
    });
  }
  return loading;
}
