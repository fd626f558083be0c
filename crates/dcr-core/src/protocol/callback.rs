//! The authorization response (RFC 6749 §4.1.2): from the URL the browser ended on to a checked
//! authorization code.
//!
//! The order of checks matters: shape and redirect match first (X3), then tokens in the front
//! channel (A5), then `state` (A1), then `iss` (A2, RFC 9207 §2.4: before anything else is
//! trusted, error responses included), then the error branch (A3), then the code. Nothing here
//! performs I/O, so a forged callback (X1) never causes a network call.

use url::Url;

use crate::error::{CallbackError, OAuthError};
use crate::protocol::authorize::PendingAuthorization;
use crate::text::{constant_time_eq, sanitize, single_valued_query};
use crate::Secret;

/// Longest callback URL accepted (X3). Real ones are a few hundred bytes.
pub const MAX_CALLBACK_URL_LEN: usize = 8 * 1024;

/// The authorization code: short-lived, single-use, and a secret until exchanged.
#[derive(Debug)]
pub struct AuthorizationCode(pub(crate) Secret);

/// Parses the text a user pasted or a deep link delivered, after the size check (X3).
pub fn parse_callback_url(text: &str) -> Result<Url, CallbackError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(CallbackError::Cancelled);
    }
    if text.len() > MAX_CALLBACK_URL_LEN {
        return Err(CallbackError::Malformed("the address is far too long"));
    }
    Url::parse(text).map_err(|_| CallbackError::Malformed("not a URL"))
}

