//! RP-Initiated Logout 1.0: the end-session URL (§2) and the post-logout callback (§3).
//!
//! The session wipes local tokens *before* it opens this URL, so a failing or hanging logout
//! page never leaves tokens behind (L1). Without an `end_session_endpoint` the logout is
//! local-only (L2), and [`end_session_url`] says so by returning `None`.

use url::Url;

use crate::config::RedirectUri;
use crate::error::LogoutError;
use crate::protocol::discovery::ProviderMetadata;
use crate::text::{constant_time_eq, random_token, single_valued_query};
use crate::Secret;

/// A logout in flight: the `state` the post-logout redirect must echo.
pub struct PendingLogout {
    state: Secret,
    redirect_uri: RedirectUri,
}

impl std::fmt::Debug for PendingLogout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingLogout")
            .field("redirect_uri", &self.redirect_uri.as_str())
            .finish_non_exhaustive()
    }
}

impl PendingLogout {
    pub fn redirect_uri(&self) -> &RedirectUri {
        &self.redirect_uri
    }

    /// The `state` the post-logout redirect must echo (§3), for the browser step.
    pub fn state(&self) -> &Secret {
        &self.state
    }
}

/// L4: `id_token_hint`, `client_id`, the exact `post_logout_redirect_uri` and a fresh `state`.
/// `None` when the server has no end-session endpoint (L2).
pub fn end_session_url(
    metadata: &ProviderMetadata,
    id_token_hint: Option<&Secret>,
    client_id: &str,
    post_logout_redirect_uri: &RedirectUri,
) -> Option<(Url, PendingLogout)> {
    let mut url = metadata.end_session_endpoint.clone()?;
    let pending = PendingLogout {
        state: Secret::new(random_token(32)),
        redirect_uri: post_logout_redirect_uri.clone(),
    };
    {
        let mut query = url.query_pairs_mut();
        if let Some(hint) = id_token_hint {
            query.append_pair("id_token_hint", hint.expose());
        }
        query
            .append_pair("client_id", client_id)
            .append_pair(
                "post_logout_redirect_uri",
                post_logout_redirect_uri.as_str(),
            )
            .append_pair("state", pending.state.expose());
    }
    Some((url, pending))
}

/// L3: the post-logout redirect must be ours and carry our `state`. A mismatch is reported,
/// never acted on: the local logout has already happened.
pub fn check_logout_callback(url: &Url, pending: &PendingLogout) -> Result<(), LogoutError> {
    if !pending.redirect_uri.matches(url) {
        return Err(LogoutError::RedirectMismatch);
    }
    let params = single_valued_query(url).map_err(|_| LogoutError::StateMismatch)?;
    match params.get("state") {
        Some(state) if constant_time_eq(state, pending.state.expose()) => Ok(()),
        _ => Err(LogoutError::StateMismatch),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{config, metadata};
    use std::collections::HashMap;

    /// A logout begun against the test server's end-session endpoint.
    fn begin_logout() -> PendingLogout {
        let config = config();
        end_session_url(&metadata(), None, "c", &config.post_logout_redirect_uri)
            .unwrap()
            .1
    }

    /// The post-logout redirect to `path` (ours is `/logoutcallback`) carrying `pending`'s state.
    fn returned_to(path: &str, pending: &PendingLogout) -> Url {
        Url::parse(&format!(
            "io.curity.dcrclient:{path}?state={}",
            pending.state.expose()
        ))
        .unwrap()
    }

    #[test]
    fn l4_end_session_url_has_hint_client_redirect_and_fresh_state() {
        let config = config();
        let hint = Secret::new("eyJ.hint.sig");
        let (url, pending) = end_session_url(
            &metadata(),
            Some(&hint),
            "87f1d9de",
            &config.post_logout_redirect_uri,
        )
        .unwrap();
        let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
        assert_eq!(url.path(), "/logout");
        assert_eq!(q["id_token_hint"], "eyJ.hint.sig");
        assert_eq!(q["client_id"], "87f1d9de");
        assert_eq!(
            q["post_logout_redirect_uri"],
            "io.curity.dcrclient:/logoutcallback"
        );
        assert_eq!(q["state"], pending.state.expose());
        let (_, again) = end_session_url(
            &metadata(),
            Some(&hint),
            "87f1d9de",
            &config.post_logout_redirect_uri,
        )
        .unwrap();
        assert_ne!(pending.state.expose(), again.state.expose());
        assert!(!format!("{pending:?}").contains(pending.state.expose()));
    }

    #[test]
    fn l2_no_end_session_endpoint_means_local_only() {
        let config = config();
        let mut metadata = metadata();
        metadata.end_session_endpoint = None;
        assert!(end_session_url(&metadata, None, "c", &config.post_logout_redirect_uri).is_none());
    }

    #[test]
    fn l3_logout_callback_wrong_missing_or_replayed_state_is_reported() {
        let pending = begin_logout();
        let good = returned_to("/logoutcallback", &pending);
        assert!(check_logout_callback(&good, &pending).is_ok());
        // A state from another (older) logout is a replay, not ours.
        let older = begin_logout();
        for url in [
            returned_to("/logoutcallback", &older),
            Url::parse("io.curity.dcrclient:/logoutcallback").unwrap(),
            Url::parse("io.curity.dcrclient:/logoutcallback?state=x&state=y").unwrap(),
        ] {
            assert!(matches!(
                check_logout_callback(&url, &pending),
                Err(LogoutError::StateMismatch)
            ));
        }
        let elsewhere = returned_to("/callback", &pending);
        assert!(matches!(
            check_logout_callback(&elsewhere, &pending),
            Err(LogoutError::RedirectMismatch)
        ));
    }
}
