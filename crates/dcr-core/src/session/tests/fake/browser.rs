//! The fake browser: signs the user in at once (SSO) and redirects back, as oidc-provider
//! does, or shows an error page for an unknown client.

use std::collections::HashMap;

use url::Url;

use super::*;

/// The browser: logs the user in at once (SSO) and redirects back.
pub(crate) struct FakeBrowser(pub Arc<FakeIdp>);

#[async_trait::async_trait]
impl UserAgent for FakeBrowser {
    async fn authorize(&self, step: BrowserStep) -> Result<Url, UserAgentError> {
        let BrowserStep {
            url,
            redirect,
            state: step_state,
            purpose,
            user_action_expected,
        } = step;
        let query: HashMap<String, String> = url.query_pairs().into_owned().collect();
        // The step names the `state` its answer must carry, so no agent reads it out of `url`.
        assert_eq!(query["state"], step_state.expose(), "the step's state");
        let mut state = self.0.state.lock().unwrap();
        state
            .browser_purposes
            .push((purpose, user_action_expected, redirect.as_str().to_owned()));
        let step = format!(
            "{} {}",
            url.path(),
            query.get("prompt").map(String::as_str).unwrap_or("sso")
        );
        state.browser_steps.push(step);
        if state.cancel_browser {
            return Err(UserAgentError::Cancelled);
        }
        // Like oidc-provider: an unknown client gets an error page, never a redirect.
        if let Some(client_id) = query.get("client_id") {
            if client_id != STATIC_CLIENT && !state.clients.contains_key(client_id) {
                return Err(UserAgentError::Failed(
                    "the server showed an error page".into(),
                ));
            }
        }
        let mut back = redirect.url().clone();
        if url.path() == "/logout" {
            assert_eq!(query["post_logout_redirect_uri"], redirect.as_str());
            back.query_pairs_mut().append_pair("state", &query["state"]);
            return Ok(back);
        }
        assert_eq!(query["redirect_uri"], redirect.as_str());
        assert_eq!(query["code_challenge_method"], "S256");
        // Like oidc-provider: `nonce` only on OpenID requests.
        let openid = query["scope"].split(' ').any(|s| s == "openid");
        assert_eq!(openid, query.contains_key("nonce"), "nonce iff openid");
        let code = FakeIdp::fresh(&mut state, "code");
        let grant = Grant {
            client_id: query["client_id"].clone(),
            nonce: query.get("nonce").cloned().unwrap_or_default(),
            challenge: query["code_challenge"].clone(),
        };
        state.grants.insert(code.clone(), grant);
        back.query_pairs_mut()
            .append_pair("code", &code)
            .append_pair("state", &query["state"])
            .append_pair("iss", ISSUER);
        Ok(back)
    }
}
