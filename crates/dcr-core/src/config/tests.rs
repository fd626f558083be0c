use super::*;

const CURITY: &str = r#"{"issuer": "https://baa467f55bc7.eu.ngrok.io/oauth/v2/oauth-anonymous","registrationClientID": "mobile-dcr-client","redirectUri": "io.curity.dcrclient:/callback","postLogoutRedirectUri": "io.curity.dcrclient:/logoutcallback","scope": "openid profile"}"#;

fn with(extra: &str) -> String {
    format!("{},{}}}", &CURITY[..CURITY.len() - 1], extra)
}

/// The origins the sign-in window may show, as text.
fn allowed_origins(config: &Config) -> Vec<String> {
    config
        .allowed_sign_in_origins()
        .iter()
        .map(|o| o.ascii_serialization())
        .collect()
}

/// Validate once, with messages that name the key and the fix: loading `json` fails, and the
/// message holds every one of `parts`.
fn assert_refused_naming(json: &str, parts: &[&str]) {
    let message = Config::from_json(json).unwrap_err().to_string();
    for part in parts {
        assert!(message.contains(part), "{part:?} is not in: {message}");
    }
}

#[test]
fn curity_tutorial_config_loads_with_defaults() {
    let config = Config::from_json(CURITY).unwrap();
    assert_eq!(
        config.issuer.as_str(),
        "https://baa467f55bc7.eu.ngrok.io/oauth/v2/oauth-anonymous"
    );
    assert_eq!(config.registration_client_id, "mobile-dcr-client");
    assert_eq!(config.redirect_uri.url().scheme(), "io.curity.dcrclient");
    assert_eq!(config.redirect_uri.url().path(), "/callback");
    assert_eq!(config.dcr_scope, "dcr");
    assert_eq!(
        config.token_endpoint_auth_method,
        TokenEndpointAuthMethod::ClientSecretBasic
    );
    assert!(config.software_id.is_none());
    assert!(!config.remember_sign_in);
}

#[test]
fn optional_keys_are_read() {
    let config = Config::from_json(&with(
        r#""softwareId":"mobile-dcr-template-client","dcrScope":"dcr2","tokenEndpointAuthMethod":"client_secret_post","acrValues":["a:b","c"],"rememberSignIn":true,"userAgent":"system""#,
    ))
    .unwrap();
    assert_eq!(
        config.software_id.as_deref(),
        Some("mobile-dcr-template-client")
    );
    assert_eq!(config.dcr_scope, "dcr2");
    assert_eq!(
        config.token_endpoint_auth_method,
        TokenEndpointAuthMethod::ClientSecretPost
    );
    assert_eq!(config.acr_values.as_deref(), Some("a:b c"));
    assert!(config.remember_sign_in);
    assert_eq!(config.user_agent, Some(UserAgentKind::System));
}

