//! The RFC 7591 §2 registration request body, in the tutorial's two forms, with the device-key
//! members when this install registers a key pair.

use serde::Serialize;
use serde_json::Value;

use crate::config::TokenEndpointAuthMethod;

/// The registration request body (RFC 7591 §2, §3.1), in one of the two forms the tutorial uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct RegistrationBody(Body);

// Field order is the seed's, so the serialized body matches the tutorial byte for byte; the
// device-key members come after it and are left out when unused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
enum Body {
    Full {
        redirect_uris: [String; 1],
        post_logout_redirect_uris: [String; 1],
        application_type: &'static str,
        grant_types: [&'static str; 1],
        scope: String,
        token_endpoint_auth_method: TokenEndpointAuthMethod,
        #[serde(skip_serializing_if = "Option::is_none")]
        token_endpoint_auth_signing_alg: Option<&'static str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        jwks: Option<Value>,
        #[serde(skip_serializing_if = "Option::is_none")]
        dpop_bound_access_tokens: Option<bool>,
    },
    Templatized {
        software_id: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        token_endpoint_auth_method: Option<TokenEndpointAuthMethod>,
        #[serde(skip_serializing_if = "Option::is_none")]
        jwks: Option<Value>,
        /// Never sent: the redirect URIs of this app (in any of its modes) that the template
        /// may register besides the one this registration uses.
        #[serde(skip)]
        app_redirect_uris: Vec<String>,
    },
}

impl RegistrationBody {
    /// Non-templatized DCR: every client setting is sent. `application_type: native` is what
    /// allows a custom-scheme redirect URI (OIDC Registration §2, RFC 8252 §8.4).
    pub fn full(
        redirect_uri: &str,
        post_logout_redirect_uri: &str,
        scope: &str,
        token_endpoint_auth_method: TokenEndpointAuthMethod,
    ) -> Self {
        Self(Body::Full {
            redirect_uris: [redirect_uri.to_owned()],
            post_logout_redirect_uris: [post_logout_redirect_uri.to_owned()],
            application_type: "native",
            grant_types: ["authorization_code"],
            scope: scope.to_owned(),
            token_endpoint_auth_method,
            token_endpoint_auth_signing_alg: None,
            jwks: None,
            dpop_bound_access_tokens: None,
        })
    }

    /// Templatized DCR: the server copies a template client's settings (RFC 7591 §2 `software_id`).
    pub fn templatized(software_id: &str) -> Self {
        Self(Body::Templatized {
            software_id: software_id.to_owned(),
            token_endpoint_auth_method: None,
            jwks: None,
            app_redirect_uris: Vec::new(),
        })
    }

    /// R4: the redirect URIs of this app that a template may list besides ours (one template
    /// can serve the app's private-use scheme and its loopback form). Nothing is sent: the
    /// registration response is checked against them. Full DCR registers exactly the URI it
    /// sends, so there this changes nothing.
    pub fn with_app_redirect_uris<I>(mut self, uris: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        if let Body::Templatized {
            app_redirect_uris, ..
        } = &mut self.0
        {
            app_redirect_uris.extend(uris.into_iter().map(Into::into));
        }
        self
    }

    /// The redirect URIs a registration made with this body may list besides the one it is
    /// for: what a full body sent, or the app's own that a template may hold.
    pub(super) fn accepted_redirect_uris(&self) -> &[String] {
        match &self.0 {
            Body::Full { redirect_uris, .. } => redirect_uris,
            Body::Templatized {
                app_redirect_uris, ..
            } => app_redirect_uris,
        }
    }

    /// `private_key_jwt` with this install's key (RFC 7591 §2, RFC 7523 §2.2): the public key as
    /// `jwks`, and ES256 as the assertion algorithm. A templatized body gets `jwks` and the
    /// method too, although the template decides everything else: the server cannot know this
    /// device's public key any other way, and without it no assertion could ever be checked.
    pub fn with_device_jwks(mut self, public_jwks: &Value) -> Self {
        match &mut self.0 {
            Body::Full {
                token_endpoint_auth_method,
                token_endpoint_auth_signing_alg,
                jwks,
                ..
            } => {
                *token_endpoint_auth_method = TokenEndpointAuthMethod::PrivateKeyJwt;
                *token_endpoint_auth_signing_alg = Some("ES256");
                *jwks = Some(public_jwks.clone());
            }
            Body::Templatized {
                token_endpoint_auth_method,
                jwks,
                ..
            } => {
                *token_endpoint_auth_method = Some(TokenEndpointAuthMethod::PrivateKeyJwt);
                *jwks = Some(public_jwks.clone());
            }
        }
        self
    }

    /// RFC 9449 §5.2 `dpop_bound_access_tokens: true`: the client promises to always use DPoP,
    /// so the server refuses this client's requests without a proof. Full DCR only: a template
    /// decides its own metadata.
    pub fn with_dpop_bound_access_tokens(mut self) -> Self {
        if let Body::Full {
            dpop_bound_access_tokens,
            ..
        } = &mut self.0
        {
            *dpop_bound_access_tokens = Some(true);
        }
        self
    }

    /// The public JWK of the device key this body registers, if any.
    pub(super) fn device_jwk(&self) -> Option<&Value> {
        let jwks = match &self.0 {
            Body::Full { jwks, .. } | Body::Templatized { jwks, .. } => jwks.as_ref()?,
        };
        jwks["keys"].get(0)
    }

    pub fn is_templatized(&self) -> bool {
        matches!(self.0, Body::Templatized { .. })
    }

    /// The token endpoint auth method this body asks for; `None` for templatized DCR, where the
    /// template decides.
    pub fn requested_auth_method(&self) -> Option<TokenEndpointAuthMethod> {
        match &self.0 {
            Body::Full {
                token_endpoint_auth_method,
                ..
            } => Some(*token_endpoint_auth_method),
            Body::Templatized {
                token_endpoint_auth_method,
                ..
            } => *token_endpoint_auth_method,
        }
    }

    /// The exact JSON sent on the wire.
    pub fn to_json(&self) -> String {
        // Strings, fixed arrays, a unit enum and a JSON value cannot fail to serialize.
        serde_json::to_string(self).unwrap_or_default()
    }
}