/// Checks the redirect against the pending request and returns the code.
///
/// `pending` is only borrowed: a callback that fails `state` (someone else's, or forged) can be
/// ignored by a shell that keeps waiting for the real one (X1); the exchange consumes it.
pub fn check_callback(
    url: &Url,
    pending: &PendingAuthorization,
) -> Result<AuthorizationCode, CallbackError> {
    if url.as_str().len() > MAX_CALLBACK_URL_LEN {
        return Err(CallbackError::Malformed("the address is far too long"));
    }
    if url.as_str().contains("%00") {
        return Err(CallbackError::Malformed("it contains a NUL byte"));
    }
    // X3 (RFC 8252 §8.10): exact scheme, host, port and path.
    if !pending.redirect_uri.matches(url) {
        return Err(CallbackError::RedirectMismatch);
    }
    let params = single_valued_query(url).map_err(CallbackError::Malformed)?;
    // A5 (RFC 9700 §2.1.2): this client only uses response_type=code with the query response
    // mode, so parameters in the fragment are an implicit/hybrid response it never asked for.
    if url
        .fragment()
        .is_some_and(|fragment| fragment.contains('='))
    {
        return Err(CallbackError::TokensInFrontChannel);
    }
    if params.contains_key("access_token") || params.contains_key("id_token") {
        return Err(CallbackError::TokensInFrontChannel);
    }
    // A1, A3 (RFC 8252 §8.9): a response without our state is not ours, error or not.
    match params.get("state") {
        Some(state) if constant_time_eq(state, pending.state.expose()) => {}
        _ => return Err(CallbackError::StateMismatch),
    }
    // A2 (RFC 9207 §2.4): compare iss when present; require it when advertised.
    match params.get("iss") {
        Some(iss) if iss == &pending.issuer => {}
        Some(_) => return Err(CallbackError::IssuerMismatch),
        None if pending.iss_required => return Err(CallbackError::IssuerMissing),
        None => {}
    }
    // A3 (RFC 6749 §4.1.2.1): the error branch, after state and iss proved it is ours.
    if let Some(error) = params.get("error") {
        let description = params.get("error_description").map(String::as_str);
        if error == "access_denied" {
            return Err(CallbackError::AccessDenied {
                description: description
                    .map(|d| sanitize(d, 200))
                    .filter(|d| !d.is_empty()),
            });
        }
        return Err(CallbackError::Server(OAuthError::new(error, description)));
    }
    match params.get("code") {
        Some(code) if !code.is_empty() => Ok(AuthorizationCode(Secret::new(code.clone()))),
        _ => Err(CallbackError::MissingCode),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::authorize::{prepare_authorization, AuthorizationParams};
    use crate::test_support::{config, metadata, ISSUER};

    const CALLBACK: &str = "io.curity.dcrclient:/callback";

    /// A sign-in flow in flight; `iss_required`: the server advertises RFC 9207 `iss`.
    fn pending(iss_required: bool) -> PendingAuthorization {
        let mut metadata = metadata();
        metadata.authorization_response_iss_parameter_supported = iss_required;
        prepare_authorization(&metadata, &AuthorizationParams::registration(&config())).1
    }

    fn callback(pending: &PendingAuthorization, extra: &str) -> Url {
        let mut url = Url::parse(CALLBACK).unwrap();
        url.query_pairs_mut()
            .append_pair("state", pending.state.expose())
            .append_pair("iss", ISSUER);
        let mut text = url.to_string();
        if !extra.is_empty() {
            text.push('&');
            text.push_str(extra);
        }
        Url::parse(&text).unwrap()
    }

    /// A callback at `prefix` with `rest` and `pending`'s state; unlike [`callback`], no `iss`.
    fn callback_at(prefix: &str, pending: &PendingAuthorization, rest: &str) -> Url {
        Url::parse(&format!("{prefix}?{rest}&state={}", pending.state.expose())).unwrap()
    }

    /// Why `check_callback` refuses `url`; a callback it accepts fails the test.
    fn refusal(url: &Url, pending: &PendingAuthorization) -> CallbackError {
        check_callback(url, pending).expect_err("the callback was accepted")
    }

    #[test]
    fn valid_callback_yields_the_code() {
        let pending = pending(true);
        let code = check_callback(&callback(&pending, "code=abc"), &pending).unwrap();
        assert_eq!(code.0.expose(), "abc");
        assert!(!format!("{code:?}").contains("abc"));
    }

    #[test]
    fn a1_wrong_or_missing_state_is_rejected() {
        let pending = pending(false);
        let url = Url::parse("io.curity.dcrclient:/callback?code=abc&state=forged").unwrap();
        assert!(matches!(
            refusal(&url, &pending),
            CallbackError::StateMismatch
        ));
        let url = Url::parse("io.curity.dcrclient:/callback?code=abc").unwrap();
        assert!(matches!(
            refusal(&url, &pending),
            CallbackError::StateMismatch
        ));
    }

    #[test]
    fn x1_callback_for_another_request_does_not_consume_the_pending_one() {
        let pending = pending(false);
        let other = self::pending(false);
        assert!(check_callback(&callback(&other, "code=stolen"), &pending).is_err());
        assert!(check_callback(&callback(&pending, "code=real"), &pending).is_ok());
    }

    /// A callback answers one flow: once that flow has exchanged its code (which consumes the
    /// pending request), the same callback delivered again can only meet a newer flow, whose
    /// `state` it does not carry.
    #[test]
    fn a1_replayed_callback_into_a_new_flow_is_refused() {
        let first = pending(true);
        let delivered = callback(&first, "code=abc");
        assert!(check_callback(&delivered, &first).is_ok());
        let second = pending(true);
        assert!(matches!(
            refusal(&delivered, &second),
            CallbackError::StateMismatch
        ));
    }

    #[test]
    fn a2_iss_mismatch_is_rejected() {
        let pending = pending(false);
        let url = callback_at(
            CALLBACK,
            &pending,
            "code=abc&iss=https%3A%2F%2Fevil.example",
        );
        assert!(matches!(
            refusal(&url, &pending),
            CallbackError::IssuerMismatch
        ));
    }

    #[test]
    fn a2_iss_missing_while_advertised_is_rejected() {
        let pending = pending(true);
        let url = callback_at(CALLBACK, &pending, "code=abc");
        assert!(matches!(
            refusal(&url, &pending),
            CallbackError::IssuerMissing
        ));
        // Not advertised: absence is fine.
        let relaxed = self::pending(false);
        let url = callback_at(CALLBACK, &relaxed, "code=abc");
        assert!(check_callback(&url, &relaxed).is_ok());
    }

    #[test]
    fn a3_access_denied_with_valid_state_is_its_own_outcome() {
        let pending = pending(true);
        let url = callback(
            &pending,
            "error=access_denied&error_description=User%20said%20no%0A",
        );
        match refusal(&url, &pending) {
            CallbackError::AccessDenied { description } => {
                assert_eq!(description.as_deref(), Some("User said no"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a3_error_with_wrong_state_is_a_state_mismatch() {
        let pending = pending(false);
        let url = Url::parse("io.curity.dcrclient:/callback?error=access_denied&state=x").unwrap();
        assert!(matches!(
            refusal(&url, &pending),
            CallbackError::StateMismatch
        ));
    }

    #[test]
    fn other_errors_are_structured() {
        let pending = pending(true);
        let url = callback(
            &pending,
            "error=login_required&error_description=no%20session",
        );
        match refusal(&url, &pending) {
            CallbackError::Server(e) => {
                assert_eq!(e.error, "login_required");
                assert_eq!(e.description.as_deref(), Some("no session"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a5_tokens_in_front_channel_are_rejected() {
        let pending = pending(true);
        let url = callback(&pending, "code=abc&access_token=leak");
        assert!(matches!(
            refusal(&url, &pending),
            CallbackError::TokensInFrontChannel
        ));
        let mut url = callback(&pending, "code=abc");
        url.set_fragment(Some("id_token=eyJ"));
        assert!(matches!(
            refusal(&url, &pending),
            CallbackError::TokensInFrontChannel
        ));
    }

    #[test]
    fn x3_wrong_scheme_or_path_is_rejected() {
        let pending = pending(true);
        for prefix in [
            "io.curity.other:/callback",
            "io.curity.dcrclient:/callbackx",
            "https://evil.example/callback",
        ] {
            let url = callback_at(prefix, &pending, &format!("code=a&iss={ISSUER}"));
            let refused = refusal(&url, &pending);
            assert!(
                matches!(refused, CallbackError::RedirectMismatch),
                "{prefix}"
            );
        }
    }

    #[test]
    fn x3_giant_url_and_nul_are_rejected() {
        let pending = pending(true);
        let giant = format!(
            "io.curity.dcrclient:/callback?code={}",
            "a".repeat(10 * 1024 * 1024)
        );
        assert!(matches!(
            parse_callback_url(&giant),
            Err(CallbackError::Malformed(_))
        ));
        let url = Url::parse(&giant[..MAX_CALLBACK_URL_LEN + 100]).unwrap();
        assert!(matches!(
            refusal(&url, &pending),
            CallbackError::Malformed(_)
        ));
        let url = callback(&pending, "code=abc%00def");
        assert!(matches!(
            refusal(&url, &pending),
            CallbackError::Malformed(_)
        ));
    }

    #[test]
    fn repeated_parameters_are_rejected() {
        let pending = pending(true);
        let url = callback(&pending, "code=a&code=b");
        assert!(matches!(
            refusal(&url, &pending),
            CallbackError::Malformed(_)
        ));
    }

    #[test]
    fn missing_code_is_rejected() {
        let pending = pending(true);
        assert!(matches!(
            refusal(&callback(&pending, ""), &pending),
            CallbackError::MissingCode
        ));
    }

    #[test]
    fn empty_input_is_cancellation() {
        assert!(matches!(
            parse_callback_url("  \n"),
            Err(CallbackError::Cancelled)
        ));
        assert!(matches!(
            parse_callback_url("not a url"),
            Err(CallbackError::Malformed(_))
        ));
    }
}