#[test]
fn unknown_key_is_named_with_the_fix() {
    assert_refused_naming(
        &with(r#""registrationClientId":"x""#),
        &[
            "`registrationClientId`",
            "registrationClientID",
            "remove it or fix its spelling",
        ],
    );
}

#[test]
fn missing_key_is_named_with_an_example() {
    assert_refused_naming(
        r#"{"issuer":"https://a.example"}"#,
        &["`registrationClientID` is required"],
    );
}

#[test]
fn wrong_type_names_the_key() {
    assert_refused_naming(
        &with(r#""rememberSignIn":"yes""#),
        &["`rememberSignIn`", "true or false"],
    );
    assert_refused_naming(&CURITY.replace("\"openid profile\"", "42"), &["`scope`"]);
}

#[test]
fn bad_auth_method_names_the_choices() {
    assert_refused_naming(
        &with(r#""tokenEndpointAuthMethod":"tls_client_auth""#),
        &["client_secret_post"],
    );
}

#[test]
fn syntax_error_and_non_object_are_reported() {
    assert!(matches!(
        Config::from_json("{"),
        Err(ConfigError::Syntax { .. })
    ));
    assert!(matches!(
        Config::from_json("[]"),
        Err(ConfigError::Syntax { .. })
    ));
}

#[test]
fn n1_http_issuer_on_a_public_host_is_rejected() {
    let json = CURITY.replace("https://baa467f55bc7", "http://baa467f55bc7");
    assert_refused_naming(&json, &["`issuer`", "https"]);
}

#[test]
fn n1_http_issuer_on_loopback_is_accepted() {
    for host in ["127.0.0.1:8443", "[::1]:8443", "localhost:8443"] {
        let json = CURITY.replace(
            "https://baa467f55bc7.eu.ngrok.io",
            &format!("http://{host}"),
        );
        Config::from_json(&json).unwrap();
    }
    // A host that only starts like a loopback name is not one.
    let json = CURITY.replace(
        "https://baa467f55bc7.eu.ngrok.io",
        "http://localhost.evil.example",
    );
    assert!(Config::from_json(&json).is_err());
}

#[test]
fn issuer_keeps_its_exact_text_including_no_trailing_slash() {
    let json = CURITY.replace(
        "https://baa467f55bc7.eu.ngrok.io/oauth/v2/oauth-anonymous",
        "https://idp.example",
    );
    let config = Config::from_json(&json).unwrap();
    // Url would normalise this to "https://idp.example/"; discovery compares the original.
    assert_eq!(config.issuer.as_str(), "https://idp.example");
}

#[test]
fn redirect_uris_are_validated() {
    for bad in [
        "callback",
        "http://example.com/cb",
        "io.curity.dcrclient://host/callback",
        "io.curity.dcrclient:/callback#frag",
        "myapp:/callback",
    ] {
        let json = CURITY.replace("io.curity.dcrclient:/callback", bad);
        assert_refused_naming(&json, &["`redirectUri`"]);
    }
    let json = CURITY.replace(
        "io.curity.dcrclient:/callback",
        "http://127.0.0.1:7777/callback",
    );
    Config::from_json(&json).unwrap();
}

#[test]
fn x3_redirect_match_is_exact_on_scheme_host_port_and_path() {
    let custom = RedirectUri::parse("io.curity.dcrclient:/callback").unwrap();
    assert!(custom.matches(&Url::parse("io.curity.dcrclient:/callback?code=a&state=b").unwrap()));
    assert!(!custom.matches(&Url::parse("io.curity.dcrclient:/callback2?code=a").unwrap()));
    assert!(!custom.matches(&Url::parse("io.curity.other:/callback?code=a").unwrap()));
    assert!(!custom.matches(&Url::parse("io.curity.dcrclient://evil/callback").unwrap()));
    let loopback = RedirectUri::parse("http://127.0.0.1:7777/cb").unwrap();
    assert!(loopback.matches(&Url::parse("http://127.0.0.1:7777/cb?code=x").unwrap()));
    assert!(!loopback.matches(&Url::parse("http://localhost:7777/cb?code=x").unwrap()));
    assert!(!loopback.matches(&Url::parse("http://127.0.0.1:7778/cb?code=x").unwrap()));
    assert!(!loopback.matches(&Url::parse("https://127.0.0.1:7777/cb?code=x").unwrap()));
}

#[test]
fn scope_must_include_openid_and_be_well_formed() {
    assert_refused_naming(&CURITY.replace("openid profile", "profile"), &["openid"]);
    assert_refused_naming(
        &CURITY.replace("openid profile", "openid  profile"),
        &["`scope`"],
    );
    assert_refused_naming(&with(r#""dcrScope":"""#), &["`dcrScope`"]);
}

#[test]
fn load_reports_the_path_when_the_file_is_missing() {
    let message = Config::load("/nonexistent/dcr/config.json")
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("/nonexistent/dcr/config.json"),
        "{message}"
    );
}

#[test]
fn x3_sign_in_origins_default_to_the_issuer_alone() {
    let config = Config::from_json(CURITY).unwrap();
    assert!(config.sign_in_origins.is_empty());
    let allowed = allowed_origins(&config);
    assert_eq!(allowed, vec!["https://baa467f55bc7.eu.ngrok.io"]);
}

#[test]
fn x3_sign_in_origins_are_read_and_added_after_the_issuer() {
    let config = Config::from_json(&with(
        r#""signInOrigins":["https://login.partner.example","https://LOGIN.partner.example:443/","http://127.0.0.1:9000","https://baa467f55bc7.eu.ngrok.io"]"#,
    ))
    .unwrap();
    let allowed = allowed_origins(&config);
    // Same origin written twice (case, default port, trailing slash) counts once.
    assert_eq!(
        allowed,
        vec![
            "https://baa467f55bc7.eu.ngrok.io",
            "https://login.partner.example",
            "http://127.0.0.1:9000",
        ]
    );
}

#[test]
fn x3_sign_in_origins_must_be_https_origins_with_a_fix() {
    for (bad, fix) in [
        (r#""https://login.example.com""#, "array"),
        (r#"[42]"#, "strings"),
        (r#"["login.example.com"]"#, "https://login.example.com"),
        (r#"["http://login.example.com"]"#, "https"),
        (r#"["ftp://login.example.com"]"#, "https"),
        (r#"["https://login.example.com/authn"]"#, "remove the path"),
        (r#"["https://login.example.com/?a=b"]"#, "query"),
        (r#"["https://login.example.com/#x"]"#, "fragment"),
        (r#"["https://user:pw@login.example.com"]"#, "user name"),
        (r#"["https://*.example.com"]"#, "wildcards"),
    ] {
        assert_refused_naming(
            &with(&format!(r#""signInOrigins":{bad}"#)),
            &["`signInOrigins`", fix],
        );
    }
    // Plain http only on loopback, like the issuer.
    for good in [
        "http://localhost:8080",
        "http://[::1]:8443",
        "https://a.example:8443",
    ] {
        Config::from_json(&with(&format!(r#""signInOrigins":["{good}"]"#))).unwrap();
    }
}

#[test]
fn x3_a_loopback_http_issuer_is_an_allowed_origin() {
    let json = CURITY.replace("https://baa467f55bc7.eu.ngrok.io", "http://127.0.0.1:8443");
    let config = Config::from_json(&json).unwrap();
    let allowed = allowed_origins(&config);
    assert_eq!(allowed, vec!["http://127.0.0.1:8443"]);
}

#[test]
fn k1_private_key_jwt_and_dpop_are_read_and_default_off() {
    let config = Config::from_json(CURITY).unwrap();
    assert!(!config.dpop, "dpop is off unless asked for");
    let config = Config::from_json(&with(
        r#""tokenEndpointAuthMethod":"private_key_jwt","dpop":true"#,
    ))
    .unwrap();
    assert_eq!(
        config.token_endpoint_auth_method,
        TokenEndpointAuthMethod::PrivateKeyJwt
    );
    assert!(config.dpop);
    // DPoP works with a secret too.
    let config = Config::from_json(&with(r#""dpop":true"#)).unwrap();
    assert_eq!(
        config.token_endpoint_auth_method,
        TokenEndpointAuthMethod::ClientSecretBasic
    );
    assert!(config.dpop);
}

#[test]
fn k1_dpop_must_be_a_boolean_with_a_fix() {
    assert_refused_naming(&with(r#""dpop":"true""#), &["`dpop`", "true or false"]);
    assert_refused_naming(
        &with(r#""tokenEndpointAuthMethod":"private_key_jwt_x""#),
        &["\"private_key_jwt\""],
    );
}

#[test]
fn device_key_storage_is_read_and_defaults_to_software() {
    let config = Config::from_json(CURITY).unwrap();
    assert_eq!(config.device_key_storage, DeviceKeyStorage::Software);
    for (text, storage) in [
        ("software", DeviceKeyStorage::Software),
        ("tpm", DeviceKeyStorage::Tpm),
        ("auto", DeviceKeyStorage::Auto),
    ] {
        let config = Config::from_json(&with(&format!(
            r#""tokenEndpointAuthMethod":"private_key_jwt","deviceKeyStorage":"{text}""#
        )))
        .unwrap();
        assert_eq!(config.device_key_storage, storage);
        assert_eq!(storage.as_str(), text);
    }
}

#[test]
fn device_key_storage_names_the_choices() {
    assert_refused_naming(
        &with(r#""deviceKeyStorage":"hardware""#),
        &["`deviceKeyStorage`", "\"software\"", "\"tpm\"", "\"auto\""],
    );
    assert_refused_naming(
        &with(r#""deviceKeyStorage":true"#),
        &["`deviceKeyStorage`", "string"],
    );
    assert_refused_naming(
        &with(r#""deviceKeyStorage":"TPM""#),
        &["`deviceKeyStorage`", "\"tpm\""],
    );
}
