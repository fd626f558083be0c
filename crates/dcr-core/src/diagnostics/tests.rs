use super::*;
use crate::device::signer::KeyHolder;
use crate::session::Credential;

const CONFIG: &str = r#"{"issuer": "https://idsvr.example.com/oauth/v2/oauth-anonymous",
    "registrationClientID": "mobile-dcr-client", "redirectUri": "io.curity.dcrclient:/callback",
    "postLogoutRedirectUri": "io.curity.dcrclient:/logoutcallback", "scope": "openid profile",
    "userAgent": "loopback"}"#;

/// 2026-11-27 19:30:05 UTC.
const NOW: i64 = 1_795_807_805;

fn facts() -> ShellFacts {
    ShellFacts {
        app_version: "1.2.3".into(),
        config_file: Some("/etc/io.curity.dcrclient/config.json".into()),
        config_origin: Some(ConfigOrigin::SystemFile),
        log_file: Some("/home/u/.local/share/io.curity.dcrclient/logs/dcr-client.log".into()),
    }
}

fn signed_in(credential: Credential, thumbprint: Option<&str>) -> StateView {
    StateView {
        state: StateName::SignedIn,
        reason: None,
        registration: Some(RegistrationView {
            client_id: "a1b2c3-client".into(),
            registered_at: NOW - 86_400,
            client_secret_expires_at: Some(NOW + 30 * 86_400),
            templatized: false,
        }),
        user: None,
        access_token_expires_at: Some(NOW + 300),
        refresh_at: Some(NOW + 240),
        token_fingerprint: Some("12345678".into()),
        last_event: None,
        pending_server_cleanup: None,
        issuer_host: "idsvr.example.com".into(),
        credential,
        tokens_bound: thumbprint.is_some(),
        device_key_thumbprint: thumbprint.map(str::to_owned),
        device_key_holder: thumbprint.map(|_| KeyHolder::Software),
        device_key_text: thumbprint.map(|_| KeyHolder::Software.describe()),
        user_agent: "embedded",
        user_agents: vec!["embedded"],
    }
}

#[test]
fn utc_dates_are_proleptic_gregorian() {
    assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
    assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
    assert_eq!(utc(NOW), "2026-11-27 19:30:05 UTC");
    assert_eq!(utc(-1), "1969-12-31 23:59:59 UTC");
}

#[test]
fn the_report_names_every_fact_of_a_client_secret_registration() {
    let config = Config::from_json(CONFIG).expect("valid");
    let view = signed_in(Credential::ClientSecret, None);
    let about = About::new(facts(), Some(&config), Some(&view), NOW);
    assert_eq!(
        about.report,
        "DCR Client diagnostics\n\
         Generated: 2026-11-27 19:30:05 UTC\n\
         App version: 1.2.3\n\
         Platform: "
            .to_owned()
            + &about.platform
            + "\n\
         Config file: /etc/io.curity.dcrclient/config.json\n\
         Config chosen by: the system-wide file (set by an administrator)\n\
         Issuer: https://idsvr.example.com/oauth/v2/oauth-anonymous\n\
         User agent: loopback\n\
         Client authentication: client_secret_basic\n\
         DPoP: no\n\
         State: signed in\n\
         Client ID: a1b2c3-client\n\
         Registered: 2026-11-26 19:30:05 UTC\n\
         Secret expires: 2026-12-27 19:30:05 UTC\n\
         Registration form: full metadata\n\
         Tokens bound to the device key: no\n\
         Log file: /home/u/.local/share/io.curity.dcrclient/logs/dcr-client.log\n\
         No client secret, token, code, registration access token or private key is in this report.\n"
    );
    assert_eq!(
        about.log_folder.as_deref(),
        Some("/home/u/.local/share/io.curity.dcrclient/logs")
    );
    // The token's fingerprint is derived from a token: it stays out of the report and the view.
    let json = serde_json::to_string(&about).expect("serializes");
    assert!(!json.contains("12345678"), "{json}");
    assert!(!about.report.contains("12345678"));
}

#[test]
fn a_device_key_shows_its_thumbprint_and_no_secret_expiry() {
    let config = Config::from_json(CONFIG).expect("valid");
    let thumbprint = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
    let view = signed_in(Credential::DeviceKey, Some(thumbprint));
    let about = About::new(facts(), Some(&config), Some(&view), NOW);
    assert!(about
        .report
        .contains(&format!("Device key thumbprint: {thumbprint}\n")));
    assert!(about
        .report
        .contains("Secret expires: no client secret (device key)\n"));
    assert!(about
        .report
        .contains("Tokens bound to the device key: yes\n"));
    assert!(about
        .report
        .contains("Device key holder: software (Device key stored in the keychain)\n"));
}

#[test]
fn the_report_and_about_name_who_holds_the_device_key_in_the_engines_words() {
    let config = Config::from_json(CONFIG).expect("valid");
    let thumbprint = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
    let mut view = signed_in(Credential::DeviceKey, Some(thumbprint));
    view.device_key_holder = Some(KeyHolder::Tpm);
    view.device_key_text = Some(KeyHolder::Tpm.describe());
    let about = About::new(facts(), Some(&config), Some(&view), NOW);
    assert!(
        about.report.contains(
            "Device key holder: tpm (Device key held by this computer's TPM (cannot be copied))\n"
        ),
        "{}",
        about.report
    );
    // About shows the engine's sentence; the UI keys nothing of its own on the holder.
    let json = serde_json::to_value(&about).expect("serializes");
    assert_eq!(json["deviceKeyHolder"], "tpm");
    assert_eq!(
        json["deviceKeyText"],
        "Device key held by this computer's TPM (cannot be copied)"
    );

    // A client-secret registration without DPoP has no device key: no holder line.
    let secret = signed_in(Credential::ClientSecret, None);
    let about = About::new(facts(), Some(&config), Some(&secret), NOW);
    assert!(
        !about.report.contains("Device key holder"),
        "{}",
        about.report
    );
    assert_eq!(
        serde_json::to_value(&about).expect("serializes")["deviceKeyHolder"],
        serde_json::Value::Null
    );
}

#[test]
fn without_a_config_or_a_session_the_report_says_unknown_not_a_default() {
    let about = About::new(
        ShellFacts {
            app_version: "1.2.3".into(),
            ..ShellFacts::default()
        },
        None,
        None,
        NOW,
    );
    assert!(about.report.contains("Config file: unknown\n"));
    assert!(about.report.contains("Config chosen by: none\n"));
    assert!(about.report.contains("Issuer: unknown\n"));
    assert!(about.report.contains("State: unknown\n"));
    assert!(!about.report.contains("Client ID"));
    assert_eq!(about.log_folder, None);
    let json = serde_json::to_value(&about).expect("serializes");
    assert_eq!(json["appVersion"], "1.2.3");
    assert_eq!(json["configOrigin"], serde_json::Value::Null);
}

#[test]
fn origins_serialize_in_camel_case() {
    let names: Vec<_> = [
        ConfigOrigin::Argument,
        ConfigOrigin::Environment,
        ConfigOrigin::UserFile,
        ConfigOrigin::SystemFile,
        ConfigOrigin::SetupScreen,
    ]
    .into_iter()
    .map(|origin| serde_json::to_value(origin).expect("serializes"))
    .collect();
    assert_eq!(
        serde_json::Value::Array(names),
        serde_json::json!([
            "argument",
            "environment",
            "userFile",
            "systemFile",
            "setupScreen"
        ])
    );
}
